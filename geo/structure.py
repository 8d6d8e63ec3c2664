"""GeoJSON structure checks done on plain JSON, before shapely sees anything.

shapely's ``shape()`` is lenient: it closes unclosed rings, accepts 3-position rings and
turns the string "39.36" into a number. So every rule about the *text* of a geometry is
checked here, and only clean 2-D rings go on to shapely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geo.problems import Problem, problem

Ring = list[tuple[float, float]]
PolygonRings = list[Ring]  # exterior first, then holes

_GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)
_ALL_TYPES = {t.lower(): t for t in (*_GEOMETRY_TYPES, "Feature", "FeatureCollection")}


@dataclass
class RawFeature:
    """One feature as read from the file: properties and clean 2-D rings (None if unusable)."""

    index: int
    properties: dict[str, Any]
    polygons: list[PolygonRings] | None
    had_z: bool = False
    problems: list[Problem] = field(default_factory=list)


def _type_of(obj: dict[str, Any], where: int | None, problems: list[Problem]) -> str | None:
    got = obj.get("type")
    if not isinstance(got, str):
        problems.append(problem("not_geojson", feature_index=where, detail="no type member"))
        return None
    if got in _ALL_TYPES.values():
        return got
    expected = _ALL_TYPES.get(got.lower())
    if expected is None:
        problems.append(problem("not_geojson", feature_index=where, detail=f"unknown type {got}"))
        return None
    problems.append(problem("type_case", feature_index=where, got=got, expected=expected))
    return expected


def read_features(document: Any) -> tuple[str | None, list[RawFeature], list[Problem]]:
    """Return ``(crs name or None, features, file-level problems)`` for a GeoJSON document.

    >>> crs, features, problems = read_features({"type": "Polygon", "coordinates": []})
    >>> len(features), features[0].problems[0].rule
    (1, 'not_polygon')
    >>> read_features(None)[2][0].message_en
    'Not GeoJSON: the document is null, not an object'
    """
    problems: list[Problem] = []
    if not isinstance(document, dict):
        what = "null" if document is None else type(document).__name__
        problems.append(problem("not_geojson", detail=f"the document is {what}, not an object"))
        return None, [], problems
    crs = _read_crs(document.get("crs"), problems)
    kind = _type_of(document, None, problems)
    if kind is None:
        return crs, [], problems
    if kind == "FeatureCollection":
        entries = document.get("features")
        if not isinstance(entries, list):
            problems.append(problem("not_geojson", detail="features is not an array"))
            return crs, [], problems
        return crs, [_read_feature(i, entry) for i, entry in enumerate(entries)], problems
    if kind == "Feature":
        return crs, [_read_feature(0, document)], problems
    feature = RawFeature(0, {}, None)
    feature.polygons, feature.had_z = _read_geometry(document, 0, feature.problems)
    return crs, [feature], problems


def _read_crs(member: Any, problems: list[Problem]) -> str | None:
    if member is None:
        return None
    props = member.get("properties") if isinstance(member, dict) else None
    if isinstance(member, dict) and member.get("type") == "name" and isinstance(props, dict):
        name = props.get("name")
        if isinstance(name, str):
            return name
    problems.append(problem("crs_unknown", file_crs=repr(member)[:80]))
    return None


def _read_feature(index: int, entry: Any) -> RawFeature:
    feature = RawFeature(index, {}, None)
    if not isinstance(entry, dict):
        what = "null" if entry is None else type(entry).__name__
        feature.problems.append(
            problem("not_geojson", feature_index=index, detail=f"feature is {what}")
        )
        return feature
    if _type_of(entry, index, feature.problems) != "Feature":
        if not feature.problems:
            feature.problems.append(
                problem("not_geojson", feature_index=index, detail="not a Feature")
            )
        return feature
    props = entry.get("properties")
    feature.properties = props if isinstance(props, dict) else {}
    if "geometry" not in entry:
        detail = "feature has no geometry member"
        feature.problems.append(problem("not_geojson", feature_index=index, detail=detail))
    elif entry["geometry"] is None:
        feature.problems.append(problem("geometry_null", feature_index=index))
    else:
        feature.polygons, feature.had_z = _read_geometry(entry["geometry"], index, feature.problems)
    return feature


def _read_geometry(
    geometry: Any, index: int, problems: list[Problem]
) -> tuple[list[PolygonRings] | None, bool]:
    if not isinstance(geometry, dict):
        detail = f"geometry is {type(geometry).__name__}"
        problems.append(problem("not_geojson", feature_index=index, detail=detail))
        return None, False
    kind = _type_of(geometry, index, problems)
    if kind not in ("Polygon", "MultiPolygon"):
        if kind is not None:
            problems.append(problem("not_polygon", feature_index=index, geometry_type=kind))
        return None, False
    coords = geometry.get("coordinates")
    checker = _Checker(index)
    polygons = checker.multipolygon(coords) if kind == "MultiPolygon" else checker.polygon(coords)
    if polygons == [] and not checker.problems:
        checker.add("not_polygon", geometry_type=f"empty {kind}")
    problems.extend(checker.problems)
    if any(p.severity == "error" for p in checker.problems):
        return None, checker.had_z
    return polygons, checker.had_z


class _Checker:
    """Walks coordinates once, reporting each rule at most once per feature."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.problems: list[Problem] = []
        self.had_z = False
        self._seen: set[str] = set()

    def add(self, rule: str, **data: Any) -> None:
        if rule not in self._seen:
            self._seen.add(rule)
            self.problems.append(problem(rule, feature_index=self.index, **data))

    def multipolygon(self, coords: Any) -> list[PolygonRings]:
        if not isinstance(coords, list):
            self.add("bad_nesting", detail="MultiPolygon coordinates must be an array")
            return []
        return [rings for part in coords for rings in self.polygon(part)]

    def polygon(self, coords: Any) -> list[PolygonRings]:
        if not isinstance(coords, list):
            self.add("bad_nesting", detail="Polygon coordinates must be an array of rings")
            return []
        rings = [self.ring(ring) for ring in coords]
        return [[r for r in rings if r is not None]] if coords else []

    def ring(self, ring: Any) -> Ring | None:
        if not isinstance(ring, list) or any(not isinstance(p, list) for p in ring):
            self.add("bad_nesting", detail="a ring must be an array of [lon, lat] positions")
            return None
        positions = [self.position(p) for p in ring]
        if any(p is None for p in positions):
            return None
        dims = {len(p) for p in ring}
        if len(dims) > 1:
            self.add("mixed_dimensions")
            return None
        if 3 in dims:
            self.had_z = True
        points: Ring = [p for p in positions if p is not None]
        if len(points) < 4:
            self.add("ring_too_short", count=len(points))
            return None
        if points[0] != points[-1]:
            self.add("ring_not_closed", first=list(points[0]), last=list(points[-1]))
            return None
        unique = len(set(points))
        if unique < 3:
            self.add("ring_degenerate", unique=unique)
            return None
        return points

    def position(self, position: list[Any]) -> tuple[float, float] | None:
        if any(isinstance(v, list) for v in position):
            self.add("bad_nesting", detail="a position holds an array; nested one level too deep")
            return None
        strings = [v for v in position if isinstance(v, str)]
        if strings:
            self.add("string_coordinate", value=strings[0])
            return None
        if len(position) < 2 or any(
            isinstance(v, bool) or not isinstance(v, int | float) for v in position
        ):
            self.add("bad_position", value=str(position)[:60])
            return None
        if len(position) > 3:
            self.add("position_4d", dims=len(position))
            return None
        return float(position[0]), float(position[1])
