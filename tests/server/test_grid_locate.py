"""Locate a point and fetch cells: datums, near/none, a new publication seen by every process."""

from __future__ import annotations

import json

import pytest

from geo.datums import from_wgs84
from server.grid.index import index_cache
from tests.server.grid_files import LAT0, LON0, auth, grid_bytes, grid_features, upload_and_publish


@pytest.fixture
def token(make_user, token_for):
    return token_for(make_user("gis", "sun.li"))


def locate(client, token, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"/api/v1/grid/locate?{query}", headers=auth(token))


def test_a_point_picked_on_a_gcj02_map_is_moved_to_wgs84_before_locating(client, token):
    upload_and_publish(client, token)
    lon, lat = from_wgs84(LON0 + 0.0191, LAT0 + 0.0091, "gcj02")
    wgs = locate(client, token, lon=LON0 + 0.0191, lat=LAT0 + 0.0091).get_json()
    gcj = locate(client, token, lon=lon, lat=lat, datum="gcj02").get_json()
    assert gcj["path"][0]["code"] == wgs["path"][0]["code"] == "R2-B2-G2"
    assert gcj["lon"] == pytest.approx(LON0 + 0.0191, abs=1e-8)
    naive = locate(client, token, lon=lon, lat=lat).get_json()  # the same numbers read as WGS-84
    assert naive["status"] != "in" or naive["path"][0]["code"] != "R2-B2-G2"


def test_a_point_just_outside_is_near_and_a_far_point_is_none(client, token):
    upload_and_publish(client, token)
    near = locate(client, token, lon=LON0 - 0.0002, lat=LAT0 + 0.001).get_json()
    assert near["status"] == "near" and 15 < near["distance_m"] < 25
    far = locate(client, token, lon=LON0 - 0.01, lat=LAT0).get_json()
    assert far["status"] == "none" and far["path"] == [] and far["responsible"] is None


def test_locate_with_no_published_grid_says_none(client, token):
    body = locate(client, token, lon=LON0, lat=LAT0).get_json()
    assert body["status"] == "none" and body["grid_version_id"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": 200, "lat": 31}, "lon"),
        ({"lon": 121, "lat": -91}, "lat"),
        ({"lon": "nan", "lat": 31}, "lon"),
        ({"lon": "inf", "lat": 31}, "lon"),
        ({"lon": "east", "lat": 31}, "lon"),
        ({"lat": 31}, "lon"),
        ({"lon": 121.4, "lat": 31.2, "datum": "wgs85"}, "datum"),
    ],
)
def test_bad_points_are_refused_naming_the_field(client, token, params, field):
    response = locate(client, token, **params)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == field


def test_locate_needs_a_signed_in_caller(client):
    assert client.get(f"/api/v1/grid/locate?lon={LON0}&lat={LAT0}").status_code == 401


def test_another_process_publishing_is_noticed_through_the_database(make_app, client, token, app):
    upload_and_publish(client, token)
    other = make_app()  # a second process: its own app, its own index cache
    other_client = other.test_client()
    point = {"lon": LON0 + 0.02 * 0.45, "lat": LAT0 + 0.002}
    assert locate(other_client, token, **point).get_json()["path"][-2]["code"] == "R1"
    # the first process publishes a re-division (acknowledged: every cell but the street moved)
    upload_and_publish(client, token, grid_bytes(grid_features(split=0.4)), "重新划分")
    assert locate(other_client, token, **point).get_json()["path"][-2]["code"] == "R2"
    assert index_cache(other).builds == 2
    locate(other_client, token, **point)
    assert index_cache(other).builds == 2  # unchanged version: no rebuild


def test_cells_come_as_geojson_in_the_requested_datum_and_filtered(client, token):
    upload_and_publish(client, token)
    everything = client.get("/api/v1/grid/cells", headers=auth(token))
    assert everything.mimetype == "application/geo+json"
    assert len(json.loads(everything.data)["features"]) == 15
    blocks = json.loads(client.get("/api/v1/grid/cells?level=block", headers=auth(token)).data)
    assert {f["properties"]["level"] for f in blocks["features"]} == {"block"}
    bbox = f"{LON0 + 0.001},{LAT0 + 0.001},{LON0 + 0.002},{LAT0 + 0.002}"
    some = json.loads(client.get(f"/api/v1/grid/cells?bbox={bbox}", headers=auth(token)).data)
    assert {f["properties"]["code"] for f in some["features"]} == {"S", "R1", "R1-B1", "R1-B1-G1"}
    gcj = json.loads(
        client.get("/api/v1/grid/cells?level=street&datum=gcj02", headers=auth(token)).data
    )
    corner = gcj["features"][0]["geometry"]["coordinates"][0][0]
    assert corner == pytest.approx(list(from_wgs84(LON0, LAT0, "gcj02")), abs=1e-6)
    assert gcj["datum"] == "gcj02"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=3,2,1,0", "bbox"),
        ("bbox=nan,1,2,3", "bbox"),
        ("level=district", "level"),
        ("datum=mars", "datum"),
        ("version=4242", "id"),
    ],
)
def test_bad_cell_queries_are_refused_naming_the_field(client, token, query, field):
    upload_and_publish(client, token)
    response = client.get(f"/api/v1/grid/cells?{query}", headers=auth(token))
    assert response.status_code in (404, 422), response.get_json()
    assert response.get_json()["field"] == field
