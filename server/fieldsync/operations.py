"""The phone's mutations, as handlers for `sync.engine.push`: one function per name.

Each handler checks first and writes after; a problem the device cannot fix by retrying
raises `sync.errors.Rejected(code, message)`. Codes are stable and documented in
docs/sync-protocol.md; the app shows its own text for each code.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.cases import operations as cases
from server.cases.coverage import actor_for
from server.cases.models import Case, CaseEvent, Photo, PhotoLink
from server.cases.numbers import day_stem, next_case_number, number_after
from server.cases.workflow import (
    PHONE_CHECK_TRANSITIONS,
    PHONE_HANDLER_TRANSITIONS,
    InvalidTransition,
    StepNotPermitted,
    is_open,
)
from server.catalogue.models import CatalogueItem
from server.enums import CaseStatus, Channel, Priority
from server.exceptions import InvalidInput
from server.fieldsync import schemas
from server.fieldsync.form_answers import answer_is_append_only, answer_prefetch, form_answer
from server.fieldsync.phone_actor import actor_of as _actor
from server.fieldsync.phone_actor import case_in_reach as _case_in_reach
from server.fieldsync.phone_actor import clock_facts as _clock
from server.fieldsync.photo_links import ensure_photos, link_photo, new_report_links, photo_attach
from server.fieldsync.visits import (
    plain_visits,
    visit_create,
    visit_is_append_only,
    visit_prefetch,
    visit_row_keeps_args,
)
from server.grid.assignment import place_new_case
from server.grid.index import GridIndexCache, published_key
from server.privacy.declaration import default_disclosure
from server.timezones import shanghai_date
from sync.db import among
from sync.errors import Rejected
from sync.handlers import DeviceContext, Handler, MutationContext
from sync.models import CaseConflict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    case_number_prefix: str = "XH"
    #: The published grid's locate index (per app); None places every report unplaced.
    grid_index: GridIndexCache | None = None


# --- cases --------------------------------------------------------------------------------


@dataclass
class ReportBatch:
    """What a group of case.report reads before the version clock, and what it gave out under
    it. `cases` also gains each case this group queues, so a repeated id answers `existing`;
    `photos` each photo row known to exist or queued; `numbers` the last case number given
    out per day (under the clock, so nobody else gives one out until this group commits)."""

    cases: dict[uuid.UUID, tuple[int | None, Case | str]]  # id → (reporter, case or number)
    items: dict[str, CatalogueItem]  # code → item
    photos: set[str]
    numbers: dict[str, str] = field(default_factory=dict)  # day's stem → last number
    grid_checked: bool = False  # the published grid was read under the clock: grid_now
    grid_now: Any = None


def report_prefetch(
    session: Session, device: DeviceContext, args_list: list[dict[str, Any]]
) -> ReportBatch:
    ids = {a["id"] for a in args_list}
    codes = {a["catalogue_code"] for a in args_list if a["catalogue_code"]}
    shas = {sha for a in args_list for sha in a["photos"]}
    found = session.execute(
        select(Case.id, Case.reporter_id, Case.number).where(among(session, Case.id, ids))
    )
    items = (
        session.scalars(select(CatalogueItem).where(CatalogueItem.code.in_(codes))).all()
        if codes
        else []
    )
    stored = (
        session.scalars(select(Photo.sha256).where(among(session, Photo.sha256, shas))).all()
        if shas
        else []
    )
    return ReportBatch(
        {row.id: (row.reporter_id, row.number) for row in found},
        {item.code: item for item in items},
        set(stored),
    )


def case_report(ctx: MutationContext, args: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """A photo report from patrol: a new case, status reported, located to its cell.

    Append-only (docs/sync-protocol.md §The serial section): everything is read and built
    before the version clock; the number is taken and the rows added under it (`_commit_report`).
    """
    session, actor, batch = ctx.session, _actor(ctx), ctx.batch
    if batch is None:  # called outside a batched push (one mutation): read it now
        batch = report_prefetch(session, ctx.device, [args])
    known = batch.cases.get(args["id"])
    if known is not None:
        if known[0] != actor.user_id:
            raise Rejected("ID_TAKEN", "another record already has this id")
        queued = known[1]
        if isinstance(queued, str):
            return {"case_id": str(args["id"]), "number": queued, "existing": True}
        answer = {"case_id": str(args["id"]), "number": None, "existing": True}
        assert ctx.writes is not None  # queued by this group: numbered under the clock
        ctx.writes.under_clock(lambda _: answer.update(number=queued.number))
        return answer
    item = batch.items.get(args["catalogue_code"]) if args["catalogue_code"] else None
    channel = Channel.VISIT if args["visit_id"] else Channel.PATROL  # found at a household
    case = _new_case(ctx, args, channel, item)
    grid = _place(ctx, case, settings)
    timeline: list[Any] = [
        cases.new_event(
            session,
            case,
            kind="reported",
            actor_id=actor.user_id,
            version=0,  # stamped under the clock
            note=args["description"],
            device_id=ctx.device.device_id,
            recorded_at_device=ctx.mutation.recorded_at_device,
            to_status=CaseStatus.REPORTED.value,
            data={**_clock(ctx), "catalogue_code": args["catalogue_code"]},
        ),
        *new_report_links(ctx, case, args["photos"], args),
    ]
    result = {"case_id": str(case.id), "number": None}

    def commit(version: int) -> None:
        _commit_report(ctx, settings, batch, case, grid, timeline, version)
        result.update(number=case.number, placement=case.placement.value, cell_code=case.cell_code)

    assert ctx.writes is not None
    ctx.writes.under_clock(commit)
    batch.cases[case.id] = (actor.user_id, case)
    return result


def _new_case(
    ctx: MutationContext, args: dict[str, Any], channel: Channel, item: CatalogueItem | None
) -> Case:
    """A reported case from the phone's arguments (CaseReportArgs), neither numbered nor
    versioned nor placed yet."""
    case = Case(
        id=args["id"],
        channel=channel,
        disclosure=default_disclosure(channel),
        status=CaseStatus.REPORTED,
        catalogue_item_id=item.id if item else None,
        priority=Priority(args["priority"]),
        title=args["title"],
        description=args["description"],
        address=args["address"],
        lon=args["lon"],
        lat=args["lat"],
        accuracy_m=args["accuracy_m"],
        reporter_id=_actor(ctx).user_id,
        device_id=ctx.device.device_id,
        reported_at=ctx.received_at,
        recorded_at_device=ctx.mutation.recorded_at_device,
        field_versions={},
    )
    case.catalogue_item = item
    return case


def file_case(
    ctx: MutationContext,
    settings: Settings,
    args: dict[str, Any],
    *,
    channel: Channel,
    event_data: dict[str, Any] | None = None,
) -> Case:
    """File a new case from the phone (status reported) at once, under the version clock:
    placed and assigned as usual, with its photos linked — the cases that form answers open
    (server/fieldsync/form_answers.py; `args` as CaseReportArgs loads them). `case.report`
    itself builds its case before the clock (`case_report`); both number cases from the
    database's day maximum, so a group holding both never gives a number twice."""
    session, actor = ctx.session, _actor(ctx)
    item = None
    if args["catalogue_code"]:
        item = session.scalar(
            select(CatalogueItem).where(CatalogueItem.code == args["catalogue_code"])
        )
    case = _new_case(ctx, args, channel, item)
    case.number = next_case_number(session, settings.case_number_prefix, ctx.received_at)
    case.version = ctx.version
    published = settings.grid_index.current(session) if settings.grid_index else None
    place_new_case(
        session, case, published.index if published else None, on=shanghai_date(ctx.received_at)
    )
    session.add(case)
    cases.add_event(
        session,
        case,
        kind="reported",
        actor_id=actor.user_id,
        version=ctx.version,
        note=args["description"],
        device_id=ctx.device.device_id,
        recorded_at_device=ctx.mutation.recorded_at_device,
        to_status=CaseStatus.REPORTED.value,
        data={**_clock(ctx), "catalogue_code": args["catalogue_code"], **(event_data or {})},
    )
    for sha256 in dict.fromkeys(args["photos"]):
        link_photo(ctx, sha256, case=case, visit=None, purpose="report", meta=args)
    return case


def _place(ctx: MutationContext, case: Case, settings: Settings, *, fresh: bool = False) -> Any:
    """Place and assign the new case on the published grid; return that grid's key."""
    index = settings.grid_index
    published = index.current(ctx.session, fresh=fresh) if index is not None else None
    place_new_case(
        ctx.session,
        case,
        published.index if published else None,
        on=shanghai_date(ctx.received_at),
    )
    return (published.version_id, published.published_at) if published else None


def _commit_report(
    ctx: MutationContext,
    settings: Settings,
    batch: ReportBatch,
    case: Case,
    grid: Any,
    timeline: list[Any],
    version: int,
) -> None:
    """Under the version clock: place the case again if the grid was published since it was
    placed (a publication re-places only the open cases it sees), take the case's number,
    stamp the version, make missing photo rows, add the case and its timeline."""
    session = ctx.session
    # One flush for the whole group after its steps (sync.batching): the reads here need
    # nothing the previous steps added (their numbers are in `batch.numbers`).
    with session.no_autoflush:
        if settings.grid_index is not None:
            if not batch.grid_checked:  # once per group: nobody publishes while it holds it
                batch.grid_now, batch.grid_checked = published_key(session), True
            if batch.grid_now != grid:
                log.info("case.report: a grid was published meanwhile; placing the case again")
                _place(ctx, case, settings, fresh=True)
        case.number = _next_number(session, batch, settings.case_number_prefix, ctx.received_at)
        linked = [row.photo_sha256 for row in timeline if isinstance(row, PhotoLink)]
        ensure_photos(session, [s for s in linked if s not in batch.photos], ctx.received_at)
    batch.photos.update(linked)
    case.version = version
    for row in timeline:
        row.version = version
    session.add(case)
    session.add_all(timeline)


def _next_number(session: Session, batch: ReportBatch, prefix: str, at: dt.datetime) -> str:
    """The next case number of the day: the group's first from the database, under the clock
    (nobody else numbers a case until this group commits, so max + 1 is free and no number
    is skipped), the group's next ones counted on from it."""
    stem = day_stem(prefix, at)
    candidates = [next_case_number(session, prefix, at)]
    last = batch.numbers.get(stem)
    if last:
        candidates.append(number_after(last))
    # A case filed at once in this group (a form answer's, `file_case`) may not be flushed.
    pending = [
        c.number
        for c in session.new
        if isinstance(c, Case) and c.number and c.number.startswith(stem)
    ]
    if pending:
        candidates.append(number_after(max(pending)))
    number = max(candidates)
    batch.numbers[stem] = number
    return number


def case_note(ctx: MutationContext, args: dict[str, Any]) -> dict[str, Any]:
    """A note on the case's timeline; kept and flagged `after_close` if the case is finished."""
    session = ctx.session
    existing = session.get(CaseEvent, args["id"])
    if existing is not None:
        if existing.case_id == args["case_id"] and existing.kind == "note":
            return {"event_id": str(existing.id), "existing": True}
        raise Rejected("ID_TAKEN", "another record already has this id")
    case = _case_in_reach(ctx, args["case_id"])
    event = cases.add_event(
        session,
        case,
        kind="note",
        actor_id=_actor(ctx).user_id,
        version=ctx.version,
        note=args["text"],
        event_id=args["id"],
        device_id=ctx.device.device_id,
        recorded_at_device=ctx.mutation.recorded_at_device,
        data=_clock(ctx),
    )
    return {"event_id": str(event.id), "after_close": event.after_close}


def case_set_fields(ctx: MutationContext, args: dict[str, Any]) -> dict[str, Any]:
    """Field-level merge against the mutation's base_version (see server.cases.operations)."""
    if ctx.mutation.base_version is None:
        raise Rejected("BASE_VERSION_REQUIRED", "an edit must say which version it was based on")
    case = _case_in_reach(ctx, args["case_id"])
    if not is_open(case.status):
        raise Rejected("CASE_CLOSED", "the case is no longer open", current=case.status.value)
    outcome = cases.edit_fields(
        ctx.session,
        case,
        args["changes"],
        author_id=_actor(ctx).user_id,
        version=ctx.version,
        base_version=ctx.mutation.base_version,
        device_id=ctx.device.device_id,
        op_id=ctx.mutation.op_id,
    )
    result: dict[str, Any] = {"applied": sorted(outcome.apply), "parallel": outcome.parallel}
    if outcome.conflicts:
        ctx.session.flush()
        result["conflicts"] = [
            {"field": c.field, "conflict_id": c.id}
            for c in ctx.session.scalars(
                select(CaseConflict).where(CaseConflict.op_id == ctx.mutation.op_id)
            )
        ]
    return result


def case_transition(ctx: MutationContext, args: dict[str, Any]) -> dict[str, Any]:
    """A status change from the phone, checked against the state machine and who may do it."""
    case = _case_in_reach(ctx, args["case_id"])
    wanted = CaseStatus(args["from_status"]), CaseStatus(args["to_status"])
    current = case.status
    if current == wanted[1]:
        return {"status": current.value, "noop": True}
    if current != wanted[0]:
        raise Rejected(
            "STATUS_CONFLICT",
            f"the case is {current.value} now, not {wanted[0].value}",
            current=current.value,
        )
    if wanted not in PHONE_HANDLER_TRANSITIONS | PHONE_CHECK_TRANSITIONS:
        raise Rejected("TRANSITION_NOT_ALLOWED", "this status change is made in the office")
    user = _actor(ctx).user
    # The one state machine (server/cases/workflow.py) decides who may take the step.
    actor = actor_for(ctx.session, user, on=shanghai_date(ctx.received_at))
    try:
        cases.apply_transition(
            ctx.session,
            case,
            actor,
            wanted[1],
            at=ctx.received_at,
            note=args["note"],
            version=ctx.version,
            device_id=ctx.device.device_id,
            recorded_at_device=ctx.mutation.recorded_at_device,
        )
    except InvalidTransition as error:
        raise Rejected("STATUS_CONFLICT", str(error.message), current=case.status.value) from None
    except StepNotPermitted as error:
        raise Rejected("NOT_PERMITTED", str(error.message)) from None
    except InvalidInput as error:
        raise Rejected("INVALID_ARGS", str(error.message)) from None
    return {"status": wanted[1].value}


# --- the registry ------------------------------------------------------------------------


def _validator(schema: Schema) -> Any:
    """Load one mutation's args with `schema` (a handler's `load_plain` answers plain inputs
    before it, sync.engine)."""

    def validate(raw: dict[str, Any]) -> dict[str, Any]:
        try:
            result: dict[str, Any] = schema.load(raw)
        except ValidationError as error:
            raise Rejected(
                "INVALID_ARGS",
                "the mutation's arguments are not valid",
                errors=error.messages,
                field=schemas.first_error_field(error.messages),
            ) from None
        return result

    return validate


@functools.cache
def _validators() -> dict[str, Any]:
    """One loader per mutation, built once per process (schemas are stateless on load; building
    six of them per push cost more than the op-id check)."""
    return {name: _validator(schema()) for name, schema in schemas.MUTATION_ARGS.items()}


def build_handlers(settings: Settings) -> dict[str, Handler]:
    """Every mutation the server accepts, by name."""
    load = _validators()
    return {
        "visit.create": Handler(
            load["visit.create"],
            visit_create,
            checks_before_writing=True,
            prefetch=visit_prefetch,
            prefetch_new=functools.partial(visit_prefetch, own_ids=False),
            append_only=visit_is_append_only,
            row_keeps_args=visit_row_keeps_args,
            load_plain=schemas.fast_visit_create,
            plain=plain_visits,
        ),
        "case.report": Handler(
            load["case.report"],
            lambda ctx, args: case_report(ctx, args, settings),
            checks_before_writing=True,
            prefetch=report_prefetch,
            append_only=True,
        ),
        "case.note": Handler(load["case.note"], case_note),
        "case.set_fields": Handler(load["case.set_fields"], case_set_fields),
        "case.transition": Handler(load["case.transition"], case_transition),
        "photo.attach": Handler(load["photo.attach"], photo_attach),
        "form.answer": Handler(
            load["form.answer"],
            lambda ctx, args: form_answer(
                ctx, args, lambda report, channel: file_case(ctx, settings, report, channel=channel)
            ),
            checks_before_writing=True,
            prefetch=answer_prefetch,
            append_only=answer_is_append_only,
        ),
    }
