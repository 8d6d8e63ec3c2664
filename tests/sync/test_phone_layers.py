"""The phone's offline base layers: the worker's cells plus a margin, compact, versioned."""

from __future__ import annotations

import gzip
import json
import math
from typing import Any

import pytest
import shapely

from server.enums import GridStatus
from server.extensions import db
from server.layers import phone as phone_layers
from server.layers.models import BaseLayer, BaseLayerFeature
from sync.db import utcnow
from tests.sync.conftest import G1, World

#: A road along G1's south edge, a footprint inside G1, one 150 m east of G1 (in the 200 m
#: margin) and one 1 km east (outside it).
ROAD = [[121.4195, 31.2001], [121.4225, 31.2001]]
NEAR_M, FAR_M = 150, 1000


def _east(metres: float) -> float:
    return metres / (111_320 * math.cos(math.radians(31.2)))


def _square(lon: float, lat: float, side: float = 0.0001) -> dict[str, Any]:
    ring = [[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _layer(kind: str, features: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> BaseLayer:
    """Publish a layer of ``kind`` (retiring the one before) with (label, props, geometry)."""
    for old in db.session.query(BaseLayer).filter_by(kind=kind, status=GridStatus.PUBLISHED):
        old.status = GridStatus.RETIRED
    layer = BaseLayer(
        kind=kind,
        name=kind,
        status=GridStatus.PUBLISHED,
        attribution="© OpenStreetMap contributors, ODbL",
        published_at=utcnow(),
    )
    db.session.add(layer)
    db.session.flush()
    for label, props, geometry in features:
        minx, miny, maxx, maxy = shapely.geometry.shape(geometry).bounds
        db.session.add(
            BaseLayerFeature(
                layer_id=layer.id,
                label=label,
                properties=props,
                geometry=geometry,
                min_lon=minx,
                min_lat=miny,
                max_lon=maxx,
                max_lat=maxy,
            )
        )
    db.session.commit()
    return layer


@pytest.fixture
def layers(world: World) -> None:
    x0, y0 = G1.bounds[2], 31.2004
    _layer(
        "roads",
        [
            (
                "新华路",
                {"name": "新华路", "class": "secondary"},
                {"type": "LineString", "coordinates": ROAD},
            )
        ],
    )
    _layer(
        "buildings",
        [
            ("1号", {"street": "新华路", "number": "1号"}, _square(121.4203, 31.2003)),
            ("200号", {"street": "新华路", "number": "200号"}, _square(x0 + _east(NEAR_M), y0)),
            ("900号", {"street": "新华路", "number": "900号"}, _square(x0 + _east(FAR_M), y0)),
        ],
    )  # fmt: skip


def _decode(parts: list[int], origin: list[float], unit: float) -> list[tuple[float, float]]:
    x = y = 0
    out = []
    for i in range(0, len(parts), 2):
        x, y = (parts[i], parts[i + 1]) if i == 0 else (x + parts[i], y + parts[i + 1])
        out.append((origin[0] + x * unit, origin[1] + y * unit))
    return out


def test_a_worker_pulls_the_layers_of_their_cells_and_margin_compact_and_nothing_far(
    phone: Any, layers: None
) -> None:
    wa = phone("wa")
    answer = wa.client.get("/api/v1/sync/layers", headers={**wa.headers, "Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    zipped = answer.headers.get("Content-Encoding") == "gzip"
    assert zipped or len(answer.data) < 1024  # small answers are not worth compressing
    body = json.loads(gzip.decompress(answer.data)) if zipped else answer.get_json()
    assert [b[0] for b in body["buildings"]] == ["1号", "200号"]  # not 1 km away
    assert body["buildings"][0][1:3] == ["新华路", "1号"]
    assert [r[:2] for r in body["roads"]] == [["新华路", "secondary"]]
    assert body["attribution"] == ["© OpenStreetMap contributors, ODbL"]
    # the box is G1 grown by 200 m, and the coordinates come back within a metre
    _, south, east, _ = body["bbox"]
    assert east - G1.bounds[2] == pytest.approx(_east(200), rel=0.01)
    assert south == pytest.approx(G1.bounds[1] - 200 / 111_320, abs=1e-6)
    ring = _decode(body["buildings"][0][3], body["origin"], body["unit"])
    assert len(ring) == 4  # the closing point is implied
    for (lon, lat), (want_lon, want_lat) in zip(
        ring, _square(121.4203, 31.2003)["coordinates"][0][:4], strict=True
    ):
        assert abs(lon - want_lon) * 95_000 < 1 and abs(lat - want_lat) * 111_320 < 1
    road = _decode(body["roads"][0][2], body["origin"], body["unit"])
    assert road[-1] == (pytest.approx(ROAD[-1][0], abs=1e-5), pytest.approx(ROAD[-1][1], abs=1e-5))


def test_the_version_answers_304_until_a_layer_is_published_again(phone: Any, layers: None) -> None:
    wa = phone("wa")
    first = wa.client.get("/api/v1/sync/layers", headers=wa.headers)
    tag = first.headers["ETag"].strip('"')
    assert tag == first.get_json()["version"]
    again = wa.client.get(
        "/api/v1/sync/layers", headers={**wa.headers, "If-None-Match": f'"{tag}"'}
    )
    assert again.status_code == 304 and again.data == b""
    _layer(
        "buildings", [("2号", {"street": "新华路", "number": "2号"}, _square(121.4204, 31.2004))]
    )
    changed = wa.client.get(
        "/api/v1/sync/layers", headers={**wa.headers, "If-None-Match": f'"{tag}"'}
    )
    assert changed.status_code == 200
    assert changed.get_json()["version"] != tag
    assert [b[0] for b in changed.get_json()["buildings"]] == ["2号"]


def test_no_cells_no_layers_and_strangers_get_401(phone: Any, layers: None, client: Any) -> None:
    office = phone("office")  # a dispatcher with no duty: no scope, no box
    body = office.client.get("/api/v1/sync/layers", headers=office.headers).get_json()
    assert body["bbox"] is None and body["roads"] == body["buildings"] == body["poi"] == []
    assert client.get("/api/v1/sync/layers").status_code == 401


def test_encoding_drops_repeats_and_the_closing_point_and_grow_is_in_metres() -> None:
    origin = (121.0, 31.0)
    points = [[121.0, 31.0], [121.000001, 31.000001], [121.0001, 31.0], [121.0, 31.0]]
    assert phone_layers.encode_line(points, origin) == [0, 0, 10, 0]
    assert phone_layers.encode_line([[121.0, 31.0], [121.0, 31.0]], origin) == [0, 0]
    _, south, east, _ = phone_layers.grow((121.0, 31.0, 121.01, 31.01), 1000)
    assert (31.0 - south) * 111_320 == pytest.approx(1000, rel=1e-3)
    assert (east - 121.01) * 111_320 * math.cos(math.radians(31.005)) == pytest.approx(
        1000, rel=1e-3
    )
