"""GeoJSON for the map: cells of the published grid and cases, filtered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from shapely import from_wkb
from shapely.geometry import mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.cases import grid_access
from server.cases.models import Case
from server.catalogue.models import CatalogueItem
from server.enums import OPEN_STATUSES, CaseStatus, DutyRole
from server.labels import label
from server.privacy import Audience, render_case

#: Enough for a street; the map asks for a smaller window (filters) when there are more.
MAX_MARKERS = 5000


def cells_geojson(session: Session, level: str | None) -> dict[str, Any]:
    """The published cells (of one level), as an RFC 7946 FeatureCollection in WGS-84."""
    cells, geoms = grid_access.cell_tree(session), grid_access.cell_geometries(session)
    features = [
        {
            "type": "Feature",
            "id": code,
            "geometry": mapping(from_wkb(geoms[code])),
            "properties": {
                "code": code,
                "name": info.name,
                "level": info.level,
                "parent_code": info.parent_code,
            },
        }
        for code, info in sorted(cells.items())
        if level in (None, "", info.level)
    ]
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class CaseFilter:
    category_id: int | None = None
    status: str | None = None  # a status value, or "open"
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    cell_code: str | None = None


def _seen(row: Any, audience: Audience) -> dict[str, Any]:
    """Title and point as `audience` may read them: without personal-data rights (GIS
    staff) a case about a household shows a stand-in title at a point to ~100 m."""
    view = render_case(row, audience, fields=("title", "lon", "lat"))
    return {**view, "title": view.get("title") or str(label("private_case"))}


def cases_geojson(
    session: Session,
    f: CaseFilter,
    cells_allowed: frozenset[str] | None,
    audience: Audience = Audience.OFFICE,
) -> dict[str, Any]:
    """Located cases as points with number, title, status (colour) and link id."""
    query = select(
        Case.id,
        Case.number,
        Case.title,
        Case.disclosure,
        Case.status,
        Case.priority,
        Case.lon,
        Case.lat,
        Case.cell_code,
    ).where(Case.lon.is_not(None), Case.lat.is_not(None))  # whole points only
    if f.status == "open" or not f.status:
        query = query.where(Case.status.in_(OPEN_STATUSES))
    elif f.status != "all":
        query = query.where(Case.status == CaseStatus(f.status))
    if f.category_id:
        query = query.join(CatalogueItem, CatalogueItem.id == Case.catalogue_item_id).where(
            CatalogueItem.category_id == f.category_id
        )
    if f.since:
        query = query.where(Case.reported_at >= f.since)
    if f.until:
        query = query.where(Case.reported_at < f.until)
    if f.cell_code:
        codes = grid_access.descendants(grid_access.cell_tree(session), {f.cell_code})
        query = query.where(Case.cell_code.in_(sorted(codes)))
    if cells_allowed is not None:
        query = query.where(Case.cell_code.in_(sorted(cells_allowed)))
    rows = session.execute(query.order_by(Case.reported_at.desc()).limit(MAX_MARKERS)).all()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": str(r.id),
                "geometry": {"type": "Point", "coordinates": [seen["lon"], seen["lat"]]},
                "properties": {
                    "number": r.number,
                    "title": seen["title"],
                    "status": str(r.status),
                    "priority": str(r.priority),
                    "cell_code": r.cell_code,
                },
            }
            for r in rows
            for seen in (_seen(r, audience),)
        ],
    }


def cell_card(
    session: Session,
    code: str,
    *,
    on: dt.date,
    cells_allowed: frozenset[str] | None,
    audience: Audience = Audience.OFFICE,
) -> dict[str, Any] | None:
    """A clicked cell: its path, its people (with fallback) and its open cases.

    Only for a cell the viewer covers (`cells_allowed`, None = every cell): of any other cell
    a worker sees what the map itself shows (name, level, path) and a note that it is not
    theirs, never its open cases nor its people's phones.
    """
    cells = grid_access.cell_tree(session)
    if code not in cells:
        return None
    card: dict[str, Any] = {
        "code": code,
        "name": cells[code].name,
        "level": label(cells[code].level),
        "path": [cells[c].name for c in grid_access.ancestors(cells, code)],
        "restricted": cells_allowed is not None and code not in cells_allowed,
        "people": [],
        "open_cases": [],
    }
    if card["restricted"]:
        card["notice"] = str(_l("This cell is not yours: its cases and people are not shown."))
        return card
    found_at, people = grid_access.responsible_people(session, code, on=on)
    codes = grid_access.descendants(cells, {code})
    open_cases = session.execute(
        select(Case.id, Case.number, Case.title, Case.disclosure, Case.status)
        .where(Case.cell_code.in_(sorted(codes)), Case.status.in_(OPEN_STATUSES))
        .order_by(Case.reported_at.desc())
        .limit(50)
    ).all()
    card["people_from"] = found_at
    card["people"] = [
        {"name": p.display_name, "role": label(p.role), "rank": label(p.rank), "phone": p.phone}
        for p in people
        if p.role in {r.value for r in DutyRole}
    ]
    card["open_cases"] = [
        {
            "id": str(r.id),
            "number": r.number,
            "title": render_case(r, audience, fields=("title",)).get("title")
            or str(label("private_case")),
            "status": str(r.status),
            "status_label": label(r.status),
        }
        for r in open_cases
    ]
    return card
