"""Everything that changes a case: timeline events, status changes, assignment, field edits.

Phone mutations (server/fieldsync) and back-office actions call the same verbs, so a case
changes one way only. Every verb takes the server `version` of its transaction (from
`sync.versions.next_version`) and stamps the case with it, so pulls see the change.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.cases.models import Case, CaseEvent
from server.cases.workflow import FINISHED_STATUSES, is_open
from server.enums import CaseStatus, Priority
from sync.db import utcnow
from sync.merge import MergeOutcome, Stamp, merge_fields
from sync.models import CaseConflict, FieldStamp, ScopeExit

#: Fields a worker may edit from the phone (field-level merge applies to each).
EDITABLE_FIELDS = ("title", "description", "address", "priority")

_STATUS_TIMES = {
    CaseStatus.OPENED: "opened_at",
    CaseStatus.DISPATCHED: "dispatched_at",
    CaseStatus.HANDLED: "handled_at",
    CaseStatus.CLOSED: "closed_at",
}


@dataclass(frozen=True)
class _Reach:
    """Who had the case in their pull scope before a change (see docs/sync-protocol.md)."""

    open: bool
    assignee_id: int | None
    reporter_id: int | None
    cell_code: str | None


def _reach(case: Case) -> _Reach:
    return _Reach(is_open(case.status), case.assignee_id, case.reporter_id, case.cell_code)


def add_event(
    session: Session,
    case: Case,
    *,
    kind: str,
    actor_id: int | None,
    version: int,
    note: str = "",
    data: dict[str, Any] | None = None,
    event_id: uuid.UUID | None = None,
    device_id: uuid.UUID | None = None,
    recorded_at_device: dt.datetime | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
) -> CaseEvent:
    """Append an event to the case's timeline (order from the server, never the phone).

    A note arriving when the case is already finished is kept and flagged `after_close`.
    """
    last = session.scalar(select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == case.id))
    event = CaseEvent(
        id=event_id or uuid.uuid4(),
        case_id=case.id,
        seq=(last or 0) + 1,
        kind=kind,
        actor_id=actor_id,
        at=utcnow(),
        note=note,
        data=data or {},
        from_status=from_status,
        to_status=to_status,
        after_close=kind in {"note", "photo"} and case.status in FINISHED_STATUSES,
        device_id=device_id,
        recorded_at_device=recorded_at_device,
        version=version,
    )
    session.add(event)
    case.version = version
    return event


def change_status(
    session: Session,
    case: Case,
    to: CaseStatus,
    *,
    actor_id: int | None,
    version: int,
    note: str = "",
    device_id: uuid.UUID | None = None,
    recorded_at_device: dt.datetime | None = None,
) -> CaseEvent:
    """Move the case to `to` (the caller has checked the transition is allowed)."""
    before = _reach(case)
    from_status = case.status
    case.status = to
    if to in _STATUS_TIMES:
        setattr(case, _STATUS_TIMES[to], utcnow())
    case.field_versions = {**case.field_versions, "status": version}
    event = add_event(
        session,
        case,
        kind="status",
        actor_id=actor_id,
        version=version,
        note=note,
        device_id=device_id,
        recorded_at_device=recorded_at_device,
        from_status=from_status.value,
        to_status=to.value,
    )
    record_scope_exits(session, case, before, version)
    return event


def assign(
    session: Session, case: Case, assignee_id: int | None, *, actor_id: int | None, version: int
) -> CaseEvent:
    """Give the case to another person; it leaves the previous assignee's pull scope."""
    before = _reach(case)
    previous = case.assignee_id
    case.assignee_id = assignee_id
    case.field_versions = {**case.field_versions, "assignee_id": version}
    event = add_event(
        session,
        case,
        kind="assigned",
        actor_id=actor_id,
        version=version,
        data={"from": previous, "to": assignee_id},
    )
    record_scope_exits(session, case, before, version)
    return event


def record_scope_exits(session: Session, case: Case, before: _Reach, version: int) -> None:
    """Write a scope exit for each way the case was reachable before and is not now."""
    now = _reach(case)
    exits: list[ScopeExit] = []

    def left(user_id: int | None, stays: bool) -> None:
        if user_id is not None and not stays:
            exits.append(_exit(case, version, user_id=user_id))

    if before.open:
        left(before.assignee_id, now.open and now.assignee_id == before.assignee_id)
        left(before.reporter_id, now.open and now.reporter_id == before.reporter_id)
        if before.cell_code and not (now.open and now.cell_code == before.cell_code):
            exits.append(_exit(case, version, cell_code=before.cell_code))
    session.add_all(exits)


def _exit(
    case: Case, version: int, *, user_id: int | None = None, cell_code: str | None = None
) -> ScopeExit:
    return ScopeExit(
        version=version,
        table_name="cases",
        row_id=case.id.hex,
        user_id=user_id,
        cell_code=cell_code,
    )


def edit_fields(
    session: Session,
    case: Case,
    changes: dict[str, Any],
    *,
    author_id: int,
    version: int,
    base_version: int | None,
    device_id: uuid.UUID | None = None,
    op_id: uuid.UUID | None = None,
) -> MergeOutcome:
    """Merge field edits into the case; record a conflict for each field two people changed.

    `base_version` None means "edited against the current state" (the office's own edits).
    """
    stamps = _stamps(session, case)
    current = {name: _plain(getattr(case, name)) for name in EDITABLE_FIELDS}
    outcome = merge_fields(current, stamps, changes, base_version=base_version, author_id=author_id)
    for conflict in outcome.conflicts:
        session.add(
            CaseConflict(
                case_id=case.id,
                field=conflict.field,
                base_version=base_version,
                earlier_value=conflict.earlier_value,
                earlier_author_id=conflict.earlier.author_id,
                earlier_version=conflict.earlier.version,
                later_value=conflict.later_value,
                later_author_id=author_id,
                later_device_id=device_id,
                op_id=op_id,
                version=version,
            )
        )
    if outcome.apply:
        for name, value in outcome.apply.items():
            setattr(case, name, Priority(value) if name == "priority" else value)
            stamp = session.get(FieldStamp, (case.id, name))
            if stamp is None:
                stamp = FieldStamp(case_id=case.id, field=name)
                session.add(stamp)
            stamp.version, stamp.author_id, stamp.device_id = version, author_id, device_id
        case.field_versions = {**case.field_versions, **dict.fromkeys(outcome.apply, version)}
        add_event(
            session,
            case,
            kind="edit",
            actor_id=author_id,
            version=version,
            device_id=device_id,
            data={
                "changes": outcome.apply,
                "parallel": outcome.parallel,
                "conflicts": [c.field for c in outcome.conflicts],
            },
        )
    return outcome


def _stamps(session: Session, case: Case) -> dict[str, Stamp]:
    """Per-field version (from the case) and author (from the stamp, if it is that change's)."""
    authors = {
        s.field: s for s in session.scalars(select(FieldStamp).where(FieldStamp.case_id == case.id))
    }
    stamps: dict[str, Stamp] = {}
    for name, field_version in (case.field_versions or {}).items():
        stamp = authors.get(name)
        author = stamp.author_id if stamp is not None and stamp.version == field_version else None
        stamps[name] = Stamp(int(field_version), author)
    return stamps


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)
