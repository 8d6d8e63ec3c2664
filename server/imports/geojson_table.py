"""A GeoJSON file read as a table, so standard addresses come from GIS as well as from Excel.

Each feature is a row (row N = the Nth feature), its properties are the columns (mapped
with the same headers as a spreadsheet: 地址, 路名, 弄号, 门牌号, 楼号 …) and its geometry
becomes the columns the address import already reads, in the file's own datum: a Point
gives 经度/纬度, a Polygon or MultiPolygon (a building footprint) gives 楼栋轮廓 as WKT.
The datum conversion, the district check and the footprint checks are the address import's
own (server/imports/addresses.py). Decoding (UTF-8, BOM, GBK named, NaN refused) is the grid
upload's (geo/decoding.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from shapely.errors import ShapelyError
from shapely.geometry import shape

from geo.decoding import load_document
from server.imports.report import RowProblem, problem
from server.imports.tabular import Row, Table, UnreadableTable

GEOMETRY_HEADERS = ("经度", "纬度", "楼栋轮廓")
MAX_GEOMETRY_TEXT = 200_000


def looks_like_json(data: bytes) -> bool:
    """True when the bytes start (after a BOM and blanks) like a JSON object."""
    return data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{"


def _file_problem(found: Any) -> RowProblem:
    return problem(
        "geojson_problem",
        severity=found.severity if found.severity in ("error", "warning") else "error",
        detail_zh=found.message_zh,
        detail_en=found.message_en,
    )


def _features(document: Any) -> list[Any]:
    if isinstance(document, dict) and document.get("type") == "FeatureCollection":
        features = document.get("features")
        if isinstance(features, list):
            return features
    if isinstance(document, dict) and document.get("type") == "Feature":
        return [document]
    raise UnreadableTable(
        [
            problem(
                "geojson_problem",
                detail_zh="不是 GeoJSON 要素集合（FeatureCollection）",
                detail_en="not a GeoJSON FeatureCollection",
            )
        ]
    )


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False)[:MAX_GEOMETRY_TEXT]


def _geometry_cells(geometry: Any) -> tuple[Any, Any, str | None]:
    """(lon, lat, footprint WKT) of a feature's geometry, in the file's datum. A geometry
    that cannot be read goes to the footprint column as it is, so the row's check names it."""
    if geometry is None:
        return None, None, None
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        coordinates = geometry.get("coordinates")
        if (
            isinstance(coordinates, list)
            and len(coordinates) >= 2
            and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates)
        ):
            return coordinates[0], coordinates[1], None
    try:
        return None, None, shape(geometry).wkt[:MAX_GEOMETRY_TEXT]
    except (ShapelyError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None, None, "GEOJSON " + json.dumps(geometry, ensure_ascii=False)[:200]


def read_geojson(data: bytes) -> Table:
    """The features of a GeoJSON file as rows; UnreadableTable when the file is not one."""
    document, found = load_document(data)
    problems = [_file_problem(p) for p in found]
    if document is None or any(p.severity == "error" for p in problems):
        raise UnreadableTable(problems or [problem("empty_file")])
    features = _features(document)
    if not features:
        raise UnreadableTable([*problems, problem("no_rows")])
    names: dict[str, None] = {}
    for feature in features:
        properties = feature.get("properties") if isinstance(feature, dict) else None
        for key in properties or {}:
            if str(key) not in GEOMETRY_HEADERS:  # the geometry wins over a property
                names.setdefault(str(key), None)
    headers = [*GEOMETRY_HEADERS, *names]

    def rows() -> Iterator[Row]:
        for number, feature in enumerate(features, start=1):
            feature = feature if isinstance(feature, dict) else {}
            properties = feature.get("properties") or {}
            if not isinstance(properties, dict):
                properties = {}
            lon, lat, footprint = _geometry_cells(feature.get("geometry"))
            yield number, [lon, lat, footprint, *(_cell(properties.get(n)) for n in names)]

    source = {"format": "geojson", "header_row": 0, "features": len(features)}
    return Table(headers, 0, rows(), source, problems)
