"""SEAM — local stand-ins for the grid server branch (issue 3), to swap at merge.

Everything the back office needs from the grid goes through this one module, so merging
the grid branch means re-pointing these few functions, not editing callers:

* `place_and_assign(session, case, *, on, version)` → the grid branch's
  `server.grid.assignment.place_and_assign(session, case, index, on=…, version=…)` with
  `index = index_cache(app).current(session).index`.
* `cell_tree(session)` / `ancestors(...)` → `server.grid.people.cell_path`.
* `responsible_people(session, cell_code, on=…)` → `server.grid.people.responsible_people`.
* `leaflet_url(filename)` → `url_for("grid.leaflet", filename=…)` (and drop `vendor_bp`).

Behaviour matches the grid branch's documented rules: covers-wins, deepest level, smallest
code on a shared edge, `near` within NEAR_DISTANCE_M, unplaced otherwise; the principal
grid worker of the cell (deputy if none), falling back to the parent cell (属地兜底).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import xstatic.pkg.leaflet as leaflet_pkg
from flask import Blueprint, Flask, current_app, send_from_directory, url_for
from shapely import from_wkb
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from geo.levels import Level
from geo.locate import GridIndex, IndexedCell
from server.accounts.models import User
from server.cases.models import Case
from server.enums import DutyRank, DutyRole, GridStatus, Placement, UnitKind
from server.grid.models import Cell, Duty, GridVersion
from server.units.models import Unit

_CACHE_KEY = "wangge.backoffice.grid_cache"
PLACEMENT_BY_STATUS = {"in": Placement.IN, "near": Placement.NEAR, "none": Placement.UNPLACED}
#: Catalogue units that mean "the one of the cell where the matter is" (docs/catalogue.md).
PER_CELL_UNITS = {"U-WY": UnitKind.PROPERTY_COMPANY, "U-JWH": None}


@dataclass(frozen=True)
class CellInfo:
    code: str
    name: str
    level: str
    parent_code: str | None


@dataclass
class _Published:
    key: tuple[Any, ...]
    cells: dict[str, CellInfo]
    index: GridIndex | None = None
    wkb: dict[str, bytes] | None = None


def _published(session: Session) -> _Published | None:
    """The published grid's cells (and, lazily, its index), cached per app and version."""
    key = session.execute(
        select(GridVersion.id, GridVersion.published_at).where(
            GridVersion.status == GridStatus.PUBLISHED
        )
    ).first()
    if key is None:
        return None
    cache: dict[str, _Published] = current_app.extensions.setdefault(_CACHE_KEY, {})
    found = cache.get("current")
    if found is not None and found.key == tuple(key):
        return found
    rows = session.execute(
        select(Cell.code, Cell.name, Cell.level, Cell.parent_code).where(
            Cell.grid_version_id == key[0]
        )
    ).all()
    cells = {r.code: CellInfo(r.code, r.name, str(r.level), r.parent_code) for r in rows}
    cache["current"] = found = _Published(tuple(key), cells)
    return found


def cell_tree(session: Session) -> dict[str, CellInfo]:
    """Code → cell of the published grid (empty when nothing is published)."""
    published = _published(session)
    return published.cells if published else {}


def cell_geometries(session: Session) -> dict[str, bytes]:
    """Code → WKB of the published cells (cached; used by the map and the choropleth)."""
    published = _published(session)
    if published is None:
        return {}
    if published.wkb is None:
        rows = session.execute(
            select(Cell.code, Cell.geometry_wkb).where(Cell.grid_version_id == published.key[0])
        ).all()
        published.wkb = {r.code: bytes(r.geometry_wkb) for r in rows}
    return published.wkb


def ancestors(cells: dict[str, CellInfo], code: str | None) -> list[str]:
    """The cell and its ancestors, deepest first (a code not in the grid gives [])."""
    path: list[str] = []
    while code and code in cells and code not in path:
        path.append(code)
        code = cells[code].parent_code
    return path


def ancestor_at(cells: dict[str, CellInfo], code: str | None, level: str) -> str | None:
    return next((c for c in ancestors(cells, code) if cells[c].level == level), None)


def descendants(cells: dict[str, CellInfo], roots: set[str]) -> set[str]:
    """`roots` and every cell below them."""
    children: dict[str, list[str]] = {}
    for info in cells.values():
        if info.parent_code:
            children.setdefault(info.parent_code, []).append(info.code)
    out, todo = set(), [c for c in roots if c in cells]
    while todo:
        code = todo.pop()
        if code not in out:
            out.add(code)
            todo.extend(children.get(code, []))
    return out


def _index(session: Session) -> GridIndex | None:
    published = _published(session)
    if published is None:
        return None
    if published.index is None:
        geoms = cell_geometries(session)
        published.index = GridIndex.build(
            [
                IndexedCell(
                    c.code, c.code, c.name, Level(c.level), c.parent_code, from_wkb(geoms[c.code])
                )
                for c in published.cells.values()
            ],
            near_m=float(current_app.config["NEAR_DISTANCE_M"]),
        )
    return published.index


@dataclass(frozen=True)
class Person:
    user_id: int
    display_name: str
    phone: str | None
    role: str
    rank: str
    cell_code: str


def responsible_people(
    session: Session, cell_code: str, *, on: dt.date, role: DutyRole | None = None
) -> tuple[str | None, list[Person]]:
    """(answering cell, people) for a cell: its own current duties, else its parent's, upward."""
    path = ancestors(cell_tree(session), cell_code) or [cell_code]
    query = (
        select(Duty, User)
        .join(User, User.id == Duty.user_id)
        .where(
            Duty.cell_code.in_(path),
            Duty.starts_on <= on,
            or_(Duty.ends_on.is_(None), Duty.ends_on >= on),
            User.is_active.is_(True),
        )
    )
    if role is not None:
        query = query.where(Duty.role == role)
    found: dict[str, list[Person]] = {}
    for duty, user in session.execute(query).all():
        found.setdefault(duty.cell_code, []).append(
            Person(
                user.id,
                user.display_name,
                user.phone,
                str(duty.role),
                str(duty.rank),
                duty.cell_code,
            )
        )
    for code in path:
        if found.get(code):
            people = sorted(found[code], key=lambda p: (p.role, p.rank != DutyRank.PRINCIPAL))
            return code, people
    return None, []


def resolve_unit(session: Session, unit_id: int | None, cell_code: str | None) -> int | None:
    """A per-cell placeholder unit (U-WY, U-JWH) becomes the real one of the cell, if known."""
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    if unit is None or unit.code not in PER_CELL_UNITS or not cell_code:
        return unit_id
    path = ancestors(cell_tree(session), cell_code)
    candidates = session.scalars(
        select(Unit).where(
            Unit.cell_code.in_(path), Unit.is_active.is_(True), Unit.kind == unit.kind
        )
    ).all()
    by_cell = {u.cell_code: u for u in candidates}
    for code in path:  # the nearest level up wins
        if code in by_cell:
            return by_cell[code].id
    return unit_id


def place_and_assign(
    session: Session, case: Case, *, on: dt.date, version: int | None = None
) -> bool:
    """Locate the case's point, set cell/placement, assignee (grid worker) and unit.

    Returns True when the case landed in (or near) a cell.
    """
    index = _index(session) if case.lon is not None and case.lat is not None else None
    if case.lon is None or case.lat is None:
        placement, cell_code = (
            (Placement.IN, case.cell_code) if case.cell_code else (Placement.UNLOCATED, None)
        )
    elif index is None:
        placement, cell_code = Placement.UNPLACED, None
    else:
        found = index.locate(case.lon, case.lat)
        placement = PLACEMENT_BY_STATUS[found.status]
        cell_code = found.cell.code if found.cell else None
    case.cell_code, case.placement = cell_code, placement
    if cell_code:
        _, people = responsible_people(session, cell_code, on=on, role=DutyRole.GRID_WORKER)
        case.assignee_id = people[0].user_id if people else None
    if case.unit_id is None and case.catalogue_item is not None:
        case.unit_id = case.catalogue_item.default_unit_id
    case.unit_id = resolve_unit(session, case.unit_id, cell_code)
    if version is not None:
        case.version = version
    return cell_code is not None


# --- Leaflet, served from the xstatic-leaflet package --------------------------------------

vendor_bp = Blueprint("backoffice_vendor", __name__, url_prefix="/backoffice/vendor")


@vendor_bp.route("/leaflet/<path:filename>")
def leaflet(filename: str) -> Response:
    """Leaflet from the installed package: maps work with no internet and no CDN."""
    return send_from_directory(leaflet_pkg.BASE_DIR, filename, max_age=86400)


def leaflet_url(filename: str) -> str:
    return url_for("backoffice_vendor.leaflet", filename=filename)


def init_app(app: Flask) -> None:
    app.register_blueprint(vendor_bp)
    app.add_template_global(leaflet_url, "leaflet_url")
