"""The worker's pull: scoped sources over the server's tables, read in one snapshot.

Ranks fix the order of tables within one version. Case deletions (scope exits) rank before
case upserts, so a case that left and came back at the same version ends up present.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from server.accounts.models import User
from server.cases.models import Case, CaseEvent, Photo, PhotoLink
from server.catalogue.models import CatalogueItem
from server.enums import OPEN_STATUSES, PhotoStatus
from server.fieldsync.scope import WorkerScope, scope_for
from server.grid.models import Cell
from server.population.models import CareTag, Household, Resident, Visit
from sync.models import REJECTED, CaseConflict, DeviceState, MutationRecord, ScopeExit, SyncMark
from sync.pull import Change, Key, Page, Source, pull_page
from sync.versions import current_version

HISTORY_HORIZON = "history_horizon"


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


def pull_for_device(
    session: Session, user: User, device_id: uuid.UUID, cursor: str | None, limit: int
) -> PullAnswer:
    """One page of the user's changes after `cursor`, read from a single snapshot."""
    begin_snapshot(session)
    try:
        top = current_version(session)
        horizon = session.scalar(select(SyncMark.value).where(SyncMark.name == HISTORY_HORIZON))
        scope = scope_for(session, user)
        sources = _sources(session, scope, device_id, full=not cursor)
        page = pull_page(
            sources,
            cursor,
            top_version=top,
            horizon_version=horizon or 0,
            scope=scope.fingerprint,
            limit=limit,
        )
        state = session.get(DeviceState, device_id)
        missing = list(
            session.scalars(
                select(PhotoLink.photo_sha256)
                .join(Photo, Photo.sha256 == PhotoLink.photo_sha256)
                .where(PhotoLink.device_id == device_id, Photo.status == PhotoStatus.MISSING)
                .distinct()
                .order_by(PhotoLink.photo_sha256)
            )
        )
        reference = None if cursor or page.reset else {"care_tags": _care_tags(session)}
        return PullAnswer(page, state.last_seq if state else 0, top, missing, reference)
    finally:
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
    return or_(version_col > version, and_(version_col == version, id_col > native(after.id)))


def _sources(
    session: Session, scope: WorkerScope, device_id: uuid.UUID, full: bool
) -> list[Source]:
    codes = sorted(scope.cell_codes)
    user_id = scope.user_id

    def rows(
        model: Any,
        rank: int,
        where: ColumnElement[bool],
        after: Key | None,
        top: int,
        limit: int,
        native: Callable[[str], Any],
        options: tuple[Any, ...] = (),
        id_col: Any = None,
    ) -> list[Any]:
        id_col = id_col if id_col is not None else model.id
        stmt = (
            select(model)
            .where(where, model.version <= top, _after(after, rank, model.version, id_col, native))
            .order_by(model.version, id_col)
            .limit(limit)
            .options(*options)
        )
        return list(session.scalars(stmt))

    def cells(after: Key | None, top: int, limit: int) -> list[Change]:
        if scope.grid_version_id is None or not codes:
            return []
        where = and_(Cell.grid_version_id == scope.grid_version_id, Cell.code.in_(codes))
        return [
            Change("cells", str(c.id), c.version, "upsert", _cell(c), c.id)
            for c in rows(Cell, 1, where, after, top, limit, int)
        ]

    def catalogue(after: Key | None, top: int, limit: int) -> list[Change]:
        where = CatalogueItem.is_active.is_(True) if full else true()
        return [
            Change(
                "catalogue_items",
                str(i.id),
                i.version,
                "upsert" if i.is_active else "delete",
                _item(i) if i.is_active else None,
                i.id,
            )
            for i in rows(
                CatalogueItem,
                2,
                where,
                after,
                top,
                limit,
                int,
                (selectinload(CatalogueItem.category),),
            )
        ]

    def households(after: Key | None, top: int, limit: int) -> list[Change]:
        if not codes:
            return []
        return [
            Change("households", str(h.id), h.version, "upsert", _household(h), h.id)
            for h in rows(
                Household, 3, Household.cell_code.in_(codes), after, top, limit, uuid.UUID
            )
        ]

    def residents(after: Key | None, top: int, limit: int) -> list[Change]:
        if not codes:
            return []
        in_cells = Resident.household_id.in_(
            select(Household.id).where(Household.cell_code.in_(codes))
        )
        return [
            Change("residents", str(r.id), r.version, "upsert", _resident(r), r.id)
            for r in rows(
                Resident, 4, in_cells, after, top, limit, uuid.UUID, (selectinload(Resident.tags),)
            )
        ]

    def case_exits(after: Key | None, top: int, limit: int) -> list[Change]:
        if full:
            return []  # a first pull has nothing to delete
        mine = or_(
            ScopeExit.user_id == user_id, ScopeExit.cell_code.in_(codes) if codes else false()
        )
        stmt = (
            select(ScopeExit.version, ScopeExit.row_id)
            .where(
                ScopeExit.table_name == "cases",
                mine,
                ScopeExit.version <= top,
                _after(after, 5, ScopeExit.version, ScopeExit.row_id, str),
            )
            .distinct()
            .order_by(ScopeExit.version, ScopeExit.row_id)
            .limit(limit)
        )
        # row_id is the UUID's hex: digits and a-f sort the same under every collation.
        return [
            Change("cases", str(uuid.UUID(row_id)), v, "delete", None, row_id)
            for v, row_id in session.execute(stmt)
        ]

    def open_cases(after: Key | None, top: int, limit: int) -> list[Change]:
        reach = [Case.assignee_id == user_id, Case.reporter_id == user_id]
        if codes:
            reach.append(Case.cell_code.in_(codes))
        where = and_(Case.status.in_(OPEN_STATUSES), or_(*reach))
        found = rows(Case, 6, where, after, top, limit, uuid.UUID, (selectinload(Case.events),))
        photos = _photos_of(session, [c.id for c in found])
        return [
            Change("cases", str(c.id), c.version, "upsert", _case(c, photos.get(c.id, [])), c.id)
            for c in found
        ]

    def visits(after: Key | None, top: int, limit: int) -> list[Change]:
        return [
            Change("visits", str(v.id), v.version, "upsert", _visit(v), v.id)
            for v in rows(Visit, 7, Visit.worker_id == user_id, after, top, limit, uuid.UUID)
        ]

    def conflicts(after: Key | None, top: int, limit: int) -> list[Change]:
        where = or_(
            CaseConflict.earlier_author_id == user_id, CaseConflict.later_author_id == user_id
        )
        return [
            Change("conflicts", str(c.id), c.version, "upsert", _conflict(c), c.id)
            for c in rows(CaseConflict, 8, where, after, top, limit, int)
        ]

    def rejections(after: Key | None, top: int, limit: int) -> list[Change]:
        stmt = (
            select(MutationRecord)
            .where(
                MutationRecord.device_id == device_id,
                MutationRecord.status == REJECTED,
                MutationRecord.server_version <= top,
                _after(after, 9, MutationRecord.server_version, MutationRecord.id, int),
            )
            .order_by(MutationRecord.server_version, MutationRecord.id)
            .limit(limit)
        )
        return [
            Change("rejections", str(m.id), m.server_version, "upsert", _rejection(m), m.id)
            for m in session.scalars(stmt)
        ]

    return [
        Source("cells", 1, cells),
        Source("catalogue_items", 2, catalogue),
        Source("households", 3, households),
        Source("residents", 4, residents),
        Source("case_exits", 5, case_exits),
        Source("cases", 6, open_cases),
        Source("visits", 7, visits),
        Source("conflicts", 8, conflicts),
        Source("rejections", 9, rejections),
    ]


# --- wire forms -----------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _cell(c: Cell) -> dict[str, Any]:
    geometry = shapely.from_wkb(c.geometry_wkb)
    return {
        "code": c.code,
        "name": c.name,
        "level": c.level.value,
        "parent_code": c.parent_code,
        "bbox": [c.min_lon, c.min_lat, c.max_lon, c.max_lat],
        "geometry": shapely.geometry.mapping(geometry),
    }


def _item(i: CatalogueItem) -> dict[str, Any]:
    return {
        "code": i.code,
        "kind": i.category.kind.value,
        "category_code": i.category.code,
        "name_zh": i.name_zh,
        "name_en": i.name_en,
        "pinyin_initials": i.pinyin_initials,
        "keywords": i.keywords,
    }


def _household(h: Household) -> dict[str, Any]:
    return {
        "address": h.address,
        "road": h.road,
        "lane": h.lane,
        "building": h.building,
        "room": h.room,
        "cell_code": h.cell_code,
        "lon": h.lon,
        "lat": h.lat,
        "notes": h.notes,
    }


def _resident(r: Resident) -> dict[str, Any]:
    return {
        "household_id": str(r.household_id),
        "name": r.name,
        "gender": r.gender,
        "birth_year": r.birth_year,
        "phone": r.phone,
        "relation": r.relation,
        "notes": r.notes,
        "tags": sorted(t.tag_code for t in r.tags),
    }


def _photos_of(session: Session, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    found: dict[uuid.UUID, list[str]] = {}
    if case_ids:
        for case_id, sha in session.execute(
            select(PhotoLink.case_id, PhotoLink.photo_sha256)
            .where(PhotoLink.case_id.in_(case_ids))
            .order_by(PhotoLink.version, PhotoLink.photo_sha256)
        ):
            found.setdefault(case_id, []).append(sha)
    return found


def _event(e: CaseEvent) -> dict[str, Any]:
    return {
        "id": str(e.id),
        "seq": e.seq,
        "kind": e.kind,
        "actor_id": e.actor_id,
        "at": _iso(e.at),
        "note": e.note,
        "from": e.from_status,
        "to": e.to_status,
        "after_close": e.after_close,
    }


def _case(c: Case, photos: list[str]) -> dict[str, Any]:
    return {
        "number": c.number,
        "status": c.status.value,
        "channel": c.channel.value,
        "priority": c.priority.value,
        "title": c.title,
        "description": c.description,
        "address": c.address,
        "lon": c.lon,
        "lat": c.lat,
        "cell_code": c.cell_code,
        "placement": c.placement.value,
        "assignee_id": c.assignee_id,
        "reporter_id": c.reporter_id,
        "reported_at": _iso(c.reported_at),
        "due_at": _iso(c.due_at),
        "field_versions": c.field_versions,
        "events": [_event(e) for e in c.events],
        "photos": photos,
    }


def _visit(v: Visit) -> dict[str, Any]:
    return {
        "household_id": str(v.household_id),
        "visited_at": _iso(v.visited_at),
        "outcome": v.outcome,
        "residents_seen": v.residents_seen,
        "situation": v.situation,
        "needs": v.needs,
        "follow_up": v.follow_up,
        "lon": v.lon,
        "lat": v.lat,
        "corrects_visit_id": str(v.corrects_visit_id) if v.corrects_visit_id else None,
        "case_id": str(v.case_id) if v.case_id else None,
    }


def _conflict(c: CaseConflict) -> dict[str, Any]:
    return {
        "case_id": str(c.case_id),
        "field": c.field,
        "earlier_value": c.earlier_value,
        "earlier_author_id": c.earlier_author_id,
        "later_value": c.later_value,
        "later_author_id": c.later_author_id,
        "resolution": c.resolution,
        "resolved_at": _iso(c.resolved_at),
    }


def _rejection(m: MutationRecord) -> dict[str, Any]:
    return {
        "seq": m.seq,
        "op_id": str(m.op_id),
        "name": m.name,
        "code": m.reason_code,
        "message": m.reason_message,
        "details": (m.result or {}).get("details"),
        "args": m.args,
    }


def _care_tags(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "code": t.code,
            "name_zh": t.name_zh,
            "name_en": t.name_en,
            "visit_every_days": t.visit_every_days,
            "priority": t.priority,
        }
        for t in session.scalars(select(CareTag).order_by(CareTag.code))
    ]
