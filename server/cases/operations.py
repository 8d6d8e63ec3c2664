"""Everything that changes a case: intake, the seven steps, postponement, merging.

Every verb takes the session and the acting `Actor`/user explicitly and a time `at` (the
controllable clock); each writes a `CaseEvent` (actor, time, note) and stamps the case with
the server version of its transaction, so phones pulling see the change. The caller commits.

`apply_transition` is the one writer of status changes; the sync branch's phone handler
(`case.transition`) should call it with an `Actor` from `server.cases.coverage.actor_for`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Required, TypedDict, Unpack

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.audit.operations import AccessContext, record
from server.cases import grid_access
from server.cases.deadlines import due_after_dispatch, starts_at_intake
from server.cases.models import Case, CaseEvent, PhotoLink
from server.cases.numbers import next_case_number
from server.cases.timeline import next_event_seq
from server.cases.workflow import FINISHED_STATUSES, Actor, Step, check_transition, is_open
from server.catalogue.models import CatalogueItem
from server.enums import CaseStatus, Channel, Disclosure, PhotoProof, Placement, Priority, Role
from server.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from server.grid.assignment import resolve_unit
from server.privacy.declaration import default_disclosure, disclosure_allowed
from server.units.models import Unit
from sync.db import utcnow
from sync.merge import MergeOutcome, Stamp, merge_fields
from sync.models import CaseConflict, FieldStamp, ScopeExit
from sync.versions import next_version

VISIT_TEXT_STAYS_INSIDE = _l("What a household visit found is never shown in public with its text.")

#: Default limit (hours) for a case with no catalogue item.
DEFAULT_LIMIT_HOURS = 72.0

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


class EventFields(TypedDict, total=False):
    """What a timeline event says besides its case and version (`new_event`, `add_event`)."""

    kind: Required[str]
    actor_id: Required[int | None]
    at: dt.datetime | None
    note: str
    data: dict[str, Any] | None
    event_id: uuid.UUID | None
    device_id: uuid.UUID | None
    recorded_at_device: dt.datetime | None
    from_status: str | None
    to_status: str | None


def add_event(
    session: Session, case: Case, *, version: int, **fields: Unpack[EventFields]
) -> CaseEvent:
    """Append an event to the case's timeline (order from the server, never the phone).

    A note or photo arriving when the case is already finished is flagged `after_close`.
    """
    event = new_event(session, case, version=version, **fields)
    session.add(event)
    case.version = version
    return event


def new_event(
    session: Session, case: Case, *, version: int, **fields: Unpack[EventFields]
) -> CaseEvent:
    """The event `add_event` appends, built but not added to the session and the case not
    stamped: a push handler builds a new case's timeline before the version clock and adds
    it under the clock (server/fieldsync/operations.py `case_report`)."""
    kind = fields["kind"]
    event = CaseEvent(
        id=fields.get("event_id") or uuid.uuid4(),
        case_id=case.id,
        seq=next_event_seq(session, case),
        kind=kind,
        actor_id=fields["actor_id"],
        note=fields.get("note", ""),
        data=fields.get("data") or {},
        from_status=fields.get("from_status"),
        to_status=fields.get("to_status"),
        after_close=kind in {"note", "photo"} and case.status in FINISHED_STATUSES,
        device_id=fields.get("device_id"),
        recorded_at_device=fields.get("recorded_at_device"),
        version=version,
    )
    at = fields.get("at")
    if at is not None:
        event.at = at
    return event


def apply_transition(
    session: Session,
    case: Case,
    actor: Actor,
    to_status: CaseStatus,
    *,
    at: dt.datetime,
    note: str = "",
    version: int | None = None,
    data: dict[str, Any] | None = None,
    device_id: uuid.UUID | None = None,
    recorded_at_device: dt.datetime | None = None,
) -> CaseEvent:
    """Move `case` to `to_status` if the machine and the actor's role allow it; else raise.

    Raises what `workflow.check_transition` raises. Stamps the step's times and people:
    dispatch starts the clock (once, unless an urgent intake started it; rework keeps the
    deadline), feedback records the handler and ends a running postponement, closing records
    the checker, rework is counted.
    """
    step = check_transition(case, actor, to_status, note=note)
    version = version if version is not None else next_version(session)
    before = _reach(case)
    from_status = case.status
    _stamp(case, step, actor, at)
    case.status = to_status
    case.field_versions = {**(case.field_versions or {}), "status": version}
    record_scope_exits(session, case, before, version)
    return add_event(
        session,
        case,
        kind=step.value,
        actor_id=actor.user_id,
        version=version,
        at=at,
        note=note.strip(),
        data=data,
        device_id=device_id,
        recorded_at_device=recorded_at_device,
        from_status=from_status.value,
        to_status=to_status.value,
    )


def _stamp(case: Case, step: Step, actor: Actor, at: dt.datetime) -> None:
    if step is Step.OPEN:
        case.opened_at = at
    elif step is Step.DISPATCH and case.dispatched_at is None:
        case.dispatched_at = at
        if case.due_at is None:  # an urgent matter's clock already runs since intake
            case.due_at = due_after_dispatch(at, _limit_hours(case))
    elif step is Step.FEEDBACK:
        _end_pause(case, at)
        case.handled_at = at
        case.handled_by_id = actor.user_id
    elif step is Step.CLOSE:
        case.closed_at = at
        case.closed_by_id = actor.user_id
    elif step is Step.REWORK:
        case.rework_count = (case.rework_count or 0) + 1


def _limit_hours(case: Case) -> float:
    item = case.catalogue_item
    return item.limit_hours(case.priority) if item is not None else DEFAULT_LIMIT_HOURS


# --- intake -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Intake:
    """What the intake desk types in (the view parses the form into this)."""

    channel: Channel
    description: str
    catalogue_item_id: int | None = None
    priority: Priority = Priority.NORMAL
    title: str = ""
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    cell_code: str | None = None
    caller_name: str | None = None
    caller_phone: str | None = None
    channel_ref: str | None = None
    source_flag: str | None = None
    #: None: the channel's default (server/privacy/declaration.py).
    disclosure: Disclosure | None = None


def _placed_by_address(session: Session, intake: Intake) -> Intake:
    """A matter with no point but a typed address that names one standard door is placed at
    that door (issue 13: a known address needs no picking from a list)."""
    if intake.lon is not None or intake.cell_code or not intake.address.strip():
        return intake
    from server.addresses.search import place_of

    door = place_of(session, intake.address)
    if door is None or door.lon is None or door.lat is None:
        return intake
    return replace(intake, lon=door.lon, lat=door.lat)


def create_case(
    session: Session,
    user: User | None,
    intake: Intake,
    *,
    at: dt.datetime,
    context: AccessContext,
    prefix: str,
    photos: Sequence[str] = (),
) -> Case:
    """Register a matter (信息收集), locate it and assign it to its cell's people at once.

    `user` is the member of staff taking it in; None when a resident (online) or a partner
    system (Open311) files it directly. The caller's name and phone are personal data: their
    recording is audited. `photos` are the hashes of bytes received with this request (never
    hashes a caller named: server/photos/access.py).
    """
    user_id = user.id if user is not None else None
    if not intake.description.strip():
        raise InvalidInput(_l("Describe the matter."), field="description")
    item = (
        session.get(CatalogueItem, intake.catalogue_item_id) if intake.catalogue_item_id else None
    )
    if intake.catalogue_item_id and item is None:
        raise NotFound(_l("No such catalogue item."), field="catalogue_item_id")
    disclosure = intake.disclosure or default_disclosure(intake.channel)
    if not disclosure_allowed(disclosure, from_visit=intake.channel == Channel.VISIT):
        raise InvalidInput(VISIT_TEXT_STAYS_INSIDE, field="disclosure")
    intake = _placed_by_address(session, intake)
    version = next_version(session)
    case = Case(
        id=uuid.uuid4(),
        number=next_case_number(session, prefix, at),
        channel=intake.channel,
        disclosure=disclosure,
        catalogue_item_id=item.id if item else None,
        priority=intake.priority,
        status=CaseStatus.REPORTED,
        title=(intake.title or (item.name_zh if item else intake.description[:40])).strip(),
        description=intake.description.strip(),
        address=intake.address.strip(),
        lon=intake.lon,
        lat=intake.lat,
        cell_code=intake.cell_code if intake.lon is None else None,
        caller_name=(intake.caller_name or "").strip() or None,
        caller_phone=(intake.caller_phone or "").strip() or None,
        channel_ref=intake.channel_ref,
        source_flag=intake.source_flag,
        reporter_id=user_id if intake.channel in (Channel.PATROL, Channel.VISIT) else None,
        reported_at=at,
        version=version,
        field_versions={},
    )
    case.catalogue_item = item
    if starts_at_intake(case.priority):
        case.due_at = due_after_dispatch(at, _limit_hours(case))
    session.add(case)
    grid_access.place_and_assign(session, case, on=at.date(), version=version)
    session.flush()
    add_event(
        session,
        case,
        kind="reported",
        actor_id=user_id,
        version=version,
        at=at,
        note=case.description,
        to_status=CaseStatus.REPORTED.value,
        data={"channel": intake.channel.value, "placement": case.placement.value},
    )
    for sha256 in dict.fromkeys(photos):
        session.add(
            PhotoLink(
                photo_sha256=sha256,
                case_id=case.id,
                purpose="report",
                added_by_id=user_id,
                proof=PhotoProof.UPLOAD,  # the bytes came with this request
                version=version,
            )
        )
    if case.caller_name or case.caller_phone:
        record(
            session,
            context,
            action="create",
            subject_type="case_caller",
            subject_id=case.id,
            fields=[f for f in ("caller_name", "caller_phone") if getattr(case, f)],
        )
    return case


# --- the steps with extra data ---------------------------------------------------------------


def dispatch_case(
    session: Session,
    case: Case,
    actor: Actor,
    *,
    at: dt.datetime,
    unit_id: int | None,
    assignee_id: int | None,
    note: str = "",
) -> CaseEvent:
    """任务派遣 to a unit and/or a person; the deadline clock starts now."""
    if unit_id is None and assignee_id is None:
        raise InvalidInput(_l("Dispatch to a unit, a person, or both."), field="unit_id")
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise NotFound(_l("No such unit."), field="unit_id")
    if assignee_id is not None:
        person = session.get(User, assignee_id)
        if person is None or not person.is_active:
            raise NotFound(_l("No such person."), field="assignee_id")
    check_transition(case, actor, CaseStatus.DISPATCHED, note=note)
    if unit_id is not None:
        case.unit_id = resolve_unit(session, unit_id, case.cell_code)
    if assignee_id is not None:
        case.assignee_id = assignee_id
    return apply_transition(
        session,
        case,
        actor,
        CaseStatus.DISPATCHED,
        at=at,
        note=note,
        data={"unit_id": case.unit_id, "assignee_id": case.assignee_id},
    )


def record_feedback(
    session: Session,
    case: Case,
    actor: Actor,
    *,
    at: dt.datetime,
    note: str,
    photos: Sequence[str] = (),
) -> CaseEvent:
    """处理反馈: what was done, with result photos (hashes of bytes sent with the request)."""
    if not note.strip():
        raise InvalidInput(_l("Say what was done."), field="note")
    event = apply_transition(
        session, case, actor, CaseStatus.HANDLED, at=at, note=note, data={"photos": list(photos)}
    )
    for sha256 in dict.fromkeys(photos):
        session.add(
            PhotoLink(
                photo_sha256=sha256,
                case_id=case.id,
                purpose="result",
                added_by_id=actor.user_id,
                proof=PhotoProof.UPLOAD,  # the bytes came with this request
                version=event.version,
            )
        )
    return event


# --- postponement (缓办) -----------------------------------------------------------------------

APPROVERS = frozenset({Role.MANAGER, Role.ADMIN})


#: The longest note or reason a step takes (the step form's limit: server/cases/schemas.py).
MAX_NOTE = 4000


def _check_note(note: str) -> None:
    if len(note) > MAX_NOTE:
        raise InvalidInput(
            _l("A note is at most %(n)s characters.", n=MAX_NOTE), field="note", code="too_long"
        )


def request_postponement(
    session: Session, case: Case, actor: Actor, *, at: dt.datetime, reason: str
) -> CaseEvent:
    """Ask to pause the clock (the handler or the centre); a manager approves."""
    if case.status not in (CaseStatus.DISPATCHED, CaseStatus.HANDLING):
        raise Conflict(_l("Only a case being handled can be postponed."), code="not_postponable")
    if case.paused_since is not None:
        raise Conflict(_l("The case is already postponed."), code="already_postponed")
    if not (
        actor.is_centre
        or actor.user_id == case.assignee_id
        or (actor.unit_id is not None and actor.unit_id == case.unit_id)
    ):
        raise PermissionDenied(_l("Your role may not take this step."), code="step_not_permitted")
    if not reason.strip():
        raise InvalidInput(_l("Give a reason for this step."), field="note", code="reason_required")
    _check_note(reason)
    case.postpone_reason = reason.strip()
    return add_event(
        session,
        case,
        kind="postpone_requested",
        actor_id=actor.user_id,
        version=next_version(session),
        at=at,
        note=reason.strip(),
    )


def decide_postponement(
    session: Session, case: Case, actor: Actor, *, at: dt.datetime, approve: bool, note: str = ""
) -> CaseEvent:
    """A manager approves (the clock stops from now) or refuses a requested postponement."""
    if actor.role not in APPROVERS:
        raise PermissionDenied(_l("Your role may not take this step."), code="step_not_permitted")
    if not case.postpone_reason or case.paused_since is not None:
        raise Conflict(_l("No postponement is waiting for a decision."), code="nothing_to_decide")
    _check_note(note)
    if approve:
        case.paused_since = at
        case.postponed = True
    else:
        case.postpone_reason = None
    return add_event(
        session,
        case,
        kind="postponed" if approve else "postpone_refused",
        actor_id=actor.user_id,
        version=next_version(session),
        at=at,
        note=note,
    )


def resume_case(session: Session, case: Case, actor: Actor, *, at: dt.datetime) -> CaseEvent:
    """End a postponement: the deadline moves back by the time paused."""
    if case.paused_since is None:
        raise Conflict(_l("The case is not postponed."), code="not_postponed")
    if not (actor.is_centre or actor.role in APPROVERS or actor.user_id == case.assignee_id):
        raise PermissionDenied(_l("Your role may not take this step."), code="step_not_permitted")
    paused = _end_pause(case, at)
    return add_event(
        session,
        case,
        kind="resumed",
        actor_id=actor.user_id,
        version=next_version(session),
        at=at,
        data={"paused_seconds": paused},
    )


def _end_pause(case: Case, at: dt.datetime) -> int:
    if case.paused_since is None:
        return 0
    paused = max(0, int((at - case.paused_since).total_seconds()))
    case.paused_seconds = (case.paused_seconds or 0) + paused
    if case.due_at is not None:
        case.due_at = case.due_at + dt.timedelta(seconds=paused)
    case.paused_since = None
    case.postpone_reason = None
    return paused


# --- duplicates -----------------------------------------------------------------------------


def merge_duplicate(
    session: Session, duplicate: Case, into: Case, actor: Actor, *, at: dt.datetime
) -> CaseEvent:
    """Merge a duplicate report into a surviving case, keeping every report, photo, reporter.

    The duplicate is cancelled (注销) with a `merged_into` link; its photos are linked to the
    survivor too, and the survivor's timeline names the merged report and its reporter.
    """
    if duplicate.id == into.id or into.merged_into_id is not None:
        raise InvalidInput(_l("Pick another case to merge into."), field="into")
    if into.status == CaseStatus.CANCELLED:
        raise Conflict(_l("A cancelled case cannot take merged reports."), code="merge_target")
    version = next_version(session)
    event = apply_transition(
        session,
        duplicate,
        actor,
        CaseStatus.CANCELLED,
        at=at,
        version=version,
        note=str(_l("Merged into %(number)s", number=into.number)),
        data={"merged_into": str(into.id)},
    )
    duplicate.merged_into_id = into.id
    duplicate.cancel_reason = "merged"
    links = session.scalars(select(PhotoLink).where(PhotoLink.case_id == duplicate.id)).all()
    for link in links:
        session.add(
            PhotoLink(
                photo_sha256=link.photo_sha256,
                case_id=into.id,
                purpose=link.purpose,
                added_by_id=link.added_by_id,
                device_id=link.device_id,
                lon=link.lon,
                lat=link.lat,
                captured_at_device=link.captured_at_device,
                proof=link.proof,
                version=version,
            )
        )
    add_event(
        session,
        into,
        kind="merged",
        actor_id=actor.user_id,
        version=version,
        at=at,
        data={
            "duplicate": str(duplicate.id),
            "number": duplicate.number,
            "reporter_id": duplicate.reporter_id,
            "photos": len(links),
        },
    )
    return event


def cancel_case(
    session: Session, case: Case, actor: Actor, *, at: dt.datetime, reason: str
) -> CaseEvent:
    """注销 a report that does not qualify, with the reason."""
    event = apply_transition(session, case, actor, CaseStatus.CANCELLED, at=at, note=reason)
    case.cancel_reason = reason.strip()
    return event


def relocate(
    session: Session, case: Case, actor: Actor, *, lon: float, lat: float, at: dt.datetime
) -> CaseEvent:
    """Put a case on the map by hand (e.g. an unplaced report): locate and assign again."""
    if not actor.is_centre:
        raise PermissionDenied(_l("Your role may not take this step."), code="step_not_permitted")
    version = next_version(session)
    before = (case.cell_code, case.assignee_id)
    case.lon, case.lat, case.placement = lon, lat, Placement.UNLOCATED
    grid_access.place_and_assign(session, case, on=at.date(), version=version)
    return add_event(
        session,
        case,
        kind="relocated",
        actor_id=actor.user_id,
        version=version,
        at=at,
        data={
            "from_cell": before[0],
            "to_cell": case.cell_code,
            "from_assignee_id": before[1],
            "to_assignee_id": case.assignee_id,
        },
    )


# --- phone-side verbs (server/fieldsync) and scope exits for pulls --------------------


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
