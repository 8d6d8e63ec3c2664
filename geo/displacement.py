"""How far a new grid moved against the published one, and which datum mix-up explains it.

A GIS user who exports WGS-84 but picks GCJ-02 in the upload form gets every cell moved by
the GCJ-02 offset (about 490 m in Shanghai, 20–700 m across China; BD-09 mix-ups 0.7–1.5 km):
more than a building group. Per cell matched by code we measure the centroid shift in
metres; the grid's **median** shift says whether the grid as a whole moved (a legitimate edit
of a few cells leaves the median near 0). Beyond ``threshold_m`` the draft is *blocking*, and
``geo.datum_mixups`` tries the other readings of the file to name the likely cause; the shift
of the outline tells a re-division inside the same area from a grid moved as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from geo.datum_mixups import DatumSuspect, suspect_datum
from geo.datums import Datum, parse_datum
from geo.errors import GeoError
from geo.export import CellLike
from geo.levels import Level, parse_level
from geo.measure import distances_m
from geo.problems import Problem, problem

DEFAULT_THRESHOLD_M = 30.0


@dataclass(frozen=True)
class MatchedCentroids:
    """Centroids (WGS-84 lon, lat) of the cells both grids have, by code (sorted)."""

    codes: list[str]
    old: NDArray[np.float64]  # shape (n, 2)
    new: NDArray[np.float64]
    depths: NDArray[np.int64] | None = None  # level depth of each cell (0 street … 3)
    old_area: NDArray[np.float64] | None = None  # planar, square degrees: weights only
    new_area: NDArray[np.float64] | None = None

    def shifts_m(self, new: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Geodesic distance of each new centroid (or of ``new``) from its old one, metres."""
        moved = self.new if new is None else new
        return distances_m(self.old[:, 0], self.old[:, 1], moved[:, 0], moved[:, 1])

    def outline_shift_m(self) -> float:
        """How far the matched cells' outline moved: the shift of the area-weighted centroid
        of the top level's cells (the centroid of their union, as cells of a level tile).

        A grid re-divided inside the same street moves its cells but not its outline; a datum
        mix-up moves both.
        """
        if not self.codes or self.depths is None or self.old_area is None:
            return 0.0
        assert self.new_area is not None
        top = self.depths == self.depths.min()
        weights_old, weights_new = self.old_area[top], self.new_area[top]
        if weights_old.sum() <= 0 or weights_new.sum() <= 0:
            return float(np.median(self.shifts_m()[top]))
        old = (self.old[top] * weights_old[:, None]).sum(axis=0) / weights_old.sum()
        new = (self.new[top] * weights_new[:, None]).sum(axis=0) / weights_new.sum()
        return float(distances_m(old[:1], old[1:], new[:1], new[1:])[0])


def _depth(level: Any) -> int:  # unknown levels sort last
    try:
        return parse_level(str(getattr(level, "value", level))).depth
    except GeoError:
        return len(Level)


def match_centroids(old: Iterable[CellLike], new: Iterable[CellLike]) -> MatchedCentroids:
    """Centroids of the cells present in both grids, matched by code.

    Cells whose centroid cannot be computed (an empty or broken draft polygon) are left out.

    >>> from shapely import box
    >>> from geo.cells import CellDraft
    >>> a = CellDraft("A", "a", Level.STREET, None, box(121.0, 31.0, 121.01, 31.01))
    >>> b = CellDraft("A", "a", Level.STREET, None, box(121.001, 31.0, 121.011, 31.01))
    >>> round(float(match_centroids([a], [b]).shifts_m()[0]), 1)
    95.5
    """
    before = {c.code: c for c in old}
    after = {c.code: c for c in new}
    codes = sorted(before.keys() & after.keys())
    if not codes:
        empty = np.zeros((0, 2))
        return MatchedCentroids([], empty, empty)
    old_geoms = np.array([before[c].geometry for c in codes], dtype=object)
    new_geoms = np.array([after[c].geometry for c in codes], dtype=object)
    old_points, new_points = shapely.centroid(old_geoms), shapely.centroid(new_geoms)
    ok = ~(shapely.is_empty(old_points) | shapely.is_empty(new_points))
    return MatchedCentroids(
        [c for c, keep in zip(codes, ok, strict=True) if keep],
        shapely.get_coordinates(old_points[ok]),
        shapely.get_coordinates(new_points[ok]),
        np.array([_depth(before[c].level) for c, keep in zip(codes, ok, strict=True) if keep]),
        shapely.area(old_geoms[ok]),
        shapely.area(new_geoms[ok]),
    )


@dataclass(frozen=True)
class Displacement:
    """The median centroid shift of a draft against the published grid, and its likely cause."""

    matched: int
    median_shift_m: float
    max_shift_m: float
    threshold_m: float = DEFAULT_THRESHOLD_M
    suspect: DatumSuspect | None = None
    outline_shift_m: float = 0.0  # how far the outline of the matched cells moved

    @property
    def blocking(self) -> bool:
        """True when the grid as a whole moved beyond the threshold.

        >>> Displacement(100, 487.7, 512.0).blocking, Displacement(100, 0.0, 250.0).blocking
        (True, False)
        """
        return self.matched > 0 and self.median_shift_m > self.threshold_m

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (read back by ``from_dict``).

        >>> Displacement.from_dict(Displacement(3, 1.0, 2.0).to_dict()) == Displacement(3, 1.0, 2.0)
        True
        """
        return {
            "matched": self.matched,
            "median_shift_m": self.median_shift_m,
            "max_shift_m": self.max_shift_m,
            "threshold_m": self.threshold_m,
            "blocking": self.blocking,
            "suspect": self.suspect.__dict__ if self.suspect else None,
            "outline_shift_m": self.outline_shift_m,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Displacement:
        """The inverse of ``to_dict``."""
        suspect = data.get("suspect")
        return cls(
            int(data["matched"]),
            float(data["median_shift_m"]),
            float(data["max_shift_m"]),
            float(data["threshold_m"]),
            DatumSuspect(**suspect) if suspect else None,
            float(data.get("outline_shift_m", 0.0)),
        )

    def problem(self) -> Problem | None:
        """The report's finding: ``grid_displaced`` (blocking) with a re-import action, or None.

        >>> suspect = DatumSuspect("gcj02", "wgs84", 487.7, 0.0)
        >>> p = Displacement(108, 487.7, 490.2, 30.0, suspect).problem()
        >>> p.severity, "This looks like WGS-84 declared as GCJ-02" in p.message_en
        ('blocking', True)
        >>> p.data["actions"][0]["options"]
        {'datum': 'wgs84'}
        """
        if not self.blocking:
            return None
        suspect, actions = self.suspect, []
        if suspect is None and self.outline_shift_m <= self.threshold_m:
            cause_zh = (
                f"外轮廓基本未动（{self.outline_shift_m:.0f} 米）："
                "看起来是在原范围内重新划分了网格，而不是坐标系错误。若属实，发布时请确认并说明原因。"
            )
            cause_en = (
                f"The outline barely moved ({self.outline_shift_m:.0f} m): this looks like the "
                "cells were re-divided within the same area, not a datum mistake. If so, confirm "
                "it and say why when publishing."
            )
        elif suspect is None:
            cause_zh = (
                f"外轮廓也移动了约 {self.outline_shift_m:.0f} 米，没有哪种坐标系混淆"
                "（WGS-84、GCJ-02、BD-09）能解释这一偏移。若网格确实移动了，发布时须确认并说明原因。"
            )
            cause_en = (
                f"The outline moved too (about {self.outline_shift_m:.0f} m) and no mix-up of "
                "WGS-84, GCJ-02 and BD-09 explains it. If the grid really moved, publishing needs "
                "an acknowledgement and a reason."
            )
        else:
            likely = parse_datum(suspect.likely).label
            declared = parse_datum(suspect.declared).label
            cause_zh = (
                f"看起来是把 {likely} 坐标声明成了 {declared}：按 {likely} 读取，"
                f"与已发布网格的中位偏差只有 {suspect.residual_m:.1f} 米。"
            )
            cause_en = (
                f"This looks like {likely} declared as {declared}: read as {likely}, the cells "
                f"lie a median of {suspect.residual_m:.1f} m from the published ones."
            )
            actions.append(
                {
                    "options": {"datum": suspect.likely},
                    "label_zh": f"按 {likely} 重新导入",
                    "label_en": f"Re-import as {likely}",
                }
            )
        return problem(
            "grid_displaced",
            median_shift_m=round(self.median_shift_m),
            matched=self.matched,
            threshold_m=round(self.threshold_m),
            cause_zh=cause_zh,
            cause_en=cause_en,
            actions=actions,
        )


def assess_displacement(
    old: Iterable[CellLike],
    new: Iterable[CellLike],
    declared: Datum | str,
    *,
    threshold_m: float = DEFAULT_THRESHOLD_M,
) -> Displacement:
    """Measure ``new`` (read from a file declared ``declared``) against the published ``old``.

    >>> from shapely import box
    >>> from geo.cells import CellDraft
    >>> from geo.datums import geometry_to_wgs84
    >>> from geo.levels import Level
    >>> cell = CellDraft("A", "a", Level.STREET, None, box(121.42, 31.20, 121.43, 31.21))
    >>> wrong = CellDraft("A", "a", Level.STREET, None, geometry_to_wgs84(cell.geometry, "gcj02"))
    >>> found = assess_displacement([cell], [wrong], "gcj02")
    >>> found.blocking, round(found.median_shift_m), found.suspect.likely
    (True, 488, 'wgs84')
    """
    datum = declared if isinstance(declared, Datum) else parse_datum(declared)
    matched = match_centroids(old, new)
    shifts = matched.shifts_m()
    if not len(shifts):
        return Displacement(0, 0.0, 0.0, threshold_m)
    median = float(np.median(shifts))
    found = Displacement(len(shifts), round(median, 1), round(float(shifts.max()), 1), threshold_m)
    if not found.blocking:
        return found
    suspect = suspect_datum(matched.old, matched.new, datum, median, threshold_m)
    outline = round(matched.outline_shift_m(), 1)
    return Displacement(
        found.matched, found.median_shift_m, found.max_shift_m, threshold_m, suspect, outline
    )
