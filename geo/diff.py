"""Differences between two versions of a grid, matched by cell code.

Geometry changes are measured two ways, because area change alone hides a moved cell (a cell
shifted 490 m keeps its area within a few m²): the **non-overlap** (the area of the symmetric
difference: what the cell gains plus what it loses) and the **centroid shift** in metres. The
median shift over every matched cell says whether the grid as a whole moved
(``geo.displacement``). Areas are measured in the grid's local transverse Mercator frame
(``LocalMetric``, scale error under 0.01 % across a city), all cells in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import shapely

from geo.displacement import match_centroids
from geo.export import CellLike
from geo.measure import LocalMetric

SAME_TOLERANCE_DEG = 1e-7  # ≈ 1 cm: twice the rounding of an export (7 decimals)
RESHAPE_MIN_M2 = 0.01  # symmetric differences below this are coordinate rounding, not reshaping


@dataclass(frozen=True)
class Reshape:
    """A cell whose polygon changed: areas before and after, non-overlap and centroid shift."""

    code: str
    area_before_m2: float
    area_after_m2: float
    area_change_m2: float
    symmetric_difference_m2: float  # the non-overlap: area gained plus area lost
    centroid_shift_m: float = 0.0


@dataclass
class GridDiff:
    """What publishing ``new`` over ``old`` changes; codes are sorted in every list."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reshaped: list[Reshape] = field(default_factory=list)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # code, old, new
    reparented: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    relevelled: list[tuple[str, str, str]] = field(default_factory=list)
    matched: int = 0  # cells with the same code in both
    median_shift_m: float = 0.0  # median centroid shift over the matched cells (0 if unchanged)
    max_shift_m: float = 0.0

    @property
    def is_empty(self) -> bool:
        """True when nothing changes.

        >>> GridDiff().is_empty
        True
        """
        return not (
            self.added
            or self.removed
            or self.reshaped
            or self.renamed
            or self.reparented
            or self.relevelled
        )

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict.

        >>> GridDiff(added=["A"]).to_dict()["added"]
        ['A']
        """
        return {
            "added": self.added,
            "removed": self.removed,
            "reshaped": [r.__dict__ for r in self.reshaped],
            "renamed": [list(r) for r in self.renamed],
            "reparented": [list(r) for r in self.reparented],
            "relevelled": [list(r) for r in self.relevelled],
            "is_empty": self.is_empty,
            "matched": self.matched,
            "median_shift_m": self.median_shift_m,
            "max_shift_m": self.max_shift_m,
        }


def diff_grids(old: Iterable[CellLike], new: Iterable[CellLike]) -> GridDiff:
    """Compare two grids by code; geometry is compared by symmetric-difference area.

    >>> from shapely import box
    >>> from geo.cells import CellDraft
    >>> from geo.levels import Level
    >>> a = CellDraft("A", "a", Level.STREET, None, box(121.0, 31.0, 121.01, 31.01))
    >>> b = CellDraft("A", "a2", Level.STREET, None, box(121.0, 31.0, 121.02, 31.01))
    >>> d = diff_grids([a], [b])
    >>> d.renamed, round(d.reshaped[0].area_change_m2, -3), round(d.reshaped[0].centroid_shift_m)
    ([('A', 'a', 'a2')], 1059000.0, 478)
    """
    before = {c.code: c for c in old}
    after = {c.code: c for c in new}
    centroids = match_centroids(before.values(), after.values())
    shifts = centroids.shifts_m()
    shift_of = dict(zip(centroids.codes, shifts.tolist(), strict=True))
    result = GridDiff(
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        matched=len(before.keys() & after.keys()),
        median_shift_m=round(float(np.median(shifts)), 1) if len(shifts) else 0.0,
        max_shift_m=round(float(shifts.max()), 1) if len(shifts) else 0.0,
    )
    common = sorted(before.keys() & after.keys())
    for code in common:
        was, now = before[code], after[code]
        if was.name != now.name:
            result.renamed.append((code, was.name, now.name))
        if (was.parent_code or None) != (now.parent_code or None):
            result.reparented.append((code, was.parent_code, now.parent_code))
        old_level, new_level = str(was.level), str(now.level)
        if old_level != new_level:
            result.relevelled.append((code, old_level, new_level))
    if common:
        result.reshaped = _reshaped(common, before, after, shift_of)
    return result


def _reshaped(
    common: list[str],
    before: dict[str, CellLike],
    after: dict[str, CellLike],
    shift_of: dict[str, float],
) -> list[Reshape]:
    """The matched cells whose polygon changed, measured all at once in the grid's frame."""
    was = np.array([before[code].geometry for code in common], dtype=object)
    now = np.array([after[code].geometry for code in common], dtype=object)
    # Within SAME_TOLERANCE_DEG vertex by vertex: an export (7 decimals) re-imported.
    changed = np.flatnonzero(~shapely.equals_exact(was, now, tolerance=SAME_TOLERANCE_DEG))
    if not len(changed):
        return []
    frame = LocalMetric.around(list(now))
    was_m = frame.many_to_metric(list(was[changed]))
    now_m = frame.many_to_metric(list(now[changed]))
    # A draft with errors keeps its invalid polygons for the preview; GEOS cannot overlay
    # those, so the non-overlap compares their make_valid forms.
    moved = shapely.area(shapely.symmetric_difference(_valid(was_m), _valid(now_m)))
    areas_before, areas_after = shapely.area(was_m), shapely.area(now_m)
    found = []
    for i, row in enumerate(changed):
        if moved[i] < RESHAPE_MIN_M2:
            continue
        code = common[row]
        area_before, area_after = float(areas_before[i]), float(areas_after[i])
        found.append(
            Reshape(
                code,
                area_before,
                area_after,
                area_after - area_before,
                float(moved[i]),
                round(shift_of.get(code, 0.0), 1),
            )
        )
    return found


def _valid(geometries: np.ndarray) -> np.ndarray:
    invalid = ~shapely.is_valid(geometries)
    if invalid.any():
        geometries = geometries.copy()
        geometries[invalid] = shapely.make_valid(geometries[invalid])
    return geometries
