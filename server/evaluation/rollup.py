"""The dashboard's daily roll-up: completed Shanghai days summed per cell, worker and unit.

A year of figures is then ~365 × (cells + workers + units) small rows instead of every case.
Rules that keep it exact (tests/server/test_dashboard_rollup.py compares it with the live
computation on random data):

* Only days before *today* (Shanghai, from the request's `now`) are built; today, future days,
  days never built and days marked dirty are computed live by `metrics.case_figures`.
* Each count is anchored on one time column's day, so a window is a sum of days; the one
  figure that also depends on the window's end (closed *by the end*) is stored as "closed at
  any time" and corrected live for the few days whose `last_closed_at` is after the end.
* Keys are the case's own columns (cell code, assignee, unit); residential areas and the
  street are summed from cells through the grid tree at read time, so publishing a grid
  invalidates nothing (cases it relocates are written, and so marked).
* Every ORM flush touching a case, a rework step or a rating marks the days of its old and
  new values dirty (`mark_dirty_days`, a `before_flush` hook); `catch_up` rebuilds them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import and_, case, delete, event, func, insert, or_, select, text
from sqlalchemy.orm import Session, attributes

from server.cases.models import Case, CaseEvent
from server.enums import CaseStatus, Priority
from server.evaluation import metrics
from server.evaluation.metrics import CLOSED, Figures, Window, local_day, plain, seconds_between
from server.evaluation.models import (
    CaseRating,
    DashboardBuiltDay,
    DashboardDay,
    DashboardDirtyDay,
)
from server.timezones import shanghai_date
from sync.db import utcnow

DIMS = ("cell", "worker", "unit")
DAY_COLUMNS = ("reported_at", "opened_at", "dispatched_at", "due_at", "closed_at")
#: Case attributes a figure reads; KEYED ones also move the case's rework steps and rating.
KEYED = ("cell_code", "assignee_id", "unit_id", "source_flag")
WATCHED = (
    *DAY_COLUMNS,
    *KEYED,
    "handled_at",
    "status",
    "priority",
    "postponed",
    "merged_into_id",
)
SUMMED = tuple(
    c.name for c in DashboardDay.__table__.columns if c.name not in ("id", "day", "dim", "key")
)
ONE_DAY = dt.timedelta(days=1)


def _dim_column(dim: str) -> Any:
    return {"cell": Case.cell_code, "worker": Case.assignee_id, "unit": Case.unit_id}[dim]


def _key_value(dim: str, key: str | None) -> Any:
    if key is None or dim == "cell":
        return key
    return int(key)


def runs(days: Iterable[dt.date]) -> Iterator[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) pairs.

    >>> d = dt.date(2026, 11, 1)
    >>> list(runs([d, d + ONE_DAY, d + 3 * ONE_DAY]))  # doctest: +ELLIPSIS
    [(datetime.date(2026, 11, 1), datetime.date(2026, 11, 2)), (...4), ...4))]
    """
    first = last = None
    for day in sorted(set(days)):
        if last is not None and day == last + ONE_DAY:
            last = day
            continue
        if first is not None and last is not None:
            yield first, last
        first = last = day
    if first is not None and last is not None:
        yield first, last


# --- dirty marks -------------------------------------------------------------------------


def _values(obj: Any, name: str) -> list[Any]:
    """The attribute's old and new values in this flush (the current one when unchanged)."""
    history = attributes.get_history(obj, name)
    return [*history.added, *history.unchanged, *history.deleted]


def _changed(obj: Any, names: Iterable[str]) -> bool:
    # An attribute never loaded was not changed: asking must not load it (no query per case).
    quiet = attributes.PASSIVE_NO_INITIALIZE
    return any(attributes.get_history(obj, n, passive=quiet).has_changes() for n in names)


def _days_of(values: Iterable[Any]) -> set[dt.date]:
    return {shanghai_date(v) for v in values if isinstance(v, dt.datetime) and v.tzinfo}


def mark_dirty_days(session: Session, _context: Any = None, _instances: Any = None) -> None:
    """`before_flush` hook: mark the days whose roll-up the pending changes make stale."""
    days: set[dt.date] = set()
    rekeyed: list[Any] = []
    with session.no_autoflush:
        for obj in [*session.new, *session.dirty, *session.deleted]:
            fresh = obj in session.new or obj in session.deleted
            if isinstance(obj, Case) and (fresh or _changed(obj, WATCHED)):
                for name in DAY_COLUMNS:
                    days |= _days_of(_values(obj, name))
                if not fresh and _changed(obj, KEYED):
                    rekeyed.append(obj.id)
            elif isinstance(obj, CaseEvent) and "rework" in _values(obj, "kind"):
                if fresh or _changed(obj, ("at", "kind", "case_id")):
                    days |= _days_of(_values(obj, "at"))
            elif isinstance(obj, CaseRating) and (fresh or _changed(obj, ("at", "case_id"))):
                days |= _days_of(_values(obj, "at"))
        if rekeyed:  # a case moved to another cell, worker or unit: its steps and rating too
            moved = select(CaseEvent.at).where(
                CaseEvent.case_id.in_(rekeyed), CaseEvent.kind == "rework"
            )
            rated = select(CaseRating.at).where(CaseRating.case_id.in_(rekeyed))
            days |= _days_of(session.scalars(moved).all())
            days |= _days_of(session.scalars(rated).all())
    session.add_all(DashboardDirtyDay(day=d) for d in sorted(days))


def watch_writes() -> None:
    """Install the hook on every ORM session (once; called by the app factory)."""
    if not event.contains(Session, "before_flush", mark_dirty_days):
        event.listen(Session, "before_flush", mark_dirty_days)


# --- building ----------------------------------------------------------------------------


def _grouped(
    session: Session, anchor: Any, dim: str, cols: list[Any], *where: Any, join: Any = None
) -> list[Any]:
    day = local_day(session, anchor)
    key = plain(session, _dim_column(dim))  # leave SQLite the time column's index
    query = select(day, key, *cols)
    if join is not None:
        query = query.select_from(join)
    return list(session.execute(query.where(*where).group_by(day, key)).all())


def _count_if(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _since_report(column: Any) -> tuple[Any, Any]:
    return column, Case.reported_at


def _measures(session: Session) -> list[tuple[Any, list[str], list[Any], list[Any], Any]]:
    """(anchor column, names, SQL sums, extra conditions, join) for each anchored query."""
    status = plain(session, Case.status)
    closed = and_(status.in_(CLOSED), Case.closed_at.is_not(None))
    on_time = and_(closed, Case.postponed.is_(False), Case.handled_at <= Case.due_at)
    urgent = Case.priority == Priority.URGENT
    return [
        (
            Case.reported_at,
            ["reported", "received"],
            [func.count(), _count_if(plain(session, Case.merged_into_id).is_(None))],
            [],
            None,
        ),
        (Case.opened_at, ["accepted"], [func.count()], [], None),
        (
            Case.dispatched_at,
            ["dispatch_n", "dispatch_seconds"],
            [
                func.count(),
                func.sum(seconds_between(session, Case.dispatched_at, Case.reported_at)),
            ],
            [],
            None,
        ),
        (
            Case.closed_at,
            ["close_n", "close_seconds"],
            [func.count(), func.sum(seconds_between(session, *_since_report(Case.closed_at)))],
            [status.in_(CLOSED)],
            None,
        ),
        (
            Case.due_at,
            [
                "due",
                "closed",
                "closed_on_time",
                "postponed",
                "urgent_due",
                "urgent_closed",
                "urgent_on_time",
                "urgent_postponed",
                "last_closed_at",
            ],
            [
                func.count(),
                _count_if(closed),
                _count_if(on_time),
                _count_if(Case.postponed.is_(True)),
                _count_if(urgent),
                _count_if(and_(closed, urgent)),
                _count_if(and_(on_time, urgent)),
                _count_if(and_(Case.postponed.is_(True), urgent)),
                func.max(case((closed, Case.closed_at), else_=None)),
            ],
            [status != CaseStatus.CANCELLED],
            None,
        ),
        (
            CaseEvent.at,
            ["rework", "rework_flagged"],
            [func.count(), _count_if(Case.source_flag.is_not(None))],
            [CaseEvent.kind == "rework"],
            CaseEvent.__table__.join(Case.__table__, CaseEvent.case_id == Case.id),
        ),
        (
            CaseRating.at,
            ["ratings", "rating_sum"],
            [func.count(), func.sum(CaseRating.score)],
            [],
            CaseRating.__table__.join(Case.__table__, CaseRating.case_id == Case.id),
        ),
    ]


def build_days(session: Session, days: Iterable[dt.date]) -> int:
    """Recompute the roll-up of `days` from the facts (replacing what was there); the count."""
    built = 0
    for first, last in runs(days):
        window = Window.days(first, last)
        session.execute(delete(DashboardDay).where(DashboardDay.day.between(first, last)))
        session.execute(delete(DashboardBuiltDay).where(DashboardBuiltDay.day.between(first, last)))
        rows: dict[tuple[dt.date, str, str | None], dict[str, Any]] = {}
        last_closed: dict[dt.date, dt.datetime] = {}
        for anchor, names, cols, where, join in _measures(session):
            for dim in DIMS:
                for day_text, key, *values in _grouped(
                    session,
                    anchor,
                    dim,
                    cols,
                    anchor >= window.start,
                    anchor < window.end,
                    *where,
                    join=join,
                ):
                    day = dt.date.fromisoformat(day_text)
                    row = rows.setdefault(
                        (day, dim, None if key is None else str(key)),
                        {n: 0 for n in SUMMED},
                    )
                    for name, value in zip(names, values, strict=True):
                        if name == "last_closed_at":
                            latest = metrics._aware(value)
                            if latest is not None:
                                last_closed[day] = max(latest, last_closed.get(day, latest))
                        else:
                            row[name] = value or 0
        if rows:
            session.execute(
                insert(DashboardDay),
                [{"day": d, "dim": dim, "key": k, **v} for (d, dim, k), v in rows.items()],
            )
        at = utcnow()
        span = [first + n * ONE_DAY for n in range((last - first).days + 1)]
        session.execute(
            insert(DashboardBuiltDay),
            [{"day": d, "built_at": at, "last_closed_at": last_closed.get(d)} for d in span],
        )
        built += len(span)
    return built


def _lock(session: Session) -> bool:
    """Serialise builders: False when another one holds the lock (PostgreSQL; try, not wait).

    On SQLite the first write takes the database's write lock, so it comes first.
    """
    if session.get_bind().dialect.name == "postgresql":
        return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(74170009)")))
    session.execute(delete(DashboardDirtyDay).where(text("0 = 1")))
    return True


def catch_up(
    session: Session, *, now: dt.datetime, limit: int | None = None, rebuild: bool = False
) -> int:
    """Build the dirty and never-built past days, newest first, at most `limit`; the count.

    The caller commits. Marks written while this runs are kept (only the ones seen go).
    """
    if not _lock(session):
        return 0
    today = shanghai_date(now)
    if rebuild:
        session.execute(delete(DashboardBuiltDay))
        session.execute(delete(DashboardDay))
    marks = session.execute(select(DashboardDirtyDay.id, DashboardDirtyDay.day)).all()
    built = set(session.scalars(select(DashboardBuiltDay.day)))
    earliest = session.scalar(select(func.min(Case.reported_at)))
    todo = {day for _id, day in marks if day < today}
    if earliest is not None:
        day = shanghai_date(metrics._aware(earliest) or now)
        while day < today:
            if day not in built:
                todo.add(day)
            day += ONE_DAY
    chosen = sorted(todo, reverse=True)[:limit] if limit is not None else sorted(todo)
    done = build_days(session, chosen)
    spent = [i for i, day in marks if day in set(chosen)]
    for n in range(0, len(spent), 500):
        session.execute(
            delete(DashboardDirtyDay).where(DashboardDirtyDay.id.in_(spent[n : n + 500]))
        )
    return done


# --- reading -----------------------------------------------------------------------------


def _days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + n * ONE_DAY for n in range((last - first).days + 1)]


def split(
    session: Session, window: Window, *, now: dt.datetime
) -> tuple[dict[dt.date, dt.datetime | None], list[tuple[dt.date, dt.date]]] | None:
    """The window's usable rolled days (→ last closing) and the runs to compute live.

    None when the window does not start and end at Shanghai midnights.
    """
    first = shanghai_date(window.start)
    last = shanghai_date(window.end - dt.timedelta(microseconds=1))
    if Window.days(first, last) != window:
        return None
    newest = min(last, shanghai_date(now) - ONE_DAY)
    rolled: dict[dt.date, dt.datetime | None] = {}
    if newest >= first:
        built = session.execute(
            select(DashboardBuiltDay.day, DashboardBuiltDay.last_closed_at).where(
                DashboardBuiltDay.day.between(first, newest)
            )
        ).all()
        dirty = set(
            session.scalars(
                select(DashboardDirtyDay.day).where(DashboardDirtyDay.day.between(first, newest))
            )
        )
        rolled = {day: closed for day, closed in built if day not in dirty}
    live = list(runs(d for d in _days_between(first, last) if d not in rolled))
    return rolled, live


def _in_runs(column: Any, spans: list[tuple[dt.date, dt.date]]) -> Any:
    return or_(*(column.between(a, b) for a, b in spans))


def rolled_figures(
    session: Session,
    rolled: dict[dt.date, dt.datetime | None],
    dim: str,
    *,
    as_of: dt.datetime,
) -> dict[Any, Figures]:
    """Figures per raw key summed over the rolled days, closings after `as_of` taken out."""
    out: dict[Any, Figures] = defaultdict(Figures)
    if not rolled:
        return out
    spans = list(runs(rolled))
    names = [n for n in SUMMED if n != "reported"]
    query = (
        select(DashboardDay.key, *(func.sum(getattr(DashboardDay, n)) for n in names))
        .where(DashboardDay.dim == dim, _in_runs(DashboardDay.day, spans))
        .group_by(DashboardDay.key)
    )
    for key, *values in session.execute(query):
        f = out[_key_value(dim, key)]
        for name, value in zip(names, values, strict=True):
            kind = float if name.endswith("_seconds") else int
            setattr(f, name, kind(value or 0))
    late = [day for day, closed in rolled.items() if closed is not None and closed >= as_of]
    if late:
        for key, closed, on_time, urgent, urgent_on_time in _closed_after(
            session, dim, list(runs(late)), as_of=as_of
        ):
            f = out[key]
            f.closed -= int(closed or 0)
            f.closed_on_time -= int(on_time or 0)
            f.urgent_closed -= int(urgent or 0)
            f.urgent_on_time -= int(urgent_on_time or 0)
    return out


def _closed_after(
    session: Session, dim: str, spans: list[tuple[dt.date, dt.date]], *, as_of: dt.datetime
) -> list[Any]:
    """Per key: cases due in `spans` closed at or after `as_of` (the rolled count has them)."""
    urgent = Case.priority == Priority.URGENT
    on_time = and_(Case.postponed.is_(False), Case.handled_at <= Case.due_at)
    due_in = or_(
        *(
            and_(Case.due_at >= Window.days(a, b).start, Case.due_at < Window.days(a, b).end)
            for a, b in spans
        )
    )
    key = plain(session, _dim_column(dim))
    query = (
        select(
            key,
            func.count(),
            _count_if(on_time),
            _count_if(urgent),
            _count_if(and_(on_time, urgent)),
        )
        .where(due_in, plain(session, Case.status).in_(CLOSED), Case.closed_at >= as_of)
        .group_by(key)
    )
    return list(session.execute(query).all())


def rolled_trend(
    session: Session, rolled: dict[dt.date, dt.datetime | None]
) -> dict[str, tuple[int, int]]:
    """Day (YYYY-MM-DD) → (reported, closed) over the rolled days."""
    if not rolled:
        return {}
    query = (
        select(DashboardDay.day, func.sum(DashboardDay.reported), func.sum(DashboardDay.close_n))
        .where(DashboardDay.dim == "cell", _in_runs(DashboardDay.day, list(runs(rolled))))
        .group_by(DashboardDay.day)
    )
    return {d.isoformat(): (int(r or 0), int(c or 0)) for d, r, c in session.execute(query)}


def case_figures(
    session: Session, window: Window, dim: str, *, now: dt.datetime
) -> dict[Any, Figures]:
    """`metrics.case_figures`, from the roll-up where it can be and live elsewhere."""
    parts = split(session, window, now=now)
    if parts is None:
        return metrics.case_figures(session, window, dim, now=now)
    rolled, live = parts
    as_of = min(window.end, now)
    out = rolled_figures(session, rolled, dim, as_of=as_of)
    for first, last in live:
        part = metrics.case_figures(session, Window.days(first, last), dim, now=now, as_of=as_of)
        for key, figures in part.items():
            out[key].add(figures)
    return out


def trend(session: Session, window: Window, *, now: dt.datetime) -> list[tuple[str, int, int]]:
    """`metrics.trend`, from the roll-up where it can be and live elsewhere."""
    parts = split(session, window, now=now)
    if parts is None:
        return metrics.trend(session, window)
    rolled, live = parts
    counts = rolled_trend(session, rolled)
    for first, last in live:
        counts.update(metrics.trend_counts(session, Window.days(first, last)))
    return metrics.trend_days(window, counts)
