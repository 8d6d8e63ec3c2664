"""Point → cell path, for one point or a million, from an STRtree index built once per grid.

Rules (also in docs/geo.md):
* A point is *in* a cell when the cell **covers** it (boundary included), so a point on a
  shared edge or vertex is in every cell that touches it; the answer is the deepest level
  that covers it and, among those cells, the one with the **smallest code** (string order).
  The same point always gets the same cell, whatever the build order.
* A point in a hole is not covered, so it is not in the cell; nor is it placed ``near``
  the cell around the hole (a hole is an area left out on purpose, e.g. an enclave).
* A point covered by nothing gets the nearest cell within ``near_m`` (default 50 m,
  geodesic), looking at the deepest level first, with status ``near``; else ``none``.
* The path is that cell followed by its ancestors through ``parent_code``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from geo.errors import InvalidGridError
from geo.levels import LEVELS_DEEPEST_FIRST, Level
from geo.measure import distances_m

Status = Literal["in", "near", "none"]
STATUS_NONE, STATUS_IN, STATUS_NEAR = 0, 1, 2
_STATUS_NAMES: tuple[Status, ...] = ("none", "in", "near")
_M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class IndexedCell:
    """A published cell as the index needs it; ``geometry`` is WGS-84 lon/lat."""

    id: int | str
    code: str
    name: str
    level: Level
    parent_code: str | None
    geometry: BaseGeometry


@dataclass(frozen=True)
class CellRef:
    """The identity of a cell in a placement path."""

    id: int | str
    code: str
    name: str
    level: Level


@dataclass(frozen=True)
class Placement:
    """Where a point falls: ``path`` runs from the deepest cell up to its street."""

    status: Status
    path: tuple[CellRef, ...] = ()
    distance_m: float | None = None

    @property
    def cell(self) -> CellRef | None:
        """The deepest cell of the path, or None.

        >>> Placement("none").cell is None
        True
        """
        return self.path[0] if self.path else None


@dataclass(frozen=True)
class BulkPlacement:
    """Arrays answer of ``locate_many``: cell index into ``GridIndex.cells`` (-1: none)."""

    cell_index: NDArray[np.int64]
    status: NDArray[np.int8]  # STATUS_NONE / STATUS_IN / STATUS_NEAR
    distance_m: NDArray[np.float64]  # 0 when in, metres when near, NaN when none


class GridIndex:
    """Spatial index of one published grid version; build it once, query it many times."""

    def __init__(self, cells: list[IndexedCell], near_m: float) -> None:
        self.cells = cells
        self.near_m = near_m
        by_code = {c.code: i for i, c in enumerate(cells)}
        if len(by_code) != len(cells):
            raise InvalidGridError("duplicate cell codes in a published grid")
        self._paths = [self._path(i, by_code) for i in range(len(cells))]
        self._levels: list[tuple[NDArray[np.int64], shapely.STRtree]] = []
        # exterior shells (holes filled) of cells with holes, to refuse "near" inside a hole
        self._shells = {
            i: shapely.Polygon(c.geometry.exterior)
            if c.geometry.geom_type == "Polygon"
            else shapely.MultiPolygon([shapely.Polygon(p.exterior) for p in c.geometry.geoms])
            for i, c in enumerate(cells)
            if shapely.get_num_interior_rings(shapely.get_parts(c.geometry)).sum() > 0
        }
        for level in LEVELS_DEEPEST_FIRST:
            members = sorted((c.code, i) for i, c in enumerate(cells) if c.level == level)
            if members:
                order = np.array([i for _, i in members], dtype=np.int64)
                geoms = np.array([cells[i].geometry for i in order], dtype=object)
                shapely.prepare(geoms)
                self._levels.append((order, shapely.STRtree(geoms)))
        bounds = shapely.total_bounds(np.array([c.geometry for c in cells], dtype=object))
        max_abs_lat = min(max(abs(bounds[1]), abs(bounds[3])) + 1.0, 89.0) if cells else 0.0
        self._deg_per_m = 1.0 / (_M_PER_DEG_LAT * math.cos(math.radians(max_abs_lat)))

    @classmethod
    def build(cls, cells: Iterable[IndexedCell], *, near_m: float = 50.0) -> GridIndex:
        """Index ``cells``; raise InvalidGridError on duplicate codes.

        >>> from shapely import box
        >>> cell = IndexedCell(1, "S1", "新华", Level.STREET, None, box(0, 0, 1, 1))
        >>> index = GridIndex.build([cell])
        >>> index.locate(0.5, 0.5).cell.code
        'S1'
        """
        return cls(list(cells), near_m)

    def _path(self, i: int, by_code: dict[str, int]) -> tuple[CellRef, ...]:
        path, seen = [], set()
        current: int | None = i
        while current is not None and current not in seen:
            seen.add(current)
            cell = self.cells[current]
            path.append(CellRef(cell.id, cell.code, cell.name, cell.level))
            current = by_code.get(cell.parent_code) if cell.parent_code else None
        return tuple(path)

    def placement(self, bulk: BulkPlacement, i: int) -> Placement:
        """Turn row ``i`` of a bulk answer into a Placement.

        >>> from shapely import box
        >>> cell = IndexedCell(1, "S1", "s", Level.STREET, None, box(0, 0, 1, 1))
        >>> index = GridIndex.build([cell])
        >>> index.placement(index.locate_many([2.0], [2.0]), 0).status
        'none'
        """
        status = _STATUS_NAMES[int(bulk.status[i])]
        if status == "none":
            return Placement("none")
        distance = float(bulk.distance_m[i])
        return Placement(status, self._paths[int(bulk.cell_index[i])], distance)

    def locate(self, lon: float, lat: float, *, near_m: float | None = None) -> Placement:
        """Return where the WGS-84 point (lon, lat) falls (see the module rules).

        >>> from shapely import box
        >>> index = GridIndex.build([
        ...     IndexedCell(1, "B", "b", Level.STREET, None, box(1, 0, 2, 1)),
        ...     IndexedCell(2, "A", "a", Level.STREET, None, box(0, 0, 1, 1))])
        >>> index.locate(1.0, 0.5).cell.code  # on the shared edge: smallest code
        'A'
        """
        return self.placement(self.locate_many([lon], [lat], near_m=near_m), 0)

    def locate_many(
        self, lons: ArrayLike, lats: ArrayLike, *, near_m: float | None = None
    ) -> BulkPlacement:
        """Vectorized locate of WGS-84 points; returns arrays (see ``BulkPlacement``).

        >>> from shapely import box
        >>> index = GridIndex.build([IndexedCell(1, "S", "s", Level.STREET, None, box(0, 0, 1, 1))])
        >>> index.locate_many([0.5, 1.0001, 3.0], [0.5, 0.5, 3.0]).status.tolist()
        [1, 2, 0]
        """
        lon_a, lat_a = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
        points = shapely.points(lon_a, lat_a)
        n = len(points)
        cell_index = np.full(n, -1, dtype=np.int64)
        status = np.zeros(n, dtype=np.int8)
        distance = np.full(n, np.nan)
        todo = np.flatnonzero(np.isfinite(lon_a) & np.isfinite(lat_a))
        for order, tree in self._levels:
            if len(todo) == 0:
                break
            hit, which = _first_hits(tree.query(points[todo], predicate="intersects"))
            cell_index[todo[hit]] = order[which]
            status[todo[hit]] = STATUS_IN
            distance[todo[hit]] = 0.0
            todo = np.delete(todo, hit)
        limit = self.near_m if near_m is None else near_m
        if limit > 0:
            self._near(points, todo, limit, cell_index, status, distance)
        return BulkPlacement(cell_index, status, distance)

    def _near(self, points, todo, limit, cell_index, status, distance) -> None:  # type: ignore[no-untyped-def]
        for order, tree in self._levels:
            if len(todo) == 0:
                return
            pairs = tree.query_nearest(
                points[todo], max_distance=limit * self._deg_per_m, all_matches=True
            )
            hit, which = _first_hits(pairs)
            if len(hit) == 0:
                continue
            candidates = points[todo[hit]]
            lines = shapely.shortest_line(candidates, tree.geometries[which])
            ends = shapely.get_coordinates(lines).reshape(-1, 4)
            metres = distances_m(ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3])
            ok = metres <= limit
            for k in np.flatnonzero(ok):
                shell = self._shells.get(int(order[which[k]]))
                if shell is not None and shell.covers(candidates[k]):
                    ok[k] = False
            rows = todo[hit[ok]]
            cell_index[rows] = order[which[ok]]
            status[rows] = STATUS_NEAR
            distance[rows] = metres[ok]
            todo = np.setdiff1d(todo, rows, assume_unique=True)


def _first_hits(pairs: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For (input, tree) pairs, return unique inputs and, per input, the smallest tree index."""
    inputs, trees = pairs
    if len(inputs) == 0:
        return inputs, trees
    steps = np.diff(inputs)
    if np.all(steps > 0):  # the usual case: each point hit exactly one cell
        return inputs, trees
    order = np.lexsort((trees, inputs))
    inputs, trees = inputs[order], trees[order]
    first = np.concatenate(([True], inputs[1:] != inputs[:-1]))
    return inputs[first], trees[first]
