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


def xinhua_street() -> Any:
    """The real OSM boundary of Xinhua subdistrict (WGS-84) as a shapely polygon."""
    import shapely.geometry

    doc = json.loads(data_bytes("real/osm_xinhua_boundary_wgs84.geojson"))
    return shapely.geometry.shape(doc["features"][0]["geometry"])


def xinhua_grid_features(splits: tuple[int, int, int] = (2, 2, 3)) -> list[dict]:
    """A four-level grid cut from the real Xinhua boundary: the street, residential areas,
    blocks and building groups as lattice pieces of their parent, coded the GB/T 2260 way
    (310105004 → 310105004001 → 310105004001-01 → 310105004001-01-01)."""
    import shapely
    import shapely.geometry

    def pieces(parent: Any, n: int) -> list[Any]:
        x0, y0, x1, y1 = parent.bounds
        cut = []
        for row in range(n):
            for col in range(n):
                box = shapely.box(
                    x0 + (x1 - x0) * col / n,
                    y0 + (y1 - y0) * row / n,
                    x0 + (x1 - x0) * (col + 1) / n,
                    y0 + (y1 - y0) * (row + 1) / n,
                )
                part = parent.intersection(box)
                if part.area > 0 and part.geom_type in ("Polygon", "MultiPolygon"):
                    cut.append(part)
        return cut

    def as_feature(code: str, level: str, parent: str | None, geometry: Any) -> dict:
        geometry = shapely.set_precision(geometry, 1e-7)
        props = {"code": code, "name": f"格 {code}", "level": level, "parent_code": parent}
        return {
            "type": "Feature",
            "properties": props,
            "geometry": json.loads(
                json.dumps(shapely.geometry.mapping(shapely.orient_polygons(geometry)))
            ),
        }

    street = xinhua_street()
    features = [as_feature("310105004", "street", None, street)]
    for a, area in enumerate(pieces(street, splits[0]), start=1):
        area_code = f"310105004{a:03d}"
        features.append(as_feature(area_code, "residential_area", "310105004", area))
        for b, block in enumerate(pieces(area, splits[1]), start=1):
            block_code = f"{area_code}-{b:02d}"
            features.append(as_feature(block_code, "block", area_code, block))
            for g, group in enumerate(pieces(block, splits[2]), start=1):
                features.append(
                    as_feature(f"{block_code}-{g:02d}", "building_group", block_code, group)
                )
    return features
