"""The daily roll-up gives the dashboard exactly the figures computed from the cases.

Random streets (cases at random times and states, rework steps, ratings), rolled up, then
changed the ways the office changes them (late closings, reopenings, moved cells, backdated
ratings, new cases on old days), partly caught up, and compared with the live computation
for random windows, every grouping and several "now"s.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import pytest

from server.cases.models import Case, CaseEvent
from server.enums import CaseStatus, Channel, Priority
from server.evaluation import metrics, rollup
from server.evaluation.models import CaseRating, DashboardBuiltDay, DashboardDirtyDay
from server.extensions import db
from sync.db import utcnow

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
FIRST = dt.date(2026, 10, 10)
FLOATS = ("dispatch_seconds", "close_seconds")


def _when(rng: random.Random, base: dt.datetime, max_hours: float) -> dt.datetime:
    # Whole-second times a third of the time: exact midnights and ties with deadlines happen.
    at = base + dt.timedelta(hours=rng.uniform(0, max_hours))
    return at.replace(microsecond=0) if rng.random() < 0.3 else at


def _random_case(rng: random.Random, world: Any, n: int) -> Case:
    reported = _when(rng, dt.datetime(2026, 10, 10, tzinfo=dt.UTC), 50 * 24)
    status = rng.choice(list(CaseStatus))
    stage = [
        CaseStatus.REPORTED,
        CaseStatus.OPENED,
        CaseStatus.DISPATCHED,
        CaseStatus.HANDLING,
        CaseStatus.HANDLED,
        CaseStatus.CLOSED,
        CaseStatus.EVALUATED,
    ]
    depth = stage.index(status) if status in stage else rng.randrange(0, 3)
    opened = _when(rng, reported, 5) if depth >= 1 else None
    dispatched = _when(rng, opened, 12) if opened and depth >= 2 else None
    due = dispatched + dt.timedelta(hours=rng.choice((2, 24, 72))) if dispatched else None
    handled = _when(rng, dispatched, 100) if dispatched and depth >= 4 else None
    closed = _when(rng, handled, 30) if handled and depth >= 5 else None
    return Case(
        id=uuid.uuid4(),
        number=f"R-{n:05d}",
        channel=Channel.HOTLINE,
        priority=rng.choice(list(Priority)),
        status=status,
        title="random",
        cell_code=rng.choice(("G1", "G2", "G2", None)),
        assignee_id=rng.choice([*(u.id for u in world.users.values()), None]),
        unit_id=rng.choice([*(u.id for u in world.units.values()), None]),
        reported_at=reported,
        opened_at=opened,
        dispatched_at=dispatched,
        due_at=due,
        handled_at=handled,
        closed_at=closed,
        postponed=rng.random() < 0.15,
        source_flag=rng.choice((None, None, "leader", "media")),
    )


def _street(rng: random.Random, world: Any, n_cases: int) -> list[Case]:
    cases = [_random_case(rng, world, n) for n in range(n_cases)]
    db.session.add_all(cases)
    db.session.flush()
    for case in rng.sample(cases, n_cases // 10):  # merged duplicates
        case.status, case.merged_into_id = CaseStatus.CANCELLED, rng.choice(cases).id
    for n, case in enumerate(rng.sample(cases, n_cases // 4)):
        db.session.add(
            CaseEvent(
                case_id=case.id, seq=n + 1, kind="rework", at=_when(rng, case.reported_at, 200)
            )
        )
    for case in rng.sample(cases, n_cases // 4):
        at = _when(rng, case.closed_at or case.reported_at, 100)
        db.session.add(CaseRating(case_id=case.id, score=rng.randint(1, 5), source="worker", at=at))
    db.session.commit()
    return cases


def _change(rng: random.Random, world: Any, cases: list[Case]) -> None:
    """Writes that reach back into rolled-up days (each through the ORM, as the app does)."""
    for case in rng.sample(cases, 12):
        what = rng.randrange(6)
        if what == 0 and case.handled_at:  # closed late (today) or reopened
            case.status = (
                CaseStatus.CLOSED if case.status != CaseStatus.CLOSED else CaseStatus.HANDLED
            )
            case.closed_at = (
                NOW - dt.timedelta(hours=1) if case.status == CaseStatus.CLOSED else None
            )
        elif what == 1 and case.due_at:  # postponed: the deadline moves back
            case.postponed = True
            case.due_at += dt.timedelta(days=rng.randint(1, 6))
        elif what == 2:  # moved to another cell, worker and unit (its rework and rating too)
            case.cell_code = rng.choice(("G1", "G2", None))
            case.assignee_id = rng.choice([u.id for u in world.users.values()])
            case.unit_id = rng.choice([u.id for u in world.units.values()])
        elif what == 3:  # merged into another report
            case.status, case.merged_into_id = CaseStatus.CANCELLED, rng.choice(cases).id
        elif what == 4:  # backdated rating / rework
            if (
                db.session.query(CaseRating).filter_by(case_id=case.id).count() == 0
                and rng.random() < 0.5
            ):
                db.session.add(
                    CaseRating(case_id=case.id, score=2, source="worker", at=case.reported_at)
                )
            else:
                db.session.add(
                    CaseEvent(case_id=case.id, seq=99, kind="rework", at=case.reported_at)
                )
        else:  # a report synced late onto an old day
            db.session.add(_random_case(rng, world, 10_000 + len(cases) + rng.randrange(10**6)))
    db.session.commit()


def _same(fast: metrics.Figures, slow: metrics.Figures, where: Any) -> None:
    for name in metrics._COUNTS:
        a, b = getattr(fast, name), getattr(slow, name)
        if name in FLOATS:  # summed per day, then per window: the same up to rounding
            assert a == pytest.approx(b, rel=1e-12, abs=1e-6), (where, name)
        else:
            assert a == b, (where, name)


def _compare(rng: random.Random, *, now: dt.datetime, windows: int = 6) -> None:
    for _ in range(windows):
        first = FIRST + dt.timedelta(days=rng.randrange(0, 50))
        last = first + dt.timedelta(days=rng.randrange(0, 60))
        window = metrics.Window.days(first, last)
        for group in metrics.GROUPS:
            fast, fast_total = metrics.dashboard(db.session, window, group, now=now)
            slow, slow_total = metrics.dashboard(db.session, window, group, now=now, fast=False)
            where = (first, last, group, now)
            assert set(fast) == set(slow), where
            for key in slow:
                _same(fast[key], slow[key], (*where, key))
            _same(fast_total, slow_total, where)
        assert rollup.trend(db.session, window, now=now) == metrics.trend(db.session, window)


def _past_marks() -> int:
    return db.session.query(DashboardDirtyDay).filter(DashboardDirtyDay.day < NOW.date()).count()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rolled_up_figures_equal_the_live_ones_on_random_streets(app, world, seed):
    rng = random.Random(seed)
    cases = _street(rng, world, 160)
    assert rollup.catch_up(db.session, now=NOW) > 40
    db.session.commit()
    assert _past_marks() == 0  # marks of today and later stay until those days are past
    _compare(rng, now=NOW)
    _change(rng, world, cases)
    assert _past_marks() > 0
    _compare(rng, now=NOW)  # dirty days computed live
    rollup.catch_up(db.session, now=NOW, limit=5)
    db.session.commit()
    _compare(rng, now=NOW)  # some rebuilt, some still dirty
    _compare(rng, now=NOW - dt.timedelta(days=9, hours=5))  # built days after "today" unused
    rollup.catch_up(db.session, now=NOW)
    db.session.commit()
    assert _past_marks() == 0
    _compare(rng, now=NOW + dt.timedelta(days=3))  # a report run later sees later closings


def test_a_late_closing_marks_its_due_day_and_the_dashboard_counts_it(app, world):
    rng = random.Random(7)
    cases = _street(rng, world, 60)
    rollup.catch_up(db.session, now=NOW)
    db.session.commit()
    case = next(
        c for c in cases if c.status == CaseStatus.HANDLED and c.due_at < NOW - dt.timedelta(days=2)
    )
    case.status, case.closed_at, case.closed_by_id = CaseStatus.CLOSED, NOW, None
    db.session.commit()
    due_day = case.due_at.astimezone(metrics.SHANGHAI).date()
    assert db.session.query(DashboardDirtyDay).filter_by(day=due_day).count() == 1
    window = metrics.Window.days(due_day, due_day)
    later = NOW + dt.timedelta(minutes=1)
    fast, _ = metrics.dashboard(db.session, window, "street", now=later)
    slow, _ = metrics.dashboard(db.session, window, "street", now=later, fast=False)
    assert fast["street"].closed == slow["street"].closed


def test_the_cli_rolls_up_and_rebuilds(app, world):
    _street(random.Random(3), world, 40)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["dashboard", "rollup", "--now", NOW.isoformat()])
    assert first.exit_code == 0, first.output
    assert "day(s) rolled up" in first.output
    again = runner.invoke(args=["dashboard", "rollup", "--now", NOW.isoformat()])
    assert again.output.startswith("0 day(s)")
    built = db.session.query(DashboardBuiltDay).count()
    rebuilt = runner.invoke(args=["dashboard", "rollup", "--rebuild", "--now", NOW.isoformat()])
    assert rebuilt.output.startswith(f"{built} day(s)")
    assert utcnow()  # the clock used for built_at is the real one (it is only informative)
