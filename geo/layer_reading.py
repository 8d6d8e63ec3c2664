"""Read an uploaded base-layer file (roads, building footprints, points of interest).

The same decoding, datum resolution and rule catalogue as the grid (``geo.reading``): bytes
and the datum the user chose in, WGS-84 features and a ``ValidationReport`` out. A base layer
is drawn under the cells on every map, so it keeps only what a map label needs (a name, a
house number, a road class): any other property is dropped and the report says which, so
a footprint file exported with owners' names carries none of them into the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import shapely
from shapely.geometry.base import BaseGeometry

from geo import file_problems
from geo.datum_choice import resolve_datum
from geo.datums import Datum
from geo.decoding import load_document
from geo.geometry_checks import check_geometry
from geo.layer_lines import lines_to_wgs84, read_lines
from geo.measure import distance_to_geometry_m
from geo.problems import Problem, ValidationReport, problem
from geo.structure import RawFeature, _Checker, read_features

__all__ = ["KINDS", "LayerFeature", "LayerImport", "LayerKind", "read_layer_file"]

LayerKind = Literal["roads", "buildings", "poi"]
KINDS: tuple[LayerKind, ...] = ("roads", "buildings", "poi")
KIND_ZH = {"roads": "道路", "buildings": "建筑轮廓", "poi": "兴趣点"}
GEOMETRY_TYPES: dict[str, tuple[str, ...]] = {
    "roads": ("LineString", "MultiLineString"),
    "buildings": ("Polygon", "MultiPolygon"),
    "poi": ("Point",),
}
#: What each kind keeps: stored key → the property names a file may use for it (first wins).
KEPT: dict[str, dict[str, tuple[str, ...]]] = {
    "roads": {
        "name": ("name", "名称", "NAME", "road_name"),
        "name_en": ("name_en", "name:en"),
        "class": ("highway", "class", "fclass", "等级"),
    },
    "buildings": {
        "name": ("name", "名称", "NAME"),
        "street": ("addr:street", "street", "路名"),
        "number": ("addr:housenumber", "number", "housenumber", "门牌号", "门牌"),
        "address": ("address", "addr:full", "地址"),
        "levels": ("building:levels", "levels", "层数"),
    },
    "poi": {
        "name": ("name", "名称", "NAME"),
        "name_en": ("name_en", "name:en"),
        "category": ("amenity", "tourism", "shop", "category", "类别"),
        "address": ("address", "addr:full", "地址"),
    },
}
#: Identifiers of the source (an OSM way …) are not personal and are dropped without a word.
QUIET = {"osm_way", "osm_id", "id", "@id", "fid", "OBJECTID", "building", "highway_ref"}
MAX_TEXT = 120  # a label longer than this is cut


@dataclass(frozen=True)
class LayerFeature:
    """One usable feature: WGS-84 geometry, its label texts (all plain strings)."""

    index: int
    geometry: BaseGeometry
    properties: dict[str, str]

    @property
    def label(self) -> str:
        """What the map writes next to it: a road's name, a building's number, a POI's name.

        >>> from shapely import Point
        >>> LayerFeature(0, Point(0, 0), {"street": "新华路", "number": "12"}).label
        '12号'
        """
        number = self.properties.get("number", "")
        if number:
            return number if number.endswith("号") else f"{number}号"
        return self.properties.get("name", "")


@dataclass
class LayerImport:
    """The result of reading one layer file: usable features, the report, the datum used."""

    kind: LayerKind
    features: list[LayerFeature]
    report: ValidationReport
    datum_used: Datum | None = None
    source_crs_note: str | None = None
    dropped_keys: list[str] = field(default_factory=list)


def read_layer_file(
    data: bytes,
    *,
    kind: LayerKind,
    datum: str | None,
    district_bbox: tuple[float, float, float, float] | None = None,
    district_margin_m: float = 5000.0,
    swap_axes: bool = False,
) -> LayerImport:
    """Read, convert to WGS-84 and validate a base-layer file; never raises on bad input.

    A feature of the wrong geometry type, with bad coordinates or far from the district is an
    error (the layer cannot be published); a Z value or a property not kept is a warning.

    >>> doc = b'{"type": "Feature", "properties": {"name": "a", "owner": "x"}, "geometry":'
    >>> doc += b' {"type": "LineString", "coordinates": [[121.4, 31.2], [121.41, 31.2]]}}'
    >>> result = read_layer_file(doc, kind="roads", datum="wgs84")
    >>> [f.label for f in result.features], [p.rule for p in result.report.problems]
    (['a'], ['properties_dropped'])
    """
    document, problems = load_document(data)
    report = ValidationReport(problems)
    result = LayerImport(kind, [], report)
    if document is None and problems:
        return result
    file_crs, raws, structural = _read(document)
    problems += structural
    report.feature_count = len(raws)
    result.datum_used, result.source_crs_note = resolve_datum(file_crs, datum, problems)
    if result.datum_used is None:
        return result
    dropped: set[str] = set()
    for raw, geometry in raws:
        _read_one(raw, geometry, result, district_bbox, district_margin_m, swap_axes, dropped)
    report.problems = file_problems.collapse(report.problems, len(raws))
    if dropped:
        result.dropped_keys = sorted(dropped)
        report.problems.append(problem("properties_dropped", keys=", ".join(result.dropped_keys)))
    if not result.features and not report.has_errors:
        report.problems.append(problem("no_layer_features"))
    return result


def _read(document: Any) -> tuple[str | None, list[tuple[RawFeature, Any]], list[Problem]]:
    """Features with their raw geometry member (``read_features`` reads polygons only)."""
    file_crs, raws, structural = read_features(document)
    entries: list[Any] = []
    if isinstance(document, dict):
        if isinstance(document.get("features"), list):
            entries = document["features"]
        elif document.get("type") == "Feature":
            entries = [document]
        else:
            entries = [{"geometry": document}]
    pairs = []
    for raw in raws:
        entry = entries[raw.index] if raw.index < len(entries) else None
        geometry = entry.get("geometry") if isinstance(entry, dict) else None
        # read_features judged the geometry as a polygon; keep only its other findings
        raw.problems = [p for p in raw.problems if p.rule not in _POLYGON_RULES]
        pairs.append((raw, geometry))
    return file_crs, pairs, structural


_POLYGON_RULES = {
    "not_polygon",
    "bad_nesting",
    "string_coordinate",
    "bad_position",
    "position_4d",
    "mixed_dimensions",
    "ring_too_short",
    "ring_not_closed",
    "ring_degenerate",
}


def _kept(kind: str, properties: dict[str, Any], dropped: set[str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    used: set[str] = set()
    for key, names in KEPT[kind].items():
        for name in names:
            value = properties.get(name)
            if value is not None and str(value).strip():
                kept[key] = str(value).strip()[:MAX_TEXT]
                used.add(name)
                break
    dropped.update(
        k
        for k, v in properties.items()
        if k not in used and k not in QUIET and v is not None and str(v).strip()
    )
    return kept


def _read_one(
    raw: RawFeature,
    geometry: Any,
    result: LayerImport,
    bbox: tuple[float, float, float, float] | None,
    margin_m: float,
    swap_axes: bool,
    dropped: set[str],
) -> None:
    problems = result.report.problems
    blocking = [p for p in raw.problems if p.severity == "error"]
    problems.extend(raw.problems)
    if blocking or not isinstance(geometry, dict):
        return
    props = _kept(result.kind, raw.properties, dropped)
    name = props.get("name") or props.get("address") or None
    read = _geometry(geometry, result.kind, raw.index, result.datum_used, swap_axes, problems)  # type: ignore[arg-type]
    if read is None:
        return
    if bbox is not None:
        spot = read.representative_point()
        distance = distance_to_geometry_m(spot.x, spot.y, shapely.box(*bbox))
        if distance > margin_m:
            problems.append(
                problem(
                    "far_from_district",
                    feature_index=raw.index,
                    name=name,
                    location=(spot.x, spot.y),
                    distance_km=round(distance / 1000, 1),
                )
            )
            return
    result.features.append(LayerFeature(raw.index, read, props))


def _geometry(
    geometry: dict[str, Any],
    kind: str,
    index: int,
    datum: Datum,
    swap_axes: bool,
    problems: list[Problem],
) -> BaseGeometry | None:
    """The feature's geometry in WGS-84, or None with the problem reported."""
    got = geometry.get("type")
    expected = GEOMETRY_TYPES[kind]
    if got not in expected:
        problems.append(
            problem(
                "layer_geometry_type",
                feature_index=index,
                kind=kind,
                kind_zh=KIND_ZH[kind],
                expected=" / ".join(expected),
                geometry_type=str(got)[:40],
            )
        )
        return None
    checker = _Checker(index)
    coords = geometry.get("coordinates")
    if got in ("Polygon", "MultiPolygon"):
        polygons = (
            checker.multipolygon(coords) if got == "MultiPolygon" else checker.polygon(coords)
        )
        if swap_axes:
            polygons = [[[(y, x) for x, y in ring] for ring in rings] for rings in polygons]
        problems.extend(checker.problems)
        if not polygons or any(p.severity == "error" for p in checker.problems):
            return None
        checked = check_geometry(polygons, datum, index, "", repair=True)
        problems.extend(p for p in checked.problems if p.rule != "winding")
        return checked.geometry
    lines = read_lines(got, coords, checker)
    problems.extend(checker.problems)
    if lines is None or any(p.severity == "error" for p in checker.problems):
        return None
    if swap_axes:
        lines = [[(y, x) for x, y in line] for line in lines]
    return lines_to_wgs84(got, lines, datum, index, problems)
