"""The published grid as a tree to pick cells from: children, search by name, paths of names."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.grid.models import Cell
from server.grid.people import published_version_id

#: How many cells a search or a branch shows at most (a branch of 20,000 cells is not a list).
LIMIT = 200
SEPARATOR = " › "


@dataclass(frozen=True)
class PickableCell:
    code: str
    name: str
    level: str
    path: str  # names from the street down, e.g. 新华一村 › 第二块区 › 1号楼组
    has_children: bool


def path_names(session: Session, codes: list[str]) -> dict[str, str]:
    """Each code's names from the top of the published grid down, joined with " › ".

    One query per level (four at most), however many codes. Unknown codes map to themselves.
    """
    version = published_version_id(session)
    rows: dict[str, tuple[str, str | None]] = {}
    wanted = set(codes)
    for _ in range(32):  # a parent loop in bad data stops here
        wanted -= rows.keys()
        if not wanted or version is None:
            break
        found = session.execute(
            select(Cell.code, Cell.name, Cell.parent_code).where(
                Cell.grid_version_id == version, Cell.code.in_(sorted(wanted))
            )
        ).all()
        if not found:
            break
        for code, name, parent in found:
            rows[code] = (name, parent)
        wanted = {parent for _, _, parent in found if parent}
    paths = {}
    for code in codes:
        names: list[str] = []
        at: str | None = code
        while at in rows and len(names) < 32:
            names.append(rows[at][0])
            at = rows[at][1]
        paths[code] = SEPARATOR.join(reversed(names)) if names else code
    return paths


def _pickable(session: Session, rows: list[Cell]) -> list[PickableCell]:
    version = published_version_id(session)
    codes = [c.code for c in rows]
    parents = set(
        session.scalars(
            select(Cell.parent_code).where(
                Cell.grid_version_id == version, Cell.parent_code.in_(codes)
            )
        )
    )
    paths = path_names(session, codes)
    return [
        PickableCell(c.code, c.name, str(c.level), paths[c.code], c.code in parents) for c in rows
    ]


def children(session: Session, parent_code: str | None) -> list[PickableCell]:
    """The cells right under ``parent_code`` (the top cells for None), by name."""
    version = published_version_id(session)
    if version is None:
        return []
    query = select(Cell).where(Cell.grid_version_id == version)
    if parent_code:
        query = query.where(Cell.parent_code == parent_code)
    else:
        query = query.where(Cell.parent_code.is_(None))
    return _pickable(session, list(session.scalars(query.order_by(Cell.name).limit(LIMIT))))


def search(session: Session, text: str) -> list[PickableCell]:
    """Cells whose name contains ``text`` (or whose code is ``text``), by name."""
    text = text.strip()[:100]
    version = published_version_id(session)
    if not text or version is None:
        return []
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = (
        select(Cell)
        .where(
            Cell.grid_version_id == version,
            Cell.name.like(f"%{escaped}%", escape="\\") | (Cell.code == text),
        )
        .order_by(Cell.level, Cell.name)
        .limit(LIMIT)
    )
    return _pickable(session, list(session.scalars(query)))


def breadcrumbs(session: Session, code: str | None) -> list[tuple[str, str]]:
    """(code, name) from the top down to ``code``, for the tree's "you are here" line."""
    version = published_version_id(session)
    trail: list[tuple[str, str]] = []
    at = code
    while at and version is not None and len(trail) < 32:
        row = session.execute(
            select(Cell.name, Cell.parent_code).where(
                Cell.grid_version_id == version, Cell.code == at
            )
        ).first()
        if row is None:
            break
        trail.append((at, row.name))
        at = row.parent_code
    return list(reversed(trail))


def top_cells(session: Session, *, exclude_level: str = "building_group") -> list[PickableCell]:
    """Every cell above the building groups (for a unit's "stands in" choice), by path."""
    version = published_version_id(session)
    if version is None:
        return []
    rows = list(
        session.scalars(
            select(Cell)
            .where(Cell.grid_version_id == version, Cell.level != exclude_level)
            .order_by(Cell.code)
            .limit(2000)
        )
    )
    return sorted(_pickable(session, rows), key=lambda c: c.path)
