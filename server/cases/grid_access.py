"""What the back office reads from the published grid: the cell tree, geometries, people.

Locating uses the app's shared index cache (`server.grid.index`), people come from
`server.grid.people` (属地兜底 fallback included) and assignment from
`server.grid.assignment.assign_case`, so intake, phone reports and publishing place and
assign a case the same way. The cell tree and WKB are cached per published version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.locate import GridIndex
from server.cases.models import Case
from server.enums import DutyRank, DutyRole, GridStatus, Placement
from server.extensions import db
from server.grid import people
from server.grid.assignment import assign_case
from server.grid.index import index_cache
from server.grid.models import Cell, GridVersion
from server.grid.people import Responsible

_CACHE_KEY = "wangge.backoffice.grid_cache"
PLACEMENT_BY_STATUS = {"in": Placement.IN, "near": Placement.NEAR, "none": Placement.UNPLACED}


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
    children: dict[str, list[str]] | None = None


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


def published_children(session: Session) -> tuple[int, dict[str, list[str]]] | None:
    """The published version's id and its tree as parent code → child codes (cached with the
    cells; a sync scope walks it on every push and pull), or None when nothing is published."""
    published = _published(session)
    if published is None:
        return None
    if published.children is None:
        published.children = _children(published.cells)
    return published.key[0], published.children


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


#: Between the names of a cell path (the admin pages' tree uses the same).
PATH_SEPARATOR = " › "


def cell_path(cells: dict[str, CellInfo], code: str) -> str:
    """A cell named by its path below the street: "新华一村 › 第二块区 › 1号楼组".

    Many cells share a bare name (every block has a 1号楼组); the street is left out (a
    deployment serves one) unless the cell is the street. A code not in the grid is itself.
    """
    path = [cells[c] for c in reversed(ancestors(cells, code))]
    names = [c.name for c in path if c.level != "street"] or [c.name for c in path]
    return PATH_SEPARATOR.join(names) or code


def cell_path_text(code: str | None) -> str:
    """Template global: the cell's path as plain text (for an <option>); "" for no cell."""
    return cell_path(cell_tree(db.session), code) if code else ""


def cell_path_html(code: str | None) -> Markup:
    """Template global: the cell's path, its code on hover (exports keep the bare code)."""
    if not code:
        return Markup("")
    text = cell_path(cell_tree(db.session), code)
    return Markup('<span class="cell-path" title="{}">{}</span>').format(code, text)


def ancestor_at(cells: dict[str, CellInfo], code: str | None, level: str) -> str | None:
    return next((c for c in ancestors(cells, code) if cells[c].level == level), None)


def descendants(cells: dict[str, CellInfo], roots: set[str]) -> set[str]:
    """`roots` and every cell below them."""
    children = _children(cells)
    out, todo = set(), [c for c in roots if c in cells]
    while todo:
        code = todo.pop()
        if code not in out:
            out.add(code)
            todo.extend(children.get(code, []))
    return out


def _children(cells: dict[str, CellInfo]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for info in cells.values():
        if info.parent_code:
            children.setdefault(info.parent_code, []).append(info.code)
    return children


def _index(session: Session) -> GridIndex | None:
    published = index_cache(current_app).current(session)
    return published.index if published else None


def responsible_people(
    session: Session, cell_code: str, *, on: dt.date, role: DutyRole | None = None
) -> tuple[str | None, list[Responsible]]:
    """(answering cell, people) for a cell: its own current duties, else its parent's, upward."""
    path = ancestors(cell_tree(session), cell_code) or [cell_code]
    answer = people.responsible_people(session, cell_code, on=on, role=role, path=path)
    ranked = sorted(answer.people, key=lambda p: (p.role, p.rank != DutyRank.PRINCIPAL))
    return answer.found_at, ranked


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
    assign_case(session, case, on=on)
    if version is not None:
        case.version = version
    return cell_code is not None


def leaflet_url(filename: str) -> str:
    """Leaflet's files, served by the grid pages from the xstatic-leaflet package (no CDN)."""
    return url_for("grid.leaflet", filename=filename)


def markercluster_url(filename: str) -> str:
    """Leaflet.markercluster's files, served from the xstatic-leaflet-markercluster package."""
    return url_for("grid.markercluster", filename=filename)


def init_app(app: Flask) -> None:
    app.add_template_global(leaflet_url, "leaflet_url")
    app.add_template_global(cell_path_html, "cell_path")
    app.add_template_global(cell_path_text, "cell_path_text")
    app.add_template_global(markercluster_url, "markercluster_url")
