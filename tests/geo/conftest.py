"""Shared fixtures for geo tests: test-data paths and builders of synthetic grid files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "geo"
SHANGHAI_BBOX = (120.85, 30.67, 122.2, 31.88)


def data_bytes(relative: str) -> bytes:
    return (DATA / relative).read_bytes()


def feature(code: str, level: str, parent: str | None, ring: list, **extra: Any) -> dict:
    props = {"code": code, "name": f"格 {code}", "level": level, "parent_code": parent, **extra}
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def box_ring(lon0: float, lat0: float, lon1: float, lat1: float) -> list:
    return [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]


@pytest.fixture
def make_grid_file() -> Callable[..., bytes]:
    """Return a builder: features (dicts) → FeatureCollection bytes."""

    def build(*features: dict, **root: Any) -> bytes:
        return json.dumps(
            {"type": "FeatureCollection", **root, "features": list(features)}, ensure_ascii=False
        ).encode("utf-8")

    return build
