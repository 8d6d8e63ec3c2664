"""Hand-made posts to the manager's evaluation form and the postponement form: every bad value
gets a 4xx with the page saying why, and nothing is written (never a 5xx from the database)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.cases import operations as ops
from server.enums import CaseStatus
from server.evaluation.models import StaffEvaluation
from server.extensions import db
from tests.server.backoffice_world import post_form
from tests.server.conftest import signed_in
from tests.server.test_deadlines_and_escalation import actor, dispatched_case


def evaluation(world, **changes):
    data = {
        "subject": f"user:{world.users['wb'].id}",
        "level": "block",
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
        "score": "90",
        "comment": "走访到位",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "user:999999"},  # nobody
        {"subject": "unit:999999"},
        {"subject": "user:100000000000000000000000000000"},  # no integer column holds it
        {"subject": "user:-1"},
        {"subject": "nobody"},
        {"level": "x" * 40},  # longer than the column
        {"level": "galaxy"},  # not a level
        {"score": "nan"},
        {"score": "1e400"},
        {"period_start": "0001-01-01", "period_end": "9999-12-31"},
        {"period_start": "2026-13-01"},
        {"comment": "很长" * 1001},
    ],
    ids=lambda c: ",".join(c),
)
def test_a_bad_evaluation_is_refused_and_nothing_written(app, world, changes):
    manager = signed_in(app, "mgr")
    answer = post_form(
        manager,
        "/dashboard/evaluations",
        evaluation(world, **changes),
        token_from="/dashboard/evaluations",
    )
    assert answer.status_code == 422, answer.status_code
    assert "error" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(StaffEvaluation)) == 0


def test_a_good_evaluation_still_goes_in(app, world):
    manager = signed_in(app, "mgr")
    answer = post_form(
        manager, "/dashboard/evaluations", evaluation(world), token_from="/dashboard/evaluations"
    )
    assert answer.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(StaffEvaluation)) == 1


def test_a_postponement_reason_or_decision_past_the_limit_is_refused(app, world):
    case = dispatched_case(world)
    ops.apply_transition(
        db.session, case, actor(world, "d1"), CaseStatus.HANDLING, at=world.clock.now
    )
    db.session.commit()
    desk = signed_in(app, "d1")
    path = f"/cases/{case.id}/postpone"
    long = post_form(desk, path, {"note": "等" * 4001}, token_from=f"/cases/{case.id}")
    assert long.status_code == 422
    db.session.refresh(case)
    assert case.postpone_reason is None
    fine = post_form(desk, path, {"note": "等待停电窗口"}, token_from=f"/cases/{case.id}")
    assert fine.status_code in (302, 303)
    db.session.refresh(case)
    assert case.postpone_reason == "等待停电窗口"
    manager = signed_in(app, "mgr")
    decision = {"decision": "approve", "note": "同意" * 2001}
    refused = post_form(manager, path, decision, token_from=f"/cases/{case.id}")
    assert refused.status_code == 422
    db.session.refresh(case)
    assert case.paused_since is None and case.postpone_reason == "等待停电窗口"
