"""Synthetic grid files and upload helpers for the grid server tests."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

LON0, LAT0 = 121.420, 31.200  # inside Xinhua subdistrict
WIDTH, HEIGHT = 0.02, 0.01
DEMO_BOUNDARY = (
    Path(__file__).resolve().parents[2] / "server/demo/data/osm_xinhua_boundary_wgs84.geojson"
)


def ring(lon0: float, lat0: float, lon1: float, lat1: float) -> list[list[float]]:
    return [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]


def feature(code: str, level: str, parent: str | None, box: tuple, name: str | None = None) -> dict:
    return {
        "type": "Feature",
        "properties": {
            "code": code,
            "name": name or f"格{code}",
            "level": level,
            "parent_code": parent,
        },
        "geometry": {"type": "Polygon", "coordinates": [ring(*box)]},
    }


def grid_features(split: float = 0.5, names: dict[str, str] | None = None) -> list[dict]:
    """S → R1 | R2 (split at ``split`` of the width) → 2 blocks each → 2 building groups each."""
    names = names or {}
    x1, y1 = LON0 + WIDTH, LAT0 + HEIGHT
    xs = LON0 + WIDTH * split
    out = [feature("S", "street", None, (LON0, LAT0, x1, y1), names.get("S"))]
    for r, (a, b) in (("R1", (LON0, xs)), ("R2", (xs, x1))):
        out.append(feature(r, "residential_area", "S", (a, LAT0, b, y1), names.get(r)))
        mid_y = LAT0 + HEIGHT / 2
        for k, (c, d) in enumerate(((LAT0, mid_y), (mid_y, y1)), start=1):
            block = f"{r}-B{k}"
            out.append(feature(block, "block", r, (a, c, b, d), names.get(block)))
            mid_x = (a + b) / 2
            for g, (e, f) in enumerate(((a, mid_x), (mid_x, b)), start=1):
                out.append(feature(f"{block}-G{g}", "building_group", block, (e, c, f, d)))
    return out


def surveyors_features() -> list[dict]:
    """The grid as a surveyor's file: no level, no parent; codes carry them (S, S-R1, …)."""
    features = grid_features()
    for feature in features:
        props = feature["properties"]
        props["code"] = props["code"] if props["code"] == "S" else f"S-{props['code']}"
        del props["level"], props["parent_code"]
    return features


def grid_bytes(features: list[dict] | None = None, **root: Any) -> bytes:
    doc = {
        "type": "FeatureCollection",
        **root,
        "features": features if features is not None else grid_features(),
    }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def upload(
    client: FlaskClient, token: str, data: bytes, filename: str = "grid.geojson", **form: Any
) -> Any:
    fields = {
        "datum": "wgs84",
        **{k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()},
    }
    fields["file"] = (io.BytesIO(data), filename)
    return client.post(
        "/api/v1/grids/imports",
        data=fields,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def publish(client: FlaskClient, token: str, version_id: int, moved_because: str = "") -> Any:
    """Publish; ``moved_because`` acknowledges a grid displaced as a whole (and says why)."""
    body = {"acknowledge_displacement": True, "reason": moved_because} if moved_because else None
    return client.post(f"/api/v1/grids/{version_id}/publish", headers=auth(token), json=body)


def upload_and_publish(
    client: FlaskClient,
    token: str,
    data: bytes | None = None,
    moved_because: str = "",
    **form: Any,
) -> int:
    response = upload(client, token, data or grid_bytes(), **form)
    assert response.status_code == 201, response.get_json()
    version_id = int(response.get_json()["id"])
    published = publish(client, token, version_id, moved_because)
    assert published.status_code == 200, published.get_json()
    return version_id
