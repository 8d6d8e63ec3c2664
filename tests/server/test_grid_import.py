"""Uploading grids through the API: drafts with reports, bad files refused, nothing changed."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from server.grid.models import Cell, GridImportJob, GridVersion
from tests.server.grid_files import DEMO_BOUNDARY, auth, grid_bytes, grid_features, upload


@pytest.fixture
def gis_token(make_user, token_for):
    return token_for(make_user("gis", "sun.li"))


def counts(db_session):
    return (
        db_session.scalar(select(func.count()).select_from(GridVersion)),
        db_session.scalar(select(func.count()).select_from(Cell)),
    )


def test_a_clean_multi_level_grid_becomes_a_publishable_draft(client, gis_token, db_session):
    response = upload(client, gis_token, grid_bytes(), name="季度网格")
    assert response.status_code == 201
    body = response.get_json()
    assert body["report"]["has_errors"] is False and body["report"]["feature_count"] == 15
    version = client.get(f"/api/v1/grids/{body['id']}", headers=auth(gis_token)).get_json()
    assert version["status"] == "draft" and version["cell_count"] == 15 and version["publishable"]
    assert version["name"] == "季度网格"
    parents = dict(db_session.execute(select(Cell.code, Cell.parent_id)).all())
    assert parents["S"] is None and all(v for k, v in parents.items() if k != "S")


def test_the_real_osm_xinhua_boundary_uploads_as_a_street(client, gis_token):
    data = DEMO_BOUNDARY.read_bytes()
    doc = json.loads(data)
    for feature in doc["features"]:
        feature["properties"].update({"code": "XH", "level": "street"})
    response = upload(client, gis_token, json.dumps(doc).encode(), name_property="name")
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert report["error_count"] == 0, report["problems"]


def test_a_file_with_errors_is_kept_as_a_draft_that_cannot_be_published(client, gis_token):
    features = grid_features()
    features[5]["geometry"]["coordinates"] = [
        [[121.421, 31.2], [121.425, 31.205], [121.425, 31.2], [121.421, 31.205], [121.421, 31.2]]
    ]
    response = upload(client, gis_token, grid_bytes(features))
    assert response.status_code == 201
    report = response.get_json()["report"]
    assert report["has_errors"]
    bowtie = next(p for p in report["problems"] if p["rule"] == "self_intersection")
    assert bowtie["feature_index"] == 5 and bowtie["code"] == features[5]["properties"]["code"]
    assert bowtie["location"] and bowtie["message_zh"] and bowtie["message_en"]
    refused = client.post(
        f"/api/v1/grids/{response.get_json()['id']}/publish", headers=auth(gis_token)
    )
    assert refused.status_code == 422
    problem = refused.get_json()
    assert problem["code"] == "grid_has_errors"
    assert any(p["rule"] == "self_intersection" for p in problem["details"]["problems"])


def test_repair_fixes_the_bowtie_and_says_what_it_changed(client, gis_token):
    features = grid_features()
    features[5]["geometry"]["coordinates"] = [
        [[121.421, 31.2], [121.425, 31.205], [121.425, 31.2], [121.421, 31.205], [121.421, 31.2]]
    ]
    report = upload(client, gis_token, grid_bytes(features), repair=True).get_json()["report"]
    assert any(r["action"] == "make_valid" for r in report["repairs"])
    assert not any(
        p["rule"] == "self_intersection" and p["severity"] == "error" for p in report["problems"]
    )


@pytest.mark.parametrize(
    ("data", "form", "status", "field"),
    [
        (b"", {}, 422, "file"),
        (grid_bytes(), {"datum": "mars"}, 422, "datum"),
        (grid_bytes(), {"datum": "EPSG:999999"}, 422, "datum"),
        (grid_bytes(), {"code_property": ""}, 422, "code_property"),
        (b"this is not json", {}, 422, "file"),
        (b'{"type": "Topology"}', {}, 422, "file"),
        (b'{"type": "FeatureCollection", "features": []}', {}, 422, "file"),
    ],
    ids=[
        "empty",
        "unknown-datum",
        "unknown-epsg",
        "empty-property-name",
        "not-json",
        "not-geojson",
        "no-cells",
    ],
)
def test_bad_uploads_are_refused_naming_the_field_and_store_nothing(
    client, gis_token, db_session, data, form, status, field
):
    response = upload(client, gis_token, data, **form)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["field"] == field
    assert counts(db_session) == (0, 0)


def test_an_upload_without_a_file_names_the_file_field(client, gis_token, db_session):
    response = client.post(
        "/api/v1/grids/imports", data={"datum": "wgs84"}, headers=auth(gis_token)
    )
    assert response.status_code == 422 and response.get_json()["field"] == "file"
    assert counts(db_session) == (0, 0)


def test_a_gbk_file_is_reported_as_gbk_not_a_server_error(client, gis_token):
    data = grid_bytes().decode("utf-8").encode("gbk")
    response = upload(client, gis_token, data)
    assert response.status_code == 201
    report = response.get_json()["report"]
    not_utf8 = next(p for p in report["problems"] if p["rule"] == "not_utf8")
    assert "GBK" in not_utf8["message_en"] and report["has_errors"]


def test_a_nul_character_in_a_property_is_reported_not_a_server_error(
    client, gis_token, db_session
):
    """PostgreSQL cannot store U+0000: the file is refused as unreadable (like broken JSON),
    by a rule naming where the character is, and nothing is stored."""
    features = grid_features()
    features[1]["properties"]["name"] = "居委\x00会"
    response = upload(client, gis_token, grid_bytes(features))
    assert response.status_code == 422
    body = response.get_json()
    assert (body["code"], body["field"]) == ("grid_unreadable", "file")
    (nul,) = body["details"]["report"]["problems"]
    assert nul["rule"] == "nul_character"
    assert nul["data"]["where"] == "features.1.properties.name"
    assert counts(db_session) == (0, 0)


def test_property_names_are_configurable_at_upload(client, gis_token):
    features = grid_features()
    for f in features:
        p = f["properties"]
        f["properties"] = {
            "BM": p["code"],
            "MC": p["name"],
            "JB": p["level"],
            "SJBM": p["parent_code"],
        }
    response = upload(
        client,
        gis_token,
        grid_bytes(features),
        code_property="BM",
        name_property="MC",
        level_property="JB",
        parent_property="SJBM",
    )
    assert response.status_code == 201 and not response.get_json()["report"]["has_errors"]


def test_gcj02_upload_is_stored_in_wgs84(client, gis_token, db_session):
    from geo.datums import from_wgs84

    features = grid_features()
    for f in features:
        f["geometry"]["coordinates"] = [
            [list(from_wgs84(x, y, "gcj02")) for x, y in r] for r in f["geometry"]["coordinates"]
        ]
    response = upload(client, gis_token, grid_bytes(features), datum="gcj02")
    assert response.status_code == 201
    street = db_session.scalar(select(Cell).where(Cell.code == "S"))
    assert street.min_lon == pytest.approx(121.42, abs=1e-7) and street.min_lat == pytest.approx(
        31.2, abs=1e-7
    )


def test_a_large_upload_runs_in_the_background_with_progress_to_poll(
    make_app, make_user, db_session
):
    app = make_app(GRID_IMPORT_INLINE_MAX_BYTES=10)
    client = app.test_client()
    with app.app_context():
        from server.accounts import operations as accounts
        from server.extensions import db
        from tests.server.conftest import PASSWORD

        accounts.create_user(db.session, username="sun.li", password=PASSWORD, role="gis")
        db.session.commit()
    token = client.post(
        "/api/v1/auth/token",
        json={
            "username": "sun.li",
            "password": PASSWORD,
            "device_id": "0b9c5f8e-3d7e-4a8a-9a61-0a3c5e2b1f00",
            "device_name": "pc",
        },
    ).get_json()["token"]
    response = upload(client, token, grid_bytes())
    assert response.status_code == 202
    url = response.headers["Location"]
    for _ in range(200):
        job = client.get(url, headers=auth(token)).get_json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert job["state"] == "done" and job["id"] and job["done"] == job["total"]
    assert job["report"]["feature_count"] == 15


def test_workers_and_dispatchers_cannot_upload(client, make_user, token_for, db_session):
    for role in ("worker", "dispatcher", "manager"):
        token = token_for(make_user(role))
        assert upload(client, token, grid_bytes()).status_code == 403
    assert counts(db_session) == (0, 0)
    assert db_session.scalar(select(func.count()).select_from(GridImportJob)) == 0


def test_an_admin_may_upload(client, make_user, token_for):
    assert upload(client, token_for(make_user("admin")), grid_bytes()).status_code == 201
