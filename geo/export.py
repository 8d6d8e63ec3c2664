"""Cells → RFC 7946 GeoJSON (optionally in another datum) that re-imports to the identical grid."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol

import shapely
from shapely.geometry.base import BaseGeometry

from geo.datums import WGS84, Datum, geometry_from_wgs84, parse_datum

DECIMALS = 7  # ≈ 1 cm; RFC 7946 §11.2 recommends no more than needed


class CellLike(Protocol):
    """Anything with the fields of a cell (CellDraft, IndexedCell, a server model row …)."""

    code: str
    name: str
    level: Any
    parent_code: str | None
    geometry: BaseGeometry


def _rounded(geometry: BaseGeometry) -> dict[str, Any]:
    oriented = shapely.orient_polygons(geometry, exterior_cw=False)
    mapping = shapely.geometry.mapping(oriented)

    def walk(value: Any) -> Any:
        if isinstance(value, float):
            return round(value, DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        return value

    return {"type": mapping["type"], "coordinates": walk(mapping["coordinates"])}


def to_feature_collection(
    cells: Iterable[CellLike], *, datum: Datum | str = WGS84
) -> dict[str, Any]:
    """Return an RFC 7946 FeatureCollection dict: CCW exteriors, ≤ 7 decimals, sorted by code.

    With a datum other than WGS-84 the coordinates are moved into it (for Chinese web
    maps); such output is not RFC 7946 any more and carries a ``datum`` member saying so.

    >>> from shapely import box
    >>> from geo.cells import CellDraft
    >>> from geo.levels import Level
    >>> fc = to_feature_collection([CellDraft("S1", "新华", Level.STREET, None, box(0, 0, 1, 1))])
    >>> fc["features"][0]["properties"]
    {'code': 'S1', 'name': '新华', 'level': 'street', 'parent_code': None}
    >>> fc["features"][0]["geometry"]["coordinates"][0][:2]
    [[1.0, 0.0], [1.0, 1.0]]
    """
    target = datum if isinstance(datum, Datum) else parse_datum(datum)
    features = []
    for cell in sorted(cells, key=lambda c: c.code):
        geometry = geometry_from_wgs84(cell.geometry, target)
        level = getattr(cell.level, "value", cell.level)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": cell.code,
                    "name": cell.name,
                    "level": level,
                    "parent_code": cell.parent_code,
                },
                "geometry": _rounded(geometry),
            }
        )
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if target.kind != "wgs84":
        collection["datum"] = target.name
    return collection


def export_grid_bytes(cells: Iterable[CellLike], *, datum: Datum | str = WGS84) -> bytes:
    """Return the FeatureCollection as compact UTF-8 JSON bytes (Chinese kept readable).

    >>> export_grid_bytes([])
    b'{"type":"FeatureCollection","features":[]}'
    """
    collection = to_feature_collection(cells, datum=datum)
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
