"""visit.create: a household visit from the phone, the general handler and its plain path.

The general handler (`visit_create`, with `visit_prefetch`) answers every visit a phone can
send. The plain path (`plain_visits`, `sync.handlers.Handler.plain`) writes the visits a phone
sends by the thousand — new, plain args, no case named, nothing to correct — as tuples for one
bulk insert, with the same checks and the same rows and answers; anything else it leaves to the
general handler (tests/sync/test_plain_visits.py holds the two to the same answers and rows).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.cases.models import Case
from server.fieldsync import schemas
from server.fieldsync.phone_actor import actor_of as _actor
from server.fieldsync.scope import CaseReach
from server.population.models import Household, Resident, Visit
from server.privacy.operations import found_on_visit
from sync.batching import PENDING
from sync.bulk import stored_as_text
from sync.db import among
from sync.errors import Rejected
from sync.handlers import DeviceContext, Mutation, MutationContext, PlainRows
from sync.ids import parse_id

#: Visits are written as plain rows, one executemany per group (sync.engine.GroupWriter).
VISITS = Visit.__table__
_RESIDENTS_PER_QUERY = 1000
#: The columns of a plain visit's row given as stored text where the database stores text.
_STORED_AS_TEXT = frozenset({"id", "household_id", "residents_seen"})
#: The columns a plain visit's row fills itself (`plain_visits`), in its tuple's order; the
#: others are the same for every visit of a group (`PlainRows.constants`).
PLAIN_KEYS = (
    "id", "household_id", "visited_at", "residents_seen", "outcome", "situation", "needs",
    "follow_up", "lon", "lat", "accuracy_m",
)  # fmt: skip


@dataclass
class VisitBatch:
    """What a group of visit.create needs, read in a few queries instead of a few per visit.

    `visits` also gains each visit this group queues, so a repeated id answers `existing`.
    A case or corrected visit missing here may have been written earlier in the same group
    by another handler: the handler then asks the session (one query, rare). Residents are
    never written by a push, so `residents` is complete.
    """

    visits: dict[uuid.UUID, tuple[int, uuid.UUID]]  # id → (worker_id, household_id)
    households: dict[uuid.UUID, str]  # id → cell_code
    cases: dict[uuid.UUID, CaseReach]
    residents: dict[uuid.UUID, uuid.UUID]  # id → household_id


def visit_prefetch(
    session: Session,
    device: DeviceContext,
    args_list: list[dict[str, Any]],
    *,
    own_ids: bool = True,
) -> VisitBatch:
    """What `visit_create` reads, for a group. Without `own_ids` (a group's first try,
    `sync.handlers.Handler.prefetch_new`) the visits' own ids are not looked up: a visit sent
    again under a new seq then breaks the primary key when written, and the engine runs the
    group again with them read (it answers `existing` or ID_TAKEN)."""
    corrected = {a["corrects_visit_id"] for a in args_list if a["corrects_visit_id"] is not None}
    visit_ids = {a["id"] for a in args_list} | corrected if own_ids else corrected
    household_ids = {a["household_id"] for a in args_list}
    case_ids = {a["case_id"] for a in args_list if a["case_id"] is not None}
    resident_ids = {r for a in args_list for r in a["residents_seen"]}
    visits = (
        {
            row.id: (row.worker_id, row.household_id)
            for row in session.execute(
                select(Visit.id, Visit.worker_id, Visit.household_id).where(
                    among(session, Visit.id, visit_ids)
                )
            )
        }
        if visit_ids
        else {}
    )
    households = _cells_of(session, household_ids)
    cases_found = (
        {
            row.id: CaseReach(row.cell_code, row.assignee_id, row.reporter_id)
            for row in session.execute(
                select(Case.id, Case.cell_code, Case.assignee_id, Case.reporter_id).where(
                    among(session, Case.id, case_ids)
                )
            )
        }
        if case_ids
        else {}
    )
    return VisitBatch(visits, households, cases_found, _households_of(session, resident_ids))


def _cells_of(session: Session, household_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each household's cell code."""
    return {
        row.id: row.cell_code
        for row in session.execute(
            select(Household.id, Household.cell_code).where(
                among(session, Household.id, household_ids)
            )
        )
    }


def _households_of(session: Session, resident_ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Each named resident's household, in slices: a group may name more residents than
    SQLite takes parameters in one statement (500 visits × 500 residents seen)."""
    found: dict[uuid.UUID, uuid.UUID] = {}
    ordered = sorted(resident_ids)
    for start in range(0, len(ordered), _RESIDENTS_PER_QUERY):
        part = ordered[start : start + _RESIDENTS_PER_QUERY]
        for row in session.execute(
            select(Resident.id, Resident.household_id).where(among(session, Resident.id, part))
        ):
            found[row.id] = row.household_id
    return found


def _known_visit(ctx: MutationContext, batch: VisitBatch, visit_id: uuid.UUID) -> Any:
    found = batch.visits.get(visit_id)
    if found is None:
        visit = ctx.session.get(Visit, visit_id)
        found = (visit.worker_id, visit.household_id) if visit is not None else None
    return found


def visit_create(ctx: MutationContext, args: dict[str, Any]) -> dict[str, Any]:
    """Log a household visit (append-only; a correction names the visit it corrects)."""
    actor, batch = _actor(ctx), ctx.batch
    if batch is None:  # called outside a batched push (one mutation): read it now
        batch = visit_prefetch(ctx.session, ctx.device, [args])
    existing = batch.visits.get(args["id"])
    if existing is not None:
        if existing == (actor.user_id, args["household_id"]):
            return {"visit_id": str(args["id"]), "existing": True}
        raise Rejected("ID_TAKEN", "another record already has this id")
    cell_code = batch.households.get(args["household_id"])
    if cell_code is None:
        raise Rejected("UNKNOWN_HOUSEHOLD", "no such household")
    scope = actor.scope(ctx.session)
    if not scope.is_office and cell_code not in scope.cell_codes:
        raise Rejected("NOT_IN_SCOPE", "this household is not in your cells")
    corrects = args["corrects_visit_id"]
    if corrects is not None:
        original = _known_visit(ctx, batch, corrects)
        if original is None or original[1] != args["household_id"]:
            raise Rejected("BAD_CORRECTION", "the corrected visit is not of this household")
        if original[0] != actor.user_id and not scope.is_office:
            raise Rejected("BAD_CORRECTION", "only the visit's author may correct it")
    household_id, residents = args["household_id"], batch.residents
    for resident in args["residents_seen"]:
        if residents.get(resident) != household_id:
            raise Rejected(
                "RESIDENT_NOT_IN_HOUSEHOLD", "a resident seen is not registered in this household"
            )
    case_id = args["case_id"]
    if case_id is not None:
        reach = batch.cases.get(case_id)
        if reach is None:
            case = ctx.session.get(Case, case_id)
            if case is None:
                raise Rejected("UNKNOWN_CASE", "no such case")
            reach = batch.cases[case_id] = CaseReach.of(case)
        if not scope.covers(reach):
            raise Rejected("NOT_IN_SCOPE", "this case is not assigned to you nor in your cells")
    row = {
        "id": args["id"],
        "household_id": args["household_id"],
        "worker_id": actor.user_id,
        "device_id": ctx.device.device_id,
        "visited_at": args["visited_at"] or ctx.mutation.recorded_at_device or ctx.received_at,
        "received_at": ctx.received_at,
        "residents_seen": [str(r) for r in args["residents_seen"]],
        "outcome": args["outcome"],
        "situation": args["situation"],
        "needs": args["needs"],
        "follow_up": args["follow_up"],
        "lon": args["lon"],
        "lat": args["lat"],
        "accuracy_m": args["accuracy_m"],
        "corrects_visit_id": corrects,
        "case_id": case_id,
        "version": PENDING,  # the group's version, stamped when the row is written
    }
    if case_id is not None:  # after every check: this handler writes nothing before them
        found_on_visit(ctx.session, case_id, args["id"], actor.user_id, version=ctx.version)
    assert ctx.writes is not None
    ctx.writes.insert(VISITS, row)
    batch.visits[args["id"]] = (actor.user_id, args["household_id"])
    return {"visit_id": str(args["id"])}


def visit_is_append_only(args: dict[str, Any]) -> bool:
    """A visit that names no case only adds its own row (its id minted by the phone): it runs
    before the group takes the version clock. One that names a case also makes that case
    private (`found_on_visit`, a read-decide-write of a shared row): it runs under the clock.
    Why the reads it decides on may be a few milliseconds old: docs/sync-protocol.md
    §The serial section."""
    return args["case_id"] is None


def visit_row_keeps_args(result: dict[str, Any]) -> bool:
    """A visit applied as a new row (not `existing`): the row holds every argument (the
    schema refuses unknown keys), so its log row stores none (docs/sync-protocol.md §Push).
    A repeated id keeps its arguments in the log: the row holds the first sending's."""
    return "existing" not in result


def plain_visits(
    session: Session,
    device: DeviceContext,
    received_at: dt.datetime,
    mutations: Sequence[Mutation],
) -> PlainRows:
    """The rows and answers of the plain visits among `mutations` (new mutations of a group's
    first try, `sync.handlers.Handler.plain`): what `visit_create` writes and answers for them,
    without a dict per row. A visit is plain when it has no base version (its log row keeps
    none), its args load by the plain loader (`schemas.plain_visit_fields`: plain values, no
    case named, no visit corrected, ids in canonical text), its id is not among those of the
    visits before it here, and it passes every check of `visit_create` (household known and in
    the worker's cells, residents seen of that household). Anything else is left out, and the
    engine gives it to `visit_create`, which answers it (a rejection, or `existing` for a
    repeated id). Whether its id is taken already is left to the visits' primary key, as in
    the first try's prefetch (`prefetch_new`).

    Ids stay the text the phone sent, checked canonical, so equal ids are equal texts; where
    the database stores ids and JSON as text (SQLite, `sync.bulk.stored_as_text`) the row
    and the log's result are given in that form, built from the text."""
    loaded: list[tuple[Mutation, tuple[Any, ...]]] = []
    # Visit ids named by the visits left to `visit_create`, as canonical text: its batch knows
    # only the visits it queued itself, so a visit named there (a correction of it, the same
    # id again) must be queued there too.
    named: set[str] = set()
    fields_of = schemas.plain_visit_fields
    for mutation in mutations:
        fields = fields_of(mutation.args) if mutation.base_version is None else None
        if fields is None:
            named.update(str(visit_id) for visit_id in _ids_named(mutation.args))
        else:
            loaded.append((mutation, fields))
    actor = device.actor
    constants = {
        "worker_id": actor.user_id,
        "device_id": device.device_id,
        "received_at": received_at,
        "corrects_visit_id": None,
        "case_id": None,
        "version": PENDING,  # the group's version, stamped when the rows are written
    }
    rows: dict[int, tuple[tuple[Any, ...], dict[str, Any], str | None]] = {}
    if not loaded:
        return PlainRows(VISITS, PLAIN_KEYS, constants, rows)
    cells_of, households_of = _reads_by_text(session, loaded)
    scope = actor.scope(session)
    cells = None if scope.is_office else scope.cell_codes
    as_text = stored_as_text(session, VISITS, _STORED_AS_TEXT)
    taken: set[str] = set()
    for mutation, fields in loaded:
        visit_id, household_id, residents = fields[0], fields[1], fields[3]
        if visit_id in taken:
            named.add(visit_id)  # the first one too: `visit_create` answers the second
        taken.add(visit_id)
        cell_code = cells_of.get(household_id)
        if (
            (named and visit_id in named)
            or cell_code is None
            or (cells is not None and cell_code not in cells)
            or any(households_of.get(r) != household_id for r in residents)
        ):
            continue
        visited_at = fields[2] or mutation.recorded_at_device or received_at
        if as_text:  # as the bind processors would store them (32 hex digits, JSON text)
            row = (
                visit_id.replace("-", ""), household_id.replace("-", ""), visited_at,
                '["' + '", "'.join(residents) + '"]' if residents else "[]", *fields[4:],
            )  # fmt: skip
            result_text = '{"visit_id": "' + visit_id + '"}'
        else:
            row = (parse_id(visit_id), parse_id(household_id), visited_at, list(residents),
                   *fields[4:])  # fmt: skip
            result_text = None
        rows[mutation.seq] = (row, {"visit_id": visit_id}, result_text)
    if named:  # a visit named after it was taken (sent twice, or corrected later on)
        rows = {seq: row for seq, row in rows.items() if row[1]["visit_id"] not in named}
    stored = _STORED_AS_TEXT if as_text else frozenset()
    return PlainRows(VISITS, PLAIN_KEYS, constants, rows, stored)


def _reads_by_text(
    session: Session, loaded: list[tuple[Mutation, tuple[Any, ...]]]
) -> tuple[dict[str, str], dict[str, str]]:
    """For the plain visits `loaded`: each named household's cell code and each named
    resident's household, keyed by the ids' canonical text (what `str` of a `uuid.UUID` gives,
    so the phone's checked text finds them)."""
    household_ids = {parse_id(text) for text in {fields[1] for _, fields in loaded}}
    resident_ids = {parse_id(text) for text in {r for _, fields in loaded for r in fields[3]}}
    cells = {str(key): cell for key, cell in _cells_of(session, household_ids).items()}
    households = {
        str(key): str(value) for key, value in _households_of(session, resident_ids).items()
    }
    return cells, households


def _ids_named(raw: Any) -> list[uuid.UUID]:
    """The visit ids args the plain loader refused may name (its own, the one it corrects),
    in any form `uuid.UUID` reads; the schema may accept what the plain loader does not."""
    if type(raw) is not dict:
        return []
    found = []
    for key in ("id", "corrects_visit_id"):
        value = raw.get(key)
        if type(value) is str:
            try:
                found.append(uuid.UUID(value))
            except ValueError:
                continue
    return found
