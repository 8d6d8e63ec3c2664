"""Per-feature geometry checks: ranges, datum transform, winding, validity, optional repair.

Input is the clean 2-D rings from ``structure`` in the upload's datum; output is a valid
(or reported-invalid) WGS-84 shapely geometry with exteriors counter-clockwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.cells import Repair
from geo.datums import Datum, geometry_to_wgs84
from geo.measure import geodesic_area_m2
from geo.problems import Problem, problem
from geo.rules import Severity
from geo.structure import PolygonRings

_LOCATION_RE = re.compile(r"\[\s*(\S+)\s+(\S+)\s*\]")
_METRE_LIKE = 1000.0  # no lon/lat is this large; a projected easting/northing always is


@dataclass
class GeometryResult:
    """The WGS-84 geometry of one feature (None if unusable) with its problems and repairs."""

    geometry: BaseGeometry | None
    problems: list[Problem] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)


def _range_problem(xs: np.ndarray, ys: np.ndarray, datum: Datum, index: int) -> Problem | None:
    first = f"{xs[0]:.6f}, {ys[0]:.6f}"
    if max(np.abs(xs).max(), np.abs(ys).max()) > _METRE_LIKE:
        return problem("metres_as_degrees", feature_index=index, value=first, datum=datum.name)
    if np.abs(xs).max() > 180 or np.abs(ys).max() > 90:
        # Chinese lat/lon written in the wrong order: lat 3–54 sits in x, lon 73–136 in y.
        if ((xs >= 3) & (xs <= 54)).all() and ((ys >= 73) & (ys <= 136)).all():
            return problem("axes_swapped", feature_index=index, value=first)
        return problem("coordinates_out_of_range", feature_index=index, value=first)
    return None


def _build(polygons: list[PolygonRings]) -> BaseGeometry:
    parts = [shapely.Polygon(rings[0], rings[1:]) for rings in polygons]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _wrong_winding(geometry: BaseGeometry) -> bool:
    for part in shapely.get_parts(geometry):
        if not part.exterior.is_ccw or any(ring.is_ccw for ring in part.interiors):
            return True
    return False


def _classify_invalid(geometry: BaseGeometry, reason: str) -> str:
    if reason.startswith("Hole lies outside shell"):
        return "hole_outside_shell"
    if "Self-intersection" in reason:
        for part in shapely.get_parts(geometry):
            shell_alone = shapely.Polygon(part.exterior)
            holes_simple = all(ring.is_simple for ring in part.interiors)
            if part.interiors and shell_alone.is_valid and holes_simple:
                return "hole_crosses_shell"
        return "self_intersection"
    return "invalid_geometry"


def _polygonal(geometry: BaseGeometry) -> BaseGeometry | None:
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type in ("Polygon", "MultiPolygon")]
    flat = [q for p in parts for q in shapely.get_parts(p)]
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else shapely.MultiPolygon(flat)


def check_geometry(
    polygons: list[PolygonRings], datum: Datum, index: int, code: str, *, repair: bool
) -> GeometryResult:
    """Turn clean rings in ``datum`` into a WGS-84 geometry, reporting and optionally repairing.

    >>> ring = [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (0.0, 0.0)]  # clockwise
    >>> result = check_geometry([[ring]], Datum("wgs84"), 0, "A", repair=False)
    >>> [p.rule for p in result.problems], result.geometry.exterior.is_ccw
    (['winding'], True)
    """
    coords = np.array([xy for rings in polygons for ring in rings for xy in ring], dtype=float)
    result = GeometryResult(None)
    if datum.is_geographic:
        found = _range_problem(coords[:, 0], coords[:, 1], datum, index)
        if found is not None:
            result.problems.append(found)
            return result
    geometry = geometry_to_wgs84(_build(polygons), datum)
    moved = shapely.get_coordinates(geometry)
    if (
        not np.isfinite(moved).all()
        or np.abs(moved[:, 0]).max() > 180
        or np.abs(moved[:, 1]).max() > 90
    ):
        value = f"{coords[0, 0]:.3f}, {coords[0, 1]:.3f} in {datum.name}"
        result.problems.append(
            problem("coordinates_out_of_range", feature_index=index, value=value)
        )
        return result
    if _wrong_winding(geometry):
        result.problems.append(problem("winding", feature_index=index))
        text = "exteriors made counter-clockwise and holes clockwise (RFC 7946)"
        result.repairs.append(Repair(index, code, "rewind", text))
    reason = shapely.is_valid_reason(geometry)
    if reason != "Valid Geometry":
        geometry = _report_invalid(geometry, reason, index, code, repair, result)
        if geometry is None:
            return result
    result.geometry = shapely.orient_polygons(geometry, exterior_cw=False)
    return result


def _report_invalid(
    geometry: BaseGeometry, reason: str, index: int, code: str, repair: bool, result: GeometryResult
) -> BaseGeometry | None:
    rule = _classify_invalid(geometry, reason)
    match = _LOCATION_RE.search(reason)
    spot = (float(match.group(1)), float(match.group(2))) if match else None
    fixed = _polygonal(shapely.make_valid(geometry)) if repair else None
    severity: Severity = "warning" if fixed is not None else "error"
    result.problems.append(
        problem(
            rule,
            feature_index=index,
            location=spot,
            severity=severity,
            reason=reason,
            repaired=fixed is not None,
        )
    )
    if fixed is None:
        result.geometry = geometry  # kept for the preview map; the error blocks publishing
        return None
    before, after = geodesic_area_m2(geometry), geodesic_area_m2(fixed)
    action = f"make_valid turned the {rule.replace('_', ' ')} into {fixed.geom_type}"
    result.problems.append(problem("repaired", feature_index=index, location=spot, action=action))
    result.repairs.append(
        Repair(index, code, "make_valid", action, round(before, 2), round(after, 2))
    )
    return fixed
