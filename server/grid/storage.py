"""Cells in and out of the database: bulk insert of a version's cells, and loading them back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, aliased

from geo.cells import CellDraft
from geo.levels import Level
from geo.locate import IndexedCell
from geo.measure import geodesic_area_m2
from server.enums import CellLevel
from server.grid.models import Cell

CHUNK = 2000  # rows per executemany: large enough to be fast, small enough for any driver


@dataclass(frozen=True)
class StoredCell:
    """A cell of some version, geometry decoded (WGS-84); fits geo's CellLike protocol."""

    id: int
    code: str
    name: str
    level: Level
    parent_code: str | None
    geometry: BaseGeometry
    area_m2: float
    properties: dict[str, Any]

    def indexed(self) -> IndexedCell:
        return IndexedCell(
            self.id, self.code, self.name, self.level, self.parent_code, self.geometry
        )


def storable(drafts: Iterable[CellDraft]) -> list[CellDraft]:
    """Drafts that can be stored: with a code and a level, first of each code.

    The others are already errors in the report; the draft version keeps what it can so
    the preview shows the rest of the file.
    """
    seen: set[str] = set()
    kept = []
    for draft in drafts:
        if draft.code and draft.level is not None and draft.code not in seen:
            seen.add(draft.code)
            kept.append(draft)
    return kept


def insert_cells(session: Session, version_id: int, drafts: Sequence[Any], version: int) -> int:
    """Bulk-insert ``drafts`` (CellDraft or StoredCell) into a version; link parents by code."""
    rows = []
    for draft in drafts:
        geometry = draft.geometry
        min_lon, min_lat, max_lon, max_lat = geometry.bounds
        area = getattr(draft, "area_m2", None)
        rows.append(
            {
                "grid_version_id": version_id,
                "code": draft.code,
                "name": draft.name[:100],
                "level": CellLevel(str(draft.level)),
                "parent_code": draft.parent_code,
                "geometry_wkb": shapely.to_wkb(geometry),
                "min_lon": min_lon,
                "min_lat": min_lat,
                "max_lon": max_lon,
                "max_lat": max_lat,
                "area_m2": area if area is not None else geodesic_area_m2(geometry),
                "properties": dict(draft.properties),
                "version": version,
            }
        )
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(Cell), rows[start : start + CHUNK])
    parent = aliased(Cell)
    session.execute(
        update(Cell)
        .where(Cell.grid_version_id == version_id, Cell.parent_code.is_not(None))
        .values(
            parent_id=select(parent.id)
            .where(parent.grid_version_id == version_id, parent.code == Cell.parent_code)
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )
    return len(rows)


def load_cells(
    session: Session,
    version_id: int,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    level: str | None = None,
) -> list[StoredCell]:
    """The cells of a version (optionally those whose bbox meets ``bbox``, of one level)."""
    query = select(
        Cell.id,
        Cell.code,
        Cell.name,
        Cell.level,
        Cell.parent_code,
        Cell.geometry_wkb,
        Cell.area_m2,
        Cell.properties,
    ).where(Cell.grid_version_id == version_id)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        query = query.where(
            Cell.max_lon >= min_lon,
            Cell.min_lon <= max_lon,
            Cell.max_lat >= min_lat,
            Cell.min_lat <= max_lat,
        )
    if level is not None:
        query = query.where(Cell.level == CellLevel(level))
    rows = session.execute(query.order_by(Cell.code)).all()
    geometries = shapely.from_wkb([row.geometry_wkb for row in rows]) if rows else []
    return [
        StoredCell(
            row.id,
            row.code,
            row.name,
            Level(str(row.level)),
            row.parent_code,
            geometry,
            row.area_m2,
            row.properties or {},
        )
        for row, geometry in zip(rows, geometries, strict=True)
    ]
