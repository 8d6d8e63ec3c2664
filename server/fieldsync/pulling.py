"""The worker's pull: scoped sources over the server's tables, read in one snapshot.

Ranks fix the order of tables within one version. Deletions (scope exits) rank before the
upserts of their table, so a row that left and came back at the same version ends up present.
A scope change is sent by the transition sources of server/fieldsync/transition.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    false,
    not_,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from server.accounts.models import User
from server.cases.models import Case, CaseEvent
from server.catalogue.models import CatalogueItem
from server.enums import OPEN_STATUSES
from server.fieldsync.campaign_sources import INT_ID_RANKS, campaign_sources
from server.fieldsync.scope import WorkerScope, scope_for, scope_today
from server.fieldsync.transition import transition_sources
from server.fieldsync.wire import (
    care_tags,
    case_data,
    cell_data,
    conflict_data,
    grid_reference,
    household_data,
    item_data,
    missing_photos,
    photos_of,
    rejection_data,
    resident_data,
    visit_data,
)
from server.grid.models import Cell
from server.population.models import ACTIVE, Household, Resident, ResidentTag, Visit
from sync.db import among
from sync.history import HISTORY_HORIZON
from sync.models import (
    CaseConflict,
    DeviceState,
    MutationRecord,
    ScopeExit,
    SyncMark,
    SyncScope,
    rejected_rows,
)
from sync.pull import Change, Key, Page, Source, pull_page
from sync.versions import current_version


@dataclass(frozen=True)
class PullAnswer:
    page: Page
    last_seq: int
    server_version: int
    missing_photos: list[str]
    reference: dict[str, Any] | None


def begin_snapshot(session: Session) -> None:
    """Start a read transaction that sees one consistent state for every query after it."""
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        # pysqlite opens transactions only before writes; without BEGIN every SELECT would
        # see its own snapshot. BEGIN (deferred) pins the WAL snapshot at the first read.
        session.connection().exec_driver_sql("BEGIN")


class ReplicaBehind(Exception):
    """A replica cannot answer this pull as the primary would; the caller asks the primary."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class PageRead:
    answer: PullAnswer
    scope: WorkerScope
    #: The scope's fingerprint was already in `sync_scopes` in the snapshot (none to record).
    scope_known: bool


def pull_for_device(
    session: Session, user: User, device_id: uuid.UUID, cursor: str | None, limit: int
) -> PullAnswer:
    """One page of the user's changes after `cursor`, read from a single snapshot."""
    read = read_page(session, user, device_id, cursor, limit)
    if read.answer.page.cursor and not read.scope_known:
        remember_scope(session, read.scope)
    return read.answer


def read_page(
    session: Session,
    user: User,
    device_id: uuid.UUID,
    cursor: str | None,
    limit: int,
    *,
    replayed_at_least: int | None = None,
) -> PageRead:
    """Read one page in one snapshot of `session`'s database; writes nothing.

    `replayed_at_least` is set when `session` reads a replica: the version its clock must
    have reached in this very snapshot (server/fieldsync/pull_routing.py). Raises
    ReplicaBehind when it has not, or when the page would be a reset: resets are decided on
    the primary (a lagging replica may not hold the old scope's `sync_scopes` row yet).
    """
    begin_snapshot(session)
    try:
        top = current_version(session)
        if replayed_at_least is not None and top < replayed_at_least:
            raise ReplicaBehind("lag", f"replayed {top}, needs {replayed_at_least}")
        horizon = session.scalar(select(SyncMark.value).where(SyncMark.name == HISTORY_HORIZON))
        scope = scope_for(session, user)
        sources, loaders = _sources(session, scope, device_id, full=not cursor)
        page = pull_page(
            sources,
            cursor,
            top_version=top,
            horizon_version=horizon or 0,
            scope=scope.fingerprint,
            limit=limit,
            transition_sources=lambda from_scope, anchor: transition_sources(
                session, scope, from_scope, anchor, loaders, _not_after
            ),
        )
        if replayed_at_least is not None and page.reset:
            raise ReplicaBehind("reset", page.reset)
        state = session.get(DeviceState, device_id)
        reference = (
            None
            if cursor or page.reset
            else {
                "care_tags": care_tags(session),
                "grid": grid_reference(
                    session, scope.grid_version_id, scope.cell_codes, scope_today()
                ),
            }
        )
        answer = PullAnswer(
            page, state.last_seq if state else 0, top, missing_photos(session, device_id), reference
        )
        known = bool(page.cursor) and session.get(SyncScope, scope.fingerprint) is not None
    finally:
        session.rollback()
    return PageRead(answer, scope, known)


def remember_scope(session: Session, scope: WorkerScope) -> None:
    """Keep the cell set of a fingerprint a cursor is issued for (read back on a scope change).

    Its own short transaction after the read snapshot; two pulls racing to insert the same
    fingerprint are both fine (the loser's insert fails and the row is there).
    """
    if session.get(SyncScope, scope.fingerprint) is not None:
        session.rollback()
        return
    session.add(
        SyncScope(
            fingerprint=scope.fingerprint,
            grid_version_id=scope.grid_version_id,
            cell_codes=sorted(scope.cell_codes),
            epoch=scope.epoch,
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()


def _after(
    after: Key | None,
    rank: int,
    version_col: InstrumentedAttribute[Any],
    id_col: InstrumentedAttribute[Any],
    native: Callable[[str], Any],
) -> ColumnElement[bool]:
    if after is None:
        return true()
    how, version = after.after_clause(rank)
    if how == "gt":
        return version_col > version
    if how == "ge":
        return version_col >= version
    # A row value: PostgreSQL starts the (version, id) index scan right at the cursor.
    return tuple_(version_col, id_col) > tuple_(version, native(after.id))


def _not_after(
    after: Key,
    rank: int,
    version_col: InstrumentedAttribute[Any],
    id_col: InstrumentedAttribute[Any],
) -> ColumnElement[bool]:
    """Rows of `rank` the cursor has already passed (ids of these tables are UUIDs or ints)."""
    native: Callable[[str], Any] = int if rank in INT_ID_RANKS else uuid.UUID
    return not_(_after(after, rank, version_col, id_col, native))


Keys = list[tuple[int, Any]]


def _sources(
    session: Session, scope: WorkerScope, device_id: uuid.UUID, full: bool
) -> tuple[list[Source], dict[str, Callable[[Keys], list[Change]]]]:
    """The normal stream's sources, and the upsert loaders a scope transition reuses."""
    codes = sorted(scope.cell_codes)
    user_id = scope.user_id

    def keyset(
        version_col: Any,
        id_col: Any,
        rank: int,
        native: Callable[[str], Any],
        where: ColumnElement[bool],
    ) -> Callable[[Key | None, int, int], Keys]:
        """The source's keys after the cursor: two columns, no objects."""

        def keys(after: Key | None, top: int, limit: int) -> Keys:
            stmt = select(version_col, id_col)
            stmt = (
                stmt.where(
                    where, version_col <= top, _after(after, rank, version_col, id_col, native)
                )
                .order_by(version_col, id_col)
                .limit(limit)
            )
            return [(v, i) for v, i in session.execute(stmt)]

        return keys

    def load(model: Any, page: Keys, *options: Any) -> list[Any]:
        """The page's rows of `model`, in the page's order (one query)."""
        found = {
            row.id: row
            for row in session.scalars(
                select(model)
                .where(among(session, model.id, [i for _, i in page]))
                .options(*options)
            )
        }
        return [found[i] for _, i in page]

    def cells_load(page: Keys) -> list[Change]:
        return [
            Change("cells", str(c.id), c.version, "upsert", cell_data(c), c.id)
            for c in load(Cell, page)
        ]

    def catalogue_load(page: Keys) -> list[Change]:
        return [
            Change(
                "catalogue_items",
                str(i.id),
                i.version,
                "upsert" if i.is_active else "delete",
                item_data(i) if i.is_active else None,
                i.id,
            )
            for i in load(CatalogueItem, page, selectinload(CatalogueItem.category))
        ]

    def rows(table: Any, page: Keys) -> list[Any]:
        """Plain rows (no ORM objects: the bulk of a first pull), in the page's order."""
        found = {
            row.id: row
            for row in session.execute(
                select(table).where(among(session, table.c.id, [i for _, i in page]))
            )
        }
        return [found[i] for _, i in page]

    def households_load(page: Keys) -> list[Change]:
        return [
            Change("households", str(h.id), h.version, "upsert", household_data(h), h.id)
            for h in rows(Household.__table__, page)
        ]

    def residents_load(page: Keys) -> list[Change]:
        tags: dict[uuid.UUID, list[str]] = {}
        for resident_id, code in session.execute(
            select(ResidentTag.resident_id, ResidentTag.tag_code).where(
                among(session, ResidentTag.resident_id, [i for _, i in page])
            )
        ):
            tags.setdefault(resident_id, []).append(code)
        return [
            Change("residents", str(r.id), r.version, "upsert", resident_data(r, tags), r.id)
            for r in rows(Resident.__table__, page)
        ]

    def exits_keys(table: str, rank: int, by_user: bool) -> Callable[[Key | None, int, int], Keys]:
        """Scope exits of `table` for this worker: left their cells (or them, for cases)."""

        def keys(after: Key | None, top: int, limit: int) -> Keys:
            if full:
                return []  # a first pull has nothing to delete
            mine = ScopeExit.cell_code.in_(codes) if codes else false()
            if by_user:
                mine = or_(ScopeExit.user_id == user_id, mine)
            stmt = (
                select(ScopeExit.version, ScopeExit.row_id)
                .where(
                    ScopeExit.table_name == table,
                    mine,
                    ScopeExit.version <= top,
                    _after(after, rank, ScopeExit.version, ScopeExit.row_id, str),
                )
                .distinct()
                .order_by(ScopeExit.version, ScopeExit.row_id)
                .limit(limit)
            )
            return [(v, i) for v, i in session.execute(stmt)]

        return keys

    def exits_load(table: str) -> Callable[[Keys], list[Change]]:
        # row_id is the UUID's hex: digits and a-f sort the same under every collation.
        return lambda page: [
            Change(table, str(uuid.UUID(i)), v, "delete", None, i) for v, i in page
        ]

    def cases_load(page: Keys) -> list[Change]:
        found = load(Case, page)
        ids = [c.id for c in found]
        photos = photos_of(session, ids)
        events: dict[uuid.UUID, list[CaseEvent]] = {}
        if ids:
            for event in session.scalars(
                select(CaseEvent)
                .where(among(session, CaseEvent.case_id, ids))
                .order_by(CaseEvent.case_id, CaseEvent.seq)
            ):
                events.setdefault(event.case_id, []).append(event)
        return [
            Change(
                "cases",
                str(c.id),
                c.version,
                "upsert",
                case_data(c, events.get(c.id, []), photos.get(c.id, [])),
                c.id,
            )
            for c in found
        ]

    def visits_load(page: Keys) -> list[Change]:
        return [
            Change("visits", str(v.id), v.version, "upsert", visit_data(v), v.id)
            for v in load(Visit, page)
        ]

    def conflicts_load(page: Keys) -> list[Change]:
        return [
            Change("conflicts", str(c.id), c.version, "upsert", conflict_data(c), c.id)
            for c in load(CaseConflict, page)
        ]

    def rejections_load(page: Keys) -> list[Change]:
        return [
            Change("rejections", str(m.id), m.server_version, "upsert", rejection_data(m), m.id)
            for m in load(MutationRecord, page)
        ]

    def nothing(after: Key | None, top: int, limit: int) -> Keys:
        return []

    reach = [Case.assignee_id == user_id, Case.reporter_id == user_id]
    if codes:
        reach.append(Case.cell_code.in_(codes))
    in_cells = Household.cell_code.in_(codes)
    # A resident's cell, looked up per row by primary key: the listing then walks residents'
    # (version, id) index from the cursor and stops at the limit, whatever the planner thinks
    # of the tables (a join planned on stale statistics, right after a register import, took
    # a second per page on PostgreSQL).
    resident_in_cells = and_(
        select(Household.cell_code)
        .where(Household.id == Resident.household_id)
        .scalar_subquery()
        .in_(codes),
        # Who moved out or died stays on the register, not on the phones: their status
        # change wrote a scope exit (server/register/operations.py).
        Resident.status == ACTIVE,
    )
    has_cells = scope.grid_version_id is not None and bool(codes)
    sources = [
        Source(
            "household_exits", -2, exits_keys("households", -2, False), exits_load("households")
        ),
        Source("resident_exits", -1, exits_keys("residents", -1, False), exits_load("residents")),
        Source(
            "cells",
            1,
            keyset(
                Cell.version,
                Cell.id,
                1,
                int,
                and_(Cell.grid_version_id == scope.grid_version_id, Cell.code.in_(codes)),
            )
            if has_cells
            else nothing,
            cells_load,
        ),
        Source(
            "catalogue_items",
            2,
            keyset(
                CatalogueItem.version,
                CatalogueItem.id,
                2,
                int,
                CatalogueItem.is_active.is_(True) if full else true(),
            ),
            catalogue_load,
        ),
        Source(
            "households",
            3,
            keyset(Household.version, Household.id, 3, uuid.UUID, in_cells) if codes else nothing,
            households_load,
        ),
        Source(
            "residents",
            4,
            keyset(
                Resident.version,
                Resident.id,
                4,
                uuid.UUID,
                resident_in_cells,
            )
            if codes
            else nothing,
            residents_load,
        ),
        Source("case_exits", 5, exits_keys("cases", 5, True), exits_load("cases")),
        Source(
            "cases",
            6,
            keyset(
                Case.version,
                Case.id,
                6,
                uuid.UUID,
                and_(Case.status.in_(OPEN_STATUSES), or_(*reach)),
            ),
            cases_load,
        ),
        Source(
            "visits",
            7,
            keyset(Visit.version, Visit.id, 7, uuid.UUID, Visit.worker_id == user_id),
            visits_load,
        ),
        Source(
            "conflicts",
            8,
            keyset(
                CaseConflict.version,
                CaseConflict.id,
                8,
                int,
                or_(
                    CaseConflict.earlier_author_id == user_id,
                    CaseConflict.later_author_id == user_id,
                ),
            ),
            conflicts_load,
        ),
        Source(
            "rejections",
            9,
            keyset(
                MutationRecord.server_version,
                MutationRecord.id,
                9,
                int,
                and_(MutationRecord.device_id == device_id, rejected_rows()),
            ),
            rejections_load,
        ),
    ]
    campaign_table_sources, campaign_loaders = campaign_sources(
        session,
        scope,
        full,
        keyset,
        lambda table, rank: (exits_keys(table, rank, False), exits_load(table)),
    )
    sources.extend(campaign_table_sources)
    loaders = {
        "cells": cells_load,
        "households": households_load,
        "residents": residents_load,
        "cases": cases_load,
        **campaign_loaders,
    }
    return sources, loaders
