"""Wire forms of pulled rows (docs/sync-protocol.md §Pull), and the small reads they need."""

from __future__ import annotations

import uuid
from typing import Any

import shapely
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.cases.models import Case, CaseEvent, Photo, PhotoLink
from server.catalogue.models import CatalogueItem
from server.catalogue.search import search_initials
from server.enums import DutyRank, DutyRole, PhotoStatus
from server.grid.models import Cell, Duty
from server.population.models import CareTag, Visit
from sync.db import among
from sync.models import CaseConflict, MutationRecord


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def cell_data(c: Cell) -> dict[str, Any]:
    geometry = shapely.from_wkb(c.geometry_wkb)
    return {
        "code": c.code,
        "name": c.name,
        "level": c.level.value,
        "parent_code": c.parent_code,
        "bbox": [c.min_lon, c.min_lat, c.max_lon, c.max_lat],
        "geometry": shapely.geometry.mapping(geometry),
    }


def item_data(i: CatalogueItem) -> dict[str, Any]:
    return {
        "code": i.code,
        "kind": i.category.kind.value,
        "category_code": i.category.code,
        "name_zh": i.name_zh,
        "name_en": i.name_en,
        "pinyin_initials": i.pinyin_initials,
        "keywords": i.keywords,
        # what the phone's search looks in (server/catalogue/search.py)
        "search_initials": search_initials(i.name_zh, i.keywords or []),
    }


def household_data(h: Any) -> dict[str, Any]:
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


def resident_data(r: Any, tags: dict[uuid.UUID, list[str]]) -> dict[str, Any]:
    return {
        "household_id": str(r.household_id),
        "name": r.name,
        "gender": r.gender,
        "birth_year": r.birth_year,
        "phone": r.phone,
        "relation": r.relation,
        "notes": r.notes,
        "tags": sorted(tags.get(r.id, ())),
    }


def missing_photos(session: Session, device_id: uuid.UUID) -> list[str]:
    """Hashes this device linked whose bytes the server still needs from it (sorted): bytes
    nobody sent yet, or a pending link (server/photos/access.py) whose linker has not sent
    them, whoever else did."""
    return list(
        session.scalars(
            select(PhotoLink.photo_sha256)
            .join(Photo, Photo.sha256 == PhotoLink.photo_sha256)
            .where(
                PhotoLink.device_id == device_id,
                or_(Photo.status == PhotoStatus.MISSING, PhotoLink.proof.is_(None)),
            )
            .distinct()
            .order_by(PhotoLink.photo_sha256)
        )
    )


def photos_of(session: Session, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    found: dict[uuid.UUID, list[str]] = {}
    if case_ids:
        for case_id, sha in session.execute(
            select(PhotoLink.case_id, PhotoLink.photo_sha256)
            .where(among(session, PhotoLink.case_id, case_ids))
            .order_by(PhotoLink.version, PhotoLink.photo_sha256)
        ):
            found.setdefault(case_id, []).append(sha)
    return found


def event_data(e: CaseEvent) -> dict[str, Any]:
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


def case_data(c: Case, events: list[CaseEvent], photos: list[str]) -> dict[str, Any]:
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
        "events": [event_data(e) for e in events],
        "photos": photos,
    }


def visit_data(v: Visit) -> dict[str, Any]:
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


def conflict_data(c: CaseConflict) -> dict[str, Any]:
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


def rejection_data(m: MutationRecord) -> dict[str, Any]:
    return {
        "seq": m.seq,
        "op_id": str(m.op_id),
        "name": m.name,
        "code": m.reason_code,
        "message": m.reason_message,
        "details": (m.result or {}).get("details"),
        "args": m.args,
    }


def care_tags(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "code": t.code,
            "name_zh": t.name_zh,
            "name_en": t.name_en,
            "visit_every_days": t.visit_every_days,
            "priority": t.priority,
            "visit_form_id": t.visit_form_id,
        }
        for t in session.scalars(select(CareTag).order_by(CareTag.code))
    ]


def grid_reference(
    session: Session, grid_version_id: int | None, scope_codes: frozenset[str], today: Any
) -> list[dict[str, Any]]:
    """Every cell of the published grid by code, name, level and parent, with the names of
    its current grid workers (principal first): the phone names a cell by its path and, outside
    the worker's own cells, says whose cell it stands in. Outlines only for cells outside the
    worker's scope (their own come as `cells` rows). Names only: no phone, no resident."""
    if grid_version_id is None:
        return []
    workers: dict[str, list[tuple[int, str]]] = {}
    duties = session.execute(
        select(Duty.cell_code, Duty.rank, User.display_name)
        .join(User, User.id == Duty.user_id)
        .where(
            Duty.role == DutyRole.GRID_WORKER,
            Duty.starts_on <= today,
            or_(Duty.ends_on.is_(None), Duty.ends_on >= today),
        )
        .order_by(Duty.id)
    )
    for code, rank, name in duties:
        workers.setdefault(code, []).append((0 if rank == DutyRank.PRINCIPAL else 1, name))
    out = []
    for c in session.scalars(
        select(Cell).where(Cell.grid_version_id == grid_version_id).order_by(Cell.code)
    ):
        row: dict[str, Any] = {
            "code": c.code,
            "name": c.name,
            "level": c.level.value,
            "parent_code": c.parent_code,
            "workers": [name for _, name in sorted(workers.get(c.code, []), key=lambda w: w[0])],
        }
        if c.code not in scope_codes:
            row["geometry"] = shapely.geometry.mapping(shapely.from_wkb(c.geometry_wkb))
        out.append(row)
    return out
