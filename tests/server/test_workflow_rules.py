"""The state machine's table: who may take which step, and what is refused (no database)."""

from __future__ import annotations

import pytest

from server.cases.workflow import (
    Actor,
    CaseFacts,
    InvalidTransition,
    StepNotPermitted,
    allowed_transitions,
    check_transition,
)
from server.enums import CaseStatus as S
from server.exceptions import InvalidInput

DESK = Actor(1, "dispatcher")
ADMIN = Actor(2, "admin")
MANAGER = Actor(3, "manager")
HANDLER = Actor(10, "worker", cell_codes=frozenset({"G1"}))
DEPUTY = Actor(11, "worker", cell_codes=frozenset({"G1"}))
FAR_WORKER = Actor(12, "worker", cell_codes=frozenset({"G2"}))
UNIT_MEMBER = Actor(13, "worker", unit_id=7, cell_codes=frozenset())
RESIDENT = Actor.resident()


def case(status, *, handled_by=None):
    return CaseFacts(status, assignee_id=10, unit_id=7, cell_code="G1", handled_by_id=handled_by)


@pytest.mark.parametrize(
    ("status", "actor", "expected"),
    [
        (S.REPORTED, DESK, [S.OPENED, S.CANCELLED]),
        (S.REPORTED, HANDLER, []),
        (S.OPENED, DESK, [S.CANCELLED, S.DISPATCHED]),
        (S.OPENED, MANAGER, []),
        (S.DISPATCHED, HANDLER, [S.HANDLING, S.HANDLED]),
        (S.DISPATCHED, UNIT_MEMBER, [S.HANDLING, S.HANDLED]),
        (S.DISPATCHED, DEPUTY, []),
        (S.HANDLED, HANDLER, []),
        (S.HANDLED, DEPUTY, [S.CLOSED, S.DISPATCHED, S.HANDLING]),
        (S.HANDLED, FAR_WORKER, []),
        (S.HANDLED, ADMIN, [S.CLOSED, S.DISPATCHED, S.HANDLING]),
        (S.CLOSED, RESIDENT, [S.EVALUATED]),
        (S.CLOSED, FAR_WORKER, []),
        (S.EVALUATED, ADMIN, []),
        (S.CANCELLED, DESK, []),
    ],
)
def test_who_may_take_which_step(app, status, actor, expected):
    assert allowed_transitions(case(status), actor) == expected


def test_whoever_recorded_the_feedback_cannot_check_it(app):
    with pytest.raises(StepNotPermitted) as refused:
        check_transition(case(S.HANDLED, handled_by=1), DESK, S.CLOSED)
    assert refused.value.code == "own_case_check"


@pytest.mark.parametrize(
    ("frm", "to"),
    [
        (S.REPORTED, S.DISPATCHED),
        (S.OPENED, S.CLOSED),
        (S.DISPATCHED, S.CLOSED),
        (S.CLOSED, S.HANDLING),
        (S.CANCELLED, S.OPENED),
    ],
)
def test_skipping_a_step_is_an_invalid_transition(app, frm, to):
    with pytest.raises(InvalidTransition):
        check_transition(case(frm), ADMIN, to)


@pytest.mark.parametrize(("frm", "to"), [(S.REPORTED, S.CANCELLED), (S.HANDLED, S.HANDLING)])
def test_cancel_and_rework_need_a_reason(app, frm, to):
    with pytest.raises(InvalidInput):
        check_transition(case(frm), ADMIN, to, note="  ")
    assert check_transition(case(frm), ADMIN, to, note="理由")
