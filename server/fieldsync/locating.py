"""Place a reported point in the published grid.

A stand-in until the grid package's `place_and_assign` lands: swap `locate_point`'s body
for that call. It builds a `geo.GridIndex` from the published cells once per grid version.
"""

from __future__ import annotations

import threading

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.levels import Level
from geo.locate import GridIndex, IndexedCell
from server.enums import Placement
from server.fieldsync.scope import published_grid_id
from server.grid.models import Cell, GridVersion

#: Keyed by (database, grid version id, published time): ids repeat across test databases.
_indexes: dict[tuple[str, int, str], GridIndex] = {}
_lock = threading.Lock()


def locate_point(
    session: Session, lon: float | None, lat: float | None, *, near_m: float = 50.0
) -> tuple[Placement, str | None]:
    """Return (placement, cell code) for a WGS-84 point; UNPLACED when no cell takes it."""
    if lon is None or lat is None:
        return Placement.UNLOCATED, None
    grid_id = published_grid_id(session)
    if grid_id is None:
        return Placement.UNPLACED, None
    index = _index(session, grid_id, near_m)
    placement = index.locate(lon, lat)
    if placement.cell is None:
        return Placement.UNPLACED, None
    return (Placement.IN if placement.status == "in" else Placement.NEAR), placement.cell.code


def _index(session: Session, grid_id: int, near_m: float) -> GridIndex:
    grid = session.get(GridVersion, grid_id)
    key = (str(session.get_bind().url), grid_id, str(grid.published_at if grid else None))
    with _lock:
        index = _indexes.get(key)
        if index is None:
            rows = session.scalars(select(Cell).where(Cell.grid_version_id == grid_id))
            cells = [
                IndexedCell(
                    c.id,
                    c.code,
                    c.name,
                    Level(c.level.value),
                    c.parent_code,
                    shapely.from_wkb(c.geometry_wkb),
                )
                for c in rows
            ]
            index = GridIndex.build(cells, near_m=near_m)
            _indexes.clear()  # only the published version matters
            _indexes[key] = index
        return index
