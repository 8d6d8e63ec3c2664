"""Standard addresses from a GeoJSON file: points or footprints, any datum, same report."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from geo.datums import from_wgs84
from server.addresses.models import StandardAddress
from server.extensions import db


def square(lon: float, lat: float, datum: str, half: float = 0.0003) -> list[list[float]]:
    corners = [(-half, -half), (half, -half), (half, half), (-half, half), (-half, -half)]
    return [list(from_wgs84(lon + dx, lat + dy, datum)) for dx, dy in corners]


def feature(geometry: object, **properties: object) -> dict[str, object]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def collection(*features: dict[str, object]) -> bytes:
    document = {"type": "FeatureCollection", "features": list(features)}
    return json.dumps(document, ensure_ascii=False).encode()


def gcj02_doors() -> list[dict[str, object]]:
    """Two points and a footprint, in GCJ-02 (AMap), properties in the office's own words."""
    return [
        feature(
            {"type": "Point", "coordinates": list(from_wgs84(121.4225, 31.2025, "gcj02"))},
            地址编码="G1",
            地址="新华路329弄12号",
            小区="新华小区",
        ),
        feature(
            {"type": "Point", "coordinates": list(from_wgs84(121.4325, 31.2075, "gcj02"))},
            地址编码="G2",
            路名="番禺路",
            楼号="100",
        ),
        feature(
            {"type": "Polygon", "coordinates": [square(121.4275, 31.2025, "gcj02")]},
            地址编码="G3",
            路名="新华路",
            弄="329",
            号="14",
        ),
    ]


def door(code: str) -> StandardAddress:
    return db.session.scalar(select(StandardAddress).where(StandardAddress.code == code))


def test_points_and_footprints_in_gcj02_are_stored_in_wgs84_and_placed(office):
    run = office.apply("addresses", collection(*gcj02_doors()), datum="gcj02")
    assert run.source["format"] == "geojson" and run.counts["addresses_new"] == 3
    first = door("G1")
    assert first.lon == pytest.approx(121.4225, abs=2e-6)
    assert first.lat == pytest.approx(31.2025, abs=2e-6)
    assert first.cell_code == "R1-B1-G1" and first.alias == "新华小区"
    assert door("G2").text == "番禺路100号" and door("G2").cell_code == "R2-B2-G1"
    footprint = door("G3")
    assert footprint.footprint_wkb and footprint.cell_code == "R1-B1-G2"
    assert footprint.source_datum == "gcj02"
    again = office.apply("addresses", collection(*gcj02_doors()), datum="gcj02")
    assert again.counts["addresses_unchanged"] == 3 and again.counts["addresses_new"] == 0


@pytest.mark.parametrize(
    ("geometry", "rule"),
    [
        (  # a bow-tie: the ring crosses itself
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [121.4221, 31.2021],
                        [121.4229, 31.2029],
                        [121.4229, 31.2021],
                        [121.4221, 31.2029],
                        [121.4221, 31.2021],
                    ]
                ],
            },
            "footprint_invalid",
        ),
        ({"type": "Polygon", "coordinates": [[["a", "b"]]]}, "footprint_invalid"),
        (
            {"type": "LineString", "coordinates": [[121.42, 31.2], [121.43, 31.2]]},
            "footprint_invalid",
        ),
        ({"type": "Point", "coordinates": [31.2025, 121.4225]}, "coordinates_outside"),
    ],
)
def test_a_bad_geometry_is_refused_naming_its_feature_and_nothing_is_applied(
    office, geometry, rule
):
    before = db.session.scalar(select(func.count()).select_from(StandardAddress))
    features = [*gcj02_doors(), feature(geometry, 地址编码="BAD", 地址="新华路329弄18号")]
    run = office.check("addresses", collection(*features), datum="wgs84")
    found = [p for p in run.report["problems"] if p["rule"] == rule]
    assert run.state == "refused" and found and found[0]["row"] == 4, run.report["problems"]
    assert found[0]["message_zh"].startswith("第 4 行")
    assert db.session.scalar(select(func.count()).select_from(StandardAddress)) == before


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b'{"type": "FeatureCollection", "features": [', "geojson_problem"),
        (b'{"type": "Point", "coordinates": [1, 2]}', "geojson_problem"),
        (
            '{"type": "FeatureCollection", "features": [], "name": "新华"}'.encode("gbk"),
            "geojson_problem",
        ),
        (b'{"type": "FeatureCollection", "features": []}', "no_rows"),
    ],
)
def test_a_broken_geojson_file_is_refused_with_a_file_message(office, data, rule):
    run = office.check("addresses", data)
    assert run.state == "refused" and rule in run.report["counts_by_rule"], run.report


def test_geojson_is_only_for_addresses(office):
    run = office.check("register", collection(*gcj02_doors()))
    assert run.state == "refused" and "geojson_not_here" in run.report["counts_by_rule"]


def test_the_api_takes_a_geojson_file_for_a_gis_user(office, client, make_user, token_for):
    from tests.server.grid_files import auth

    token = token_for(make_user("gis"))
    response = client.post(
        "/api/v1/imports/addresses",
        data={"file": (io.BytesIO(collection(*gcj02_doors())), "门牌.geojson"), "datum": "gcj02"},
        headers=auth(token),
        content_type="multipart/form-data",
    )
    body = response.get_json()
    assert response.status_code == 201 and body["state"] == "checked", body
    assert body["source"]["format"] == "geojson" and body["counts"]["addresses_new"] == 3
    applied = client.post(f"/api/v1/imports/runs/{body['id']}/apply", headers=auth(token))
    assert applied.status_code == 200 and door("G3").cell_code == "R1-B1-G2"
