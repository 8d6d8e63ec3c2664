"""The case state machine: which status may follow which, for the office and from the phone."""

from __future__ import annotations

from server.enums import OPEN_STATUSES, CaseStatus

S = CaseStatus

#: What the back office may do (the seven steps, plus rework and closing by the centre).
OFFICE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.REPORTED: frozenset({S.OPENED, S.CANCELLED}),
    S.OPENED: frozenset({S.DISPATCHED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.HANDLING, S.HANDLED, S.CLOSED}),
    S.HANDLING: frozenset({S.HANDLED, S.CLOSED}),
    S.HANDLED: frozenset({S.CLOSED, S.HANDLING}),  # HANDLING again: rework after a failed check
    S.CLOSED: frozenset({S.EVALUATED}),
    S.CANCELLED: frozenset(),
    S.EVALUATED: frozenset(),
}

#: What a worker may do from the phone: start and finish handling a case assigned to them,
#: and the on-site check (核查) of a handled case in their cell by someone not its handler.
PHONE_HANDLER_TRANSITIONS = frozenset({(S.DISPATCHED, S.HANDLING), (S.HANDLING, S.HANDLED)})
PHONE_CHECK_TRANSITIONS = frozenset({(S.HANDLED, S.CLOSED)})

#: A note or photo arriving for a case in one of these is kept and flagged `after_close`.
FINISHED_STATUSES = frozenset(set(CaseStatus) - set(OPEN_STATUSES))


def is_open(status: CaseStatus) -> bool:
    """True while the case is still being worked on.

    >>> is_open(CaseStatus.HANDLING), is_open(CaseStatus.CLOSED)
    (True, False)
    """
    return status in OPEN_STATUSES
