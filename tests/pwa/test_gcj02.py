"""pwa/js/gcj02.js (the phone's and the office pages' GCJ-02 shift) against the published
vectors geo/chinese_offsets.py is tested with, and against the Python code point by point."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from geo.chinese_offsets import gcj02_to_wgs84, wgs84_to_gcj02
from server import REPO_ROOT
from tests.node_eval import node_eval

VECTORS = json.loads((REPO_ROOT / "tests/data/geo/gcj02-vectors.json").read_text("utf-8"))


def run_module(points: list[list[float]]) -> dict[str, Any]:
    """Both functions of the module, through node, on each [lon, lat]."""
    script = (
        f"import('{REPO_ROOT / 'pwa/js/gcj02.js'}').then((m) => {{"
        f"const pts = {json.dumps(points)};"
        "console.log(JSON.stringify({forward: pts.map(([x, y]) => m.wgs84ToGcj02(x, y)),"
        " inverse: pts.map(([x, y]) => m.gcj02ToWgs84(x, y))}));})"
    )
    out = node_eval(script)
    return dict(json.loads(out))


def test_the_forward_shift_matches_the_published_vectors() -> None:
    got = run_module([[v[0], v[1]] for v in VECTORS["gcj02"]])["forward"]
    for (_, _, gcj_lon, gcj_lat), (lon, lat) in zip(VECTORS["gcj02"], got, strict=True):
        assert (lon, lat) == pytest.approx((gcj_lon, gcj_lat), abs=1e-9)


def test_the_inverse_recovers_the_published_wgs84_points_to_under_1e_7_degrees() -> None:
    got = run_module([[v[2], v[3]] for v in VECTORS["gcj02"]])["inverse"]
    for (wgs_lon, wgs_lat, _, _), (lon, lat) in zip(VECTORS["gcj02"], got, strict=True):
        assert abs(lon - wgs_lon) < 1e-7 and abs(lat - wgs_lat) < 1e-7


def test_outside_china_nothing_moves() -> None:
    points = VECTORS["outside_china"]
    answer = run_module(points)
    assert answer["forward"] == points and answer["inverse"] == points


def test_the_module_and_geo_chinese_offsets_agree_across_china() -> None:
    rng = np.random.default_rng(14)
    lon = rng.uniform(73.6, 134.7, 400)
    lat = rng.uniform(18.2, 53.5, 400)
    answer = run_module(np.column_stack([lon, lat]).tolist())
    py_lon, py_lat = wgs84_to_gcj02(lon, lat)
    js = np.array(answer["forward"])
    assert np.max(np.abs(js[:, 0] - py_lon)) < 1e-12 and np.max(np.abs(js[:, 1] - py_lat)) < 1e-12
    back_lon, back_lat = gcj02_to_wgs84(lon, lat)
    inv = np.array(answer["inverse"])
    assert (
        np.max(np.abs(inv[:, 0] - back_lon)) < 1e-9 and np.max(np.abs(inv[:, 1] - back_lat)) < 1e-9
    )
    # and the inverse really inverts: forward(inverse(g)) == g
    again = run_module(inv.tolist())["forward"]
    assert np.max(np.abs(np.array(again) - np.column_stack([lon, lat]))) < 1e-9
