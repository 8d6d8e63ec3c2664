"""Deadlines, postponement and escalation of overdue cases, with a controlled clock."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select

from server.audit.operations import AccessContext
from server.cases import operations as ops
from server.cases.coverage import actor_for
from server.cases.deadlines import is_overdue, time_left
from server.cases.escalation import escalate_overdue
from server.cases.models import Case, CaseEvent
from server.enums import CaseStatus, Channel, Priority
from server.exceptions import PermissionDenied
from server.extensions import db
from server.grid.models import Duty
from server.notices.models import Notice
from tests.server.backoffice_world import IN_G1
from tests.server.conftest import login

H = dt.timedelta(hours=1)
DAY = dt.timedelta(hours=24)


def actor(world, name):
    return actor_for(db.session, world.users[name], on=world.clock.now.date())


def dispatched_case(world, *, priority=Priority.URGENT):
    """An urgent A05-01 case (limit 2 h) in G1, dispatched now."""
    case = ops.create_case(
        db.session,
        world.users["d1"],
        ops.Intake(
            Channel.HOTLINE,
            "电线裸露",
            world.items["A05-01"].id,
            priority,
            lon=IN_G1[0],
            lat=IN_G1[1],
        ),
        at=world.clock.now,
        context=AccessContext(world.users["d1"].id),
        prefix="XH",
    )
    desk = actor(world, "d1")
    ops.apply_transition(db.session, case, desk, CaseStatus.OPENED, at=world.clock.now)
    ops.dispatch_case(
        db.session, case, desk, at=world.clock.now, unit_id=world.units["U-GD"].id, assignee_id=None
    )
    db.session.commit()
    return case


def notices_by_level(world):
    rows = db.session.execute(select(Notice.level, Notice.user_id).order_by(Notice.level))
    names = {u.id: n for n, u in world.users.items()}
    return [(level, names[user]) for level, user in rows]


def run(world):
    done = escalate_overdue(db.session, now=world.clock.now, interval=DAY)
    db.session.commit()
    return done


def test_the_clock_starts_at_dispatch_and_runs_out_at_the_items_limit(app, world):
    case = dispatched_case(world)
    assert case.due_at - case.dispatched_at == 2 * H
    assert time_left(case, world.clock.now) == 2 * H
    world.clock.advance(hours=2, minutes=1)
    assert is_overdue(case, world.clock.now)


def test_an_overdue_case_climbs_one_level_per_interval_and_notifies_once(app, world):
    case = dispatched_case(world)
    world.clock.advance(hours=1)
    assert run(world) == []
    world.clock.advance(hours=2)  # 1 h overdue: the block's people
    assert [(e.level, e.cell_code) for e in run(world)] == [(1, "S-A1-B1")]
    assert run(world) == []  # idempotent: cron and queue loads may both call it
    world.clock.advance(hours=24)  # 25 h overdue: the residential area's
    assert [(e.level, e.cell_code) for e in run(world)] == [(2, "S-A1")]
    world.clock.advance(hours=100)  # far overdue: the street, and no higher
    assert [(e.level, e.cell_code) for e in run(world)] == [(3, "S")]
    world.clock.advance(hours=100)
    assert run(world) == []
    assert notices_by_level(world) == [(1, "wb"), (2, "wa"), (3, "mgr")]
    assert db.session.get(Case, case.id).escalation_level == 3
    kinds = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id))
    assert list(kinds).count("escalated") == 3


def test_a_case_far_overdue_at_the_first_run_notifies_every_level_up_to_its_own(app, world):
    dispatched_case(world)
    world.clock.advance(hours=2 + 30)
    assert [e.level for e in run(world)] == [1, 2]
    assert notices_by_level(world) == [(1, "wb"), (2, "wa")]


def test_the_queue_load_escalates_and_the_badge_counts_the_notice(app, world):
    dispatched_case(world)
    world.clock.advance(hours=3)
    client = app.test_client()
    login(client, "d1")
    html = client.get("/cases/?view=overdue").get_data(as_text=True)
    assert "is-overdue" in html and "已超时" in html
    block = app.test_client()
    login(block, "wb")
    page = block.get("/notices/").get_data(as_text=True)
    assert "超时案件已升级给您(第 1 级)" in page
    assert 'class="badge"' in page


def test_the_escalate_command_runs_at_a_given_time(app, world):
    dispatched_case(world)
    later = (world.clock.now + 3 * H).isoformat()
    result = app.test_cli_runner().invoke(args=["cases", "escalate", "--now", later])
    assert result.exit_code == 0, result.output
    assert "level 1  S-A1-B1  notified 1" in result.output
    assert "1 escalation(s)" in result.output


def test_a_postponement_needs_approval_pauses_the_clock_and_extends_the_deadline(app, world):
    case = dispatched_case(world)
    due = case.due_at
    world.clock.advance(hours=1)
    ops.request_postponement(
        db.session, case, actor(world, "d1"), at=world.clock.now, reason="等待供电公司停电窗口"
    )
    with pytest.raises(PermissionDenied):  # a dispatcher may ask, not approve
        ops.decide_postponement(
            db.session, case, actor(world, "d1"), at=world.clock.now, approve=True
        )
    ops.decide_postponement(db.session, case, actor(world, "mgr"), at=world.clock.now, approve=True)
    db.session.commit()
    world.clock.advance(hours=10)  # paused: the clock stands still, nothing escalates
    assert time_left(case, world.clock.now) == H
    assert run(world) == []
    ops.resume_case(db.session, case, actor(world, "d1"), at=world.clock.now)
    db.session.commit()
    assert case.due_at == due + 10 * H and case.paused_seconds == 10 * 3600
    assert case.postponed is True
    world.clock.advance(minutes=59)
    assert not is_overdue(case, world.clock.now)
    world.clock.advance(minutes=2)
    assert is_overdue(case, world.clock.now)


def test_rework_keeps_the_original_deadline(app, world):
    case = dispatched_case(world)
    due = case.due_at
    worker, deputy = actor(world, "w1"), actor(world, "w2")
    ops.record_feedback(db.session, case, worker, at=world.clock.now, note="done")
    ops.apply_transition(
        db.session, case, deputy, CaseStatus.DISPATCHED, at=world.clock.now, note="没修好"
    )
    db.session.commit()
    assert (case.status, case.rework_count, case.due_at) == (CaseStatus.DISPATCHED, 1, due)


def test_an_urgent_matters_clock_starts_at_intake_and_dispatch_keeps_it(app, world):
    intake_time = world.clock.now
    case = ops.create_case(
        db.session,
        world.users["d1"],
        ops.Intake(
            Channel.HOTLINE,
            "电线裸露",
            world.items["A05-01"].id,
            Priority.URGENT,
            lon=IN_G1[0],
            lat=IN_G1[1],
        ),
        at=intake_time,
        context=AccessContext(world.users["d1"].id),
        prefix="XH",
    )
    db.session.commit()
    assert case.due_at == intake_time + 2 * H  # A05-01's urgent limit, from the call
    world.clock.advance(minutes=30)  # waiting to be opened: the clock runs
    assert time_left(case, world.clock.now) == 90 * dt.timedelta(minutes=1)
    desk = actor(world, "d1")
    ops.apply_transition(db.session, case, desk, CaseStatus.OPENED, at=world.clock.now)
    ops.dispatch_case(
        db.session, case, desk, at=world.clock.now, unit_id=world.units["U-GD"].id, assignee_id=None
    )
    db.session.commit()
    assert (case.dispatched_at, case.due_at) == (
        intake_time + 30 * dt.timedelta(minutes=1),
        intake_time + 2 * H,
    )
    world.clock.advance(hours=1, minutes=31)  # 2 h 1 min after the call: overdue, escalated
    assert is_overdue(case, world.clock.now)
    assert [e.level for e in run(world)] == [1]


def test_an_urgent_matter_never_opened_is_overdue_and_escalates(app, world):
    ops.create_case(
        db.session,
        world.users["d1"],
        ops.Intake(
            Channel.HOTLINE,
            "电线裸露",
            world.items["A05-01"].id,
            Priority.URGENT,
            lon=IN_G1[0],
            lat=IN_G1[1],
        ),
        at=world.clock.now,
        context=AccessContext(world.users["d1"].id),
        prefix="XH",
    )
    db.session.commit()
    world.clock.advance(hours=3)
    assert [(e.level, e.cell_code) for e in run(world)] == [(1, "S-A1-B1")]


def test_a_normal_matters_clock_still_starts_at_dispatch(app, world):
    case = ops.create_case(
        db.session,
        world.users["d1"],
        ops.Intake(
            Channel.HOTLINE,
            "电线裸露",
            world.items["A05-01"].id,
            Priority.NORMAL,
            lon=IN_G1[0],
            lat=IN_G1[1],
        ),
        at=world.clock.now,
        context=AccessContext(world.users["d1"].id),
        prefix="XH",
    )
    db.session.commit()
    assert case.due_at is None and time_left(case, world.clock.now) is None
    world.clock.advance(hours=100)
    assert run(world) == []


def test_a_person_answering_for_two_levels_gets_one_notice_raised_to_the_higher(app, world):
    # The block has nobody on duty: its level-1 notice goes up to the residential area's
    # worker (属地兜底), who is also level 2's. One notice, raised, unread again.
    db.session.execute(delete(Duty).where(Duty.user_id == world.users["wb"].id))
    db.session.commit()
    case = dispatched_case(world)
    world.clock.advance(hours=3)
    assert [(e.level, e.user_ids) for e in run(world)] == [(1, (world.users["wa"].id,))]
    assert notices_by_level(world) == [(1, "wa")]
    first = db.session.scalars(select(Notice)).one()
    first.read_at = world.clock.now
    db.session.commit()
    world.clock.advance(hours=24)
    assert [e.level for e in run(world)] == [2]
    assert notices_by_level(world) == [(2, "wa")]
    raised = db.session.scalars(select(Notice)).one()
    assert (raised.id, raised.read_at, raised.created_at) == (first.id, None, world.clock.now)
    # A case far overdue at its first run: still one notice per person, at the top level.
    other = dispatched_case(world)
    world.clock.advance(hours=2 + 30)
    run(world)
    mine = (
        db.session.execute(
            select(Notice.level).where(
                Notice.case_id == other.id, Notice.user_id == world.users["wa"].id
            )
        )
        .scalars()
        .all()
    )
    assert mine == [2]
    assert case.id != other.id


def test_the_notices_page_shows_one_line_per_escalated_case(app, world):
    db.session.execute(delete(Duty).where(Duty.user_id == world.users["wb"].id))
    db.session.commit()
    dispatched_case(world)
    world.clock.advance(hours=3 + 24)
    run(world)
    client = app.test_client()
    login(client, "wa")
    page = client.get("/notices/").get_data(as_text=True)
    assert page.count("超时案件已升级给您") == 1
    assert "(第 2 级)" in page
