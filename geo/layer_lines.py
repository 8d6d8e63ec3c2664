"""Points and lines of a base-layer file: their positions checked, then moved to WGS-84."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.datums import Datum, geometry_to_wgs84
from geo.problems import Problem, problem
from geo.structure import _Checker

__all__ = ["lines_to_wgs84", "read_lines"]


def read_lines(got: str, coords: Any, checker: _Checker) -> list[list[tuple[float, float]]] | None:
    """Positions of a Point (one line of one), a LineString or a MultiLineString.

    None (with the problem added to ``checker``) when the nesting or a position is bad.
    """
    if got == "Point":
        parts: Any = [[coords]]
    elif got == "LineString":
        parts = [coords]
    else:
        parts = coords
    if not isinstance(parts, list) or any(
        not isinstance(line, list) or any(not isinstance(p, list) for p in line) for line in parts
    ):
        checker.add("bad_nesting", detail=f"{got} coordinates are nested wrongly")
        return None
    lines = []
    for line in parts:
        positions = [checker.position(p) for p in line]
        if any(p is None for p in positions):
            return None
        if any(len(p) == 3 for p in line):
            checker.add("z_dropped")
        points = [p for p in positions if p is not None]
        if got != "Point" and len(set(points)) < 2:
            checker.add("line_degenerate", unique=len(set(points)))
            return None
        lines.append(points)
    return lines


def lines_to_wgs84(
    got: str,
    lines: list[list[tuple[float, float]]],
    datum: Datum,
    index: int,
    problems: list[Problem],
) -> BaseGeometry | None:
    """The point or line(s) moved to WGS-84, or None with the problem appended."""
    if got == "Point":
        built: BaseGeometry = shapely.Point(lines[0][0])
    elif got == "LineString":
        built = shapely.LineString(lines[0])
    else:
        built = shapely.MultiLineString(lines)
    xy = np.array([p for line in lines for p in line], dtype=float)
    if datum.is_geographic and (np.abs(xy[:, 0]).max() > 180 or np.abs(xy[:, 1]).max() > 90):
        problems.append(problem("coordinates_out_of_range", feature_index=index, value=_first(xy)))
        return None
    moved = geometry_to_wgs84(built, datum)
    out = shapely.get_coordinates(moved)
    if not np.isfinite(out).all() or np.abs(out[:, 0]).max() > 180 or np.abs(out[:, 1]).max() > 90:
        problems.append(problem("coordinates_out_of_range", feature_index=index, value=_first(xy)))
        return None
    return moved


def _first(xy: np.ndarray) -> str:
    return f"{xy[0, 0]:.6f}, {xy[0, 1]:.6f}"
