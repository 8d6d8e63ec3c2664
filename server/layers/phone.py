"""The phone's offline base layers: the published features around a worker's cells, compact.

The worker app keeps them in IndexedDB and draws them with no signal (docs/pwa.md §Map).
The shape is not GeoJSON: coordinates are integers in ``unit`` degrees (1e-5°, about 1 m,
finer than a phone's fix) relative to ``origin``, each line or ring delta-encoded and flat
(``[x0, y0, dx1, dy1, …]``, a ring not closed), and properties are positional. That is a
quarter of the GeoJSON's bytes before gzip and half after (bench/bench_phone_layers.py).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.layer_reading import KINDS
from server.enums import GridStatus
from server.grid.models import Cell
from server.layers.models import BaseLayer, BaseLayerFeature
from server.layers.queries import MAX_FEATURES

FORMAT = 1
UNIT = 1e-5  # degrees per coordinate step (~1.1 m north–south, ~0.95 m east–west at 31°N)
MARGIN_M = 200.0  # around the cells: the streets and buildings a worker sees from the edge
METRES_PER_DEG = 111_320.0

Bbox = tuple[float, float, float, float]


def scope_bbox(
    session: Session, grid_id: int | None, codes: Iterable[str], margin_m: float = MARGIN_M
) -> Bbox | None:
    """The box around the scope's cells in the published grid, grown by ``margin_m``.

    None when the scope has no cell (an office account with no duty gets no layers).
    """
    codes = sorted(codes)
    if grid_id is None or not codes:
        return None
    boxes = session.execute(
        select(Cell.min_lon, Cell.min_lat, Cell.max_lon, Cell.max_lat).where(
            Cell.grid_version_id == grid_id, Cell.code.in_(codes)
        )
    ).all()
    if not boxes:
        return None
    return grow(
        (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        ),
        margin_m,
    )


def grow(bbox: Bbox, margin_m: float) -> Bbox:
    """``bbox`` grown by ``margin_m`` metres on every side.

    >>> grow((121.0, 31.0, 121.0, 31.0), 111.32)
    (120.998833, 30.999, 121.001167, 31.001)
    """
    min_lon, min_lat, max_lon, max_lat = bbox
    dlat = margin_m / METRES_PER_DEG
    dlon = dlat / max(math.cos(math.radians((min_lat + max_lat) / 2)), 0.01)
    return (
        round(min_lon - dlon, 6),
        round(min_lat - dlat, 6),
        round(max_lon + dlon, 6),
        round(max_lat + dlat, 6),
    )


def published_layers(session: Session) -> list[tuple[int, str, str | None]]:
    """(id, kind, attribution) of every published layer, by id."""
    rows = session.execute(
        select(BaseLayer.id, BaseLayer.kind, BaseLayer.attribution)
        .where(BaseLayer.status == GridStatus.PUBLISHED, BaseLayer.kind.in_(KINDS))
        .order_by(BaseLayer.id)
    ).all()
    return [(int(i), str(k), a) for i, k, a in rows]


def version_of(layers: Sequence[tuple[int, str, str | None]], bbox: Bbox | None) -> str:
    """A tag that changes when a layer is (re)published or the scope's box moves."""
    text = f"{FORMAT}|{UNIT}|{bbox}|" + ",".join(f"{i}:{k}" for i, k, _ in layers)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_line(points: Sequence[Sequence[float]], origin: tuple[float, float]) -> list[int]:
    """Positions → ``[x0, y0, dx1, dy1, …]`` in UNIT steps from ``origin``; repeated steps
    (a point that rounds onto the one before) are dropped, so is a ring's closing point.

    >>> encode_line([[121.0, 31.0], [121.0001, 31.00002], [121.0, 31.0]], (121.0, 31.0))
    [0, 0, 10, 2]
    """
    out: list[int] = []
    px = py = None
    closed = len(points) > 2 and list(points[0][:2]) == list(points[-1][:2])
    for p in points[:-1] if closed else points:
        x = round((p[0] - origin[0]) / UNIT)
        y = round((p[1] - origin[1]) / UNIT)
        if px is None or py is None:
            out += [x, y]
        elif (x, y) != (px, py):
            out += [x - px, y - py]
        else:
            continue
        px, py = x, y
    return out


def _parts(geometry: dict[str, Any]) -> list[list[Any]]:
    """Lines of a (Multi)LineString, rings of a (Multi)Polygon, [[point]] of a Point."""
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Point":
        return [[coords]]
    if kind in ("LineString",):
        return [coords]
    if kind in ("MultiLineString", "Polygon"):
        return list(coords)
    if kind == "MultiPolygon":
        return [ring for polygon in coords for ring in polygon]
    return []


def phone_layers(session: Session, bbox: Bbox | None, limit: int = MAX_FEATURES) -> dict[str, Any]:
    """The compact offline layers for ``bbox`` (None: an empty answer with its version)."""
    layers = published_layers(session)
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": version_of(layers, bbox),
        "bbox": list(bbox) if bbox else None,
        "unit": UNIT,
        "origin": [bbox[0], bbox[1]] if bbox else None,
        "attribution": sorted({a for _, _, a in layers if a}),
        "roads": [],
        "buildings": [],
        "poi": [],
        "truncated": False,
    }
    if bbox is None or not layers:
        return out
    min_lon, min_lat, max_lon, max_lat = bbox
    origin = (min_lon, min_lat)
    f = BaseLayerFeature
    kinds = {i: k for i, k, _ in layers}
    rows = session.execute(
        select(f.layer_id, f.label, f.properties, f.geometry)
        .where(
            f.layer_id.in_(list(kinds)),
            f.max_lon >= min_lon,
            f.min_lon <= max_lon,
            f.max_lat >= min_lat,
            f.min_lat <= max_lat,
        )
        .order_by(f.layer_id, f.id)
        .limit(limit + 1)
    ).all()
    out["truncated"] = len(rows) > limit
    for layer_id, label, props, geometry in rows[:limit]:
        kind, props = kinds[layer_id], props or {}
        parts = [encode_line(p, origin) for p in _parts(geometry or {}) if p]
        parts = [p for p in parts if p]
        if not parts:
            continue
        if kind == "roads":
            # [name, class, line, line …]: a name on each line of a MultiLineString
            out["roads"].append(
                [label or props.get("name") or "", props.get("class") or "", *parts]
            )
        elif kind == "buildings":
            # [label, street, number, ring, ring …]: street + number find its households
            out["buildings"].append(
                [label or "", props.get("street") or "", props.get("number") or "", *parts]
            )
        elif kind == "poi":
            out["poi"].append([label or props.get("name") or "", *parts[0][:2]])
    return out
