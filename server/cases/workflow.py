"""The case state machine: the seven steps, who may take each, and the refusals.

This module is the single source of truth for "may this actor move this case to that
status": back-office pages, the API and the phone's `case.transition` mutation all ask
`check_transition` / `allowed_transitions`; `server.cases.operations.apply_transition`
writes the change. It reads no request and no database.

The steps (GB/T 30428 seven-step model, docs/back-office.md):

    reported ─立案→ opened ─派遣→ dispatched ─→ handling ─反馈→ handled
    reported | opened ─注销→ cancelled            dispatched ─反馈→ handled
    handled ─核查→ closed ─评价→ evaluated        handled ─返工→ dispatched | handling

* 立案/注销/派遣 are the centre's (dispatcher) steps; cancelling needs a reason.
* Handling and its feedback are the handler's: the person the case is dispatched to, or a
  member of the unit it is dispatched to; the centre may record them on the unit's behalf.
* 核查结案 and 返工 are a check by someone who is *not* a handler of the case: a dispatcher,
  or a grid worker whose cells cover the case (the check made on the phone counts).
* Evaluation follows a rating (the resident through a one-time link, or recorded by staff).
* Admin may take any step an office role may; nobody may skip a step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from server.enums import OPEN_STATUSES, CaseStatus, Role
from server.exceptions import Conflict, InvalidInput, PermissionDenied
from server.labels import label

S = CaseStatus


class Step(StrEnum):
    """The named steps; each is one (from, to) edge of the machine (rework has two)."""

    OPEN = "open"  # 立案
    CANCEL = "cancel"  # 注销
    DISPATCH = "dispatch"  # 任务派遣
    START = "start"  # 任务处理
    FEEDBACK = "feedback"  # 处理反馈
    CLOSE = "close"  # 核查结案 (check passed)
    REWORK = "rework"  # 返工 (check failed)
    EVALUATE = "evaluate"  # 综合评价


class Party(StrEnum):
    """Who, relative to the case, may take a step."""

    CENTRE = "centre"  # dispatcher (and admin)
    HANDLER = "handler"  # the case's assignee or a member of its unit; or the centre for them
    CHECKER = "checker"  # the centre or a covering grid worker, never a handler
    RATER = "rater"  # the resident (one-time link) or staff recording the rating


#: (from, to) → (step, party). Anything not here is an invalid transition.
TRANSITIONS: dict[tuple[CaseStatus, CaseStatus], tuple[Step, Party]] = {
    (S.REPORTED, S.OPENED): (Step.OPEN, Party.CENTRE),
    (S.REPORTED, S.CANCELLED): (Step.CANCEL, Party.CENTRE),
    (S.OPENED, S.CANCELLED): (Step.CANCEL, Party.CENTRE),
    (S.OPENED, S.DISPATCHED): (Step.DISPATCH, Party.CENTRE),
    (S.DISPATCHED, S.HANDLING): (Step.START, Party.HANDLER),
    (S.DISPATCHED, S.HANDLED): (Step.FEEDBACK, Party.HANDLER),
    (S.HANDLING, S.HANDLED): (Step.FEEDBACK, Party.HANDLER),
    (S.HANDLED, S.CLOSED): (Step.CLOSE, Party.CHECKER),
    (S.HANDLED, S.DISPATCHED): (Step.REWORK, Party.CHECKER),
    (S.HANDLED, S.HANDLING): (Step.REWORK, Party.CHECKER),
    (S.CLOSED, S.EVALUATED): (Step.EVALUATE, Party.RATER),
}

#: Steps whose note is required (a reason must be given).
NOTE_REQUIRED = frozenset({Step.CANCEL, Step.REWORK})

#: A note or photo arriving for a case in one of these is kept and flagged `after_close`.
FINISHED_STATUSES = frozenset(set(CaseStatus) - set(OPEN_STATUSES))

#: The edges a worker may take from the phone (sync's `case.transition`), for its handler.
PHONE_HANDLER_TRANSITIONS = frozenset(e for e, (_, p) in TRANSITIONS.items() if p is Party.HANDLER)
PHONE_CHECK_TRANSITIONS = frozenset(e for e, (_, p) in TRANSITIONS.items() if p is Party.CHECKER)

#: Statuses in which the deadline clock runs, if the case has a deadline: from dispatch until
#: the handler reports back (the catalogue's limits are hours from 派遣 to 处理反馈,
#: docs/catalogue.md); an urgent matter's clock starts at intake, so its deadline runs while
#: it waits to be opened and dispatched too (server.cases.deadlines.starts_at_intake).
CLOCK_STATUSES = frozenset({S.REPORTED, S.OPENED, S.DISPATCHED, S.HANDLING})

RESIDENT = "resident"
OFFICE_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN})


@dataclass(frozen=True)
class Actor:
    """Who takes a step: a user (with role, unit and covered cells) or the resident.

    `cell_codes` None means every cell (office staff); a worker's are the cells their duties
    cover, descendants included (server.cases.coverage).
    """

    user_id: int | None
    role: str
    unit_id: int | None = None
    cell_codes: frozenset[str] | None = None

    @classmethod
    def resident(cls) -> Actor:
        return cls(None, RESIDENT)

    @property
    def is_centre(self) -> bool:
        return self.role in OFFICE_ROLES

    def covers(self, cell_code: str | None) -> bool:
        return self.cell_codes is None or (cell_code is not None and cell_code in self.cell_codes)


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about a case (a `Case` row satisfies this by duck typing)."""

    status: CaseStatus
    assignee_id: int | None
    unit_id: int | None
    cell_code: str | None
    handled_by_id: int | None = None


def is_open(status: CaseStatus) -> bool:
    """True while the case is still being worked on.

    >>> is_open(CaseStatus.HANDLING), is_open(CaseStatus.CLOSED)
    (True, False)
    """
    return status in OPEN_STATUSES


def handler_ids(case: CaseFacts) -> set[int]:
    """The people who handle the case: its assignee and whoever recorded the feedback."""
    return {i for i in (case.assignee_id, case.handled_by_id) if i is not None}


def _is_handler(case: CaseFacts, actor: Actor) -> bool:
    if actor.user_id is not None and actor.user_id in handler_ids(case):
        return True
    return actor.unit_id is not None and actor.unit_id == case.unit_id


def _party_allows(party: Party, case: CaseFacts, actor: Actor) -> bool:
    if actor.role == RESIDENT:
        return party is Party.RATER
    if party is Party.CENTRE:
        return actor.is_centre
    if party is Party.HANDLER:
        return actor.is_centre or _is_handler(case, actor)
    if party is Party.CHECKER:
        if actor.user_id is not None and actor.user_id in handler_ids(case):
            return False  # the one who handled a case never checks it
        if actor.is_centre:
            return True
        return actor.role == Role.WORKER and actor.covers(case.cell_code)
    # RATER: staff recording the resident's rating (the worker who asked them, the centre)
    return actor.is_centre or actor.role == Role.MANAGER or actor.covers(case.cell_code)


def step_of(from_status: CaseStatus, to_status: CaseStatus) -> Step | None:
    """The step an edge is, or None if the machine has no such edge.

    >>> step_of(CaseStatus.HANDLED, CaseStatus.HANDLING)
    <Step.REWORK: 'rework'>
    >>> step_of(CaseStatus.REPORTED, CaseStatus.CLOSED) is None
    True
    """
    found = TRANSITIONS.get((from_status, to_status))
    return found[0] if found else None


def allowed_transitions(case: CaseFacts, actor: Actor) -> list[CaseStatus]:
    """The statuses `actor` may move `case` to now, in the machine's order."""
    return [
        to
        for (frm, to), (_, party) in TRANSITIONS.items()
        if frm == case.status and _party_allows(party, case, actor)
    ]


def check_transition(
    case: CaseFacts, actor: Actor, to_status: CaseStatus, *, note: str = ""
) -> Step:
    """Return the step, or raise why not.

    Raises `InvalidTransition` (no such edge from the case's status), `StepNotPermitted`
    (the edge exists but not for this actor; a handler checking is `own_case_check`), and
    `InvalidInput` when a step that needs a reason has none.
    """
    found = TRANSITIONS.get((case.status, to_status))
    if found is None:
        raise InvalidTransition(case.status, to_status)
    step, party = found
    if not _party_allows(party, case, actor):
        own = party is Party.CHECKER and actor.user_id in handler_ids(case)
        raise StepNotPermitted(step, own_case=own)
    if step in NOTE_REQUIRED and not note.strip():
        raise InvalidInput(_l("Give a reason for this step."), field="note", code="reason_required")
    return step


def steps_for(case: CaseFacts, actor: Actor) -> Iterable[tuple[Step, CaseStatus]]:
    """The steps offered on the case page: (step, target status) pairs."""
    for to in allowed_transitions(case, actor):
        step = step_of(case.status, to)
        if step is not None:
            yield step, to


class InvalidTransition(Conflict):
    """The case's status has no such next status (e.g. closing a case never handled)."""

    code = "invalid_transition"

    def __init__(self, from_status: CaseStatus, to_status: CaseStatus) -> None:
        super().__init__(
            _l(
                "A case that is %(frm)s cannot become %(to)s.",
                frm=label(from_status),
                to=label(to_status),
            ),
            details={"from": from_status.value, "to": to_status.value},
        )


class StepNotPermitted(PermissionDenied):
    """The step exists, but this actor may not take it."""

    code = "step_not_permitted"

    def __init__(self, step: Step, *, own_case: bool = False) -> None:
        if own_case:
            super().__init__(
                _l("Whoever handled a case cannot also check it."),
                code="own_case_check",
                details={"step": step.value},
            )
        else:
            super().__init__(_l("Your role may not take this step."), details={"step": step.value})
