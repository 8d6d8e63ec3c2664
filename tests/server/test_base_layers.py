"""Base layers through the API, the pages and the CLI: check, draft, publish, pull by bbox."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from geo.datums import to_wgs84
from server.layers.models import BaseLayer, BaseLayerFeature
from tests.server.conftest import csrf_token, login
from tests.server.grid_files import auth

ROADS = (
    Path(__file__).resolve().parents[2] / "server/demo/data/osm_xinhua_named_roads_wgs84.geojson"
)
XINHUA = "121.40,31.19,121.45,31.23"
SQUARE = [
    [[121.42, 31.205], [121.4202, 31.205], [121.4202, 31.2052], [121.42, 31.2052], [121.42, 31.205]]
]


def collection(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def footprint(**properties: object) -> dict:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": SQUARE},
    }


@pytest.fixture
def gis_token(make_user, token_for):
    return token_for(make_user("gis", "sun.li"))


def upload(client, token, data: bytes, kind: str = "roads", **form: object):
    fields = {"kind": kind, "datum": "wgs84", **form, "file": (io.BytesIO(data), f"{kind}.geojson")}
    return client.post("/api/v1/layers/imports", data=fields, headers=auth(token))


def publish(client, token, layer_id: int):
    return client.post(f"/api/v1/layers/{layer_id}/publish", headers=auth(token))


def pull(client, bbox: str = XINHUA, kinds: str = ""):
    return client.get(f"/api/v1/layers/features?bbox={bbox}&kinds={kinds}")


def test_osm_roads_are_checked_drafted_published_and_pulled_by_bbox_with_their_credit(
    client, gis_token, db_session
):
    checked = upload(client, gis_token, ROADS.read_bytes(), dry_run="true")
    assert checked.status_code == 201 and checked.get_json()["id"] is None
    assert checked.get_json()["report"]["usable_features"] == 70
    assert db_session.scalar(select(func.count()).select_from(BaseLayer)) == 0

    credit = "© OpenStreetMap contributors, ODbL"
    draft = upload(client, gis_token, ROADS.read_bytes(), attribution=credit)
    assert draft.status_code == 201, draft.get_json()
    layer_id = draft.get_json()["id"]
    assert pull(client).get_json()["features"] == []  # a draft is drawn nowhere

    published = publish(client, gis_token, layer_id)
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    response = pull(client)
    assert response.headers["Cache-Control"] == "public, max-age=300"
    body = response.get_json()
    assert len(body["features"]) == 70 and body["attribution"] == [credit]
    assert body["truncated"] is False
    labels = {f["properties"]["label"] for f in body["features"]}
    assert {"新华路", "番禺路"} <= labels
    coordinates = [c for f in body["features"] for c in f["geometry"]["coordinates"]]
    assert all(len(repr(x).split(".")[-1]) <= 6 for c in coordinates for x in c)
    assert pull(client, "121.50,31.30,121.51,31.31").get_json()["features"] == []


def test_publishing_a_second_roads_layer_retires_the_first(client, gis_token, db_session):
    first = upload(client, gis_token, ROADS.read_bytes()).get_json()["id"]
    publish(client, gis_token, first)
    line = {
        "type": "Feature",
        "properties": {"name": "新路"},
        "geometry": {"type": "LineString", "coordinates": [[121.42, 31.205], [121.425, 31.206]]},
    }
    second = upload(client, gis_token, collection(line)).get_json()["id"]
    assert publish(client, gis_token, second).get_json()["retired_id"] == first
    assert [f["properties"]["label"] for f in pull(client).get_json()["features"]] == ["新路"]
    assert publish(client, gis_token, second).status_code == 409


def test_a_gcj02_layer_is_stored_in_wgs84(client, gis_token, db_session):
    poi = {
        "type": "Feature",
        "properties": {"name": "邬达克纪念馆"},
        "geometry": {"type": "Point", "coordinates": [121.43, 31.21]},
    }
    layer_id = upload(client, gis_token, collection(poi), kind="poi", datum="gcj02").get_json()[
        "id"
    ]
    publish(client, gis_token, layer_id)
    (found,) = pull(client, kinds="poi").get_json()["features"]
    assert found["geometry"]["coordinates"] == pytest.approx(
        list(to_wgs84(121.43, 31.21, "gcj02")), abs=1e-6
    )


def test_footprints_keep_their_number_and_never_a_household(client, gis_token, db_session):
    data = collection(
        footprint(
            **{
                "addr:street": "新华路",
                "number": "329弄12",
                "户主": "王秀英",
                "住户电话": "13912345678",
            }
        )
    )
    response = upload(client, gis_token, data, kind="buildings")
    report = response.get_json()["report"]
    assert report["dropped_properties"] == ["住户电话", "户主"] and not report["has_errors"]
    publish(client, gis_token, response.get_json()["id"])
    text = pull(client, kinds="buildings").get_data(as_text=True)
    assert "329弄12号" in json.loads(text)["features"][0]["properties"]["label"]
    assert "王秀英" not in text and "13912345678" not in text
    stored = db_session.scalar(select(BaseLayerFeature.properties))
    assert stored == {"street": "新华路", "number": "329弄12"}


def test_a_layer_with_errors_is_kept_as_a_draft_that_cannot_be_published(client, gis_token):
    point = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Point", "coordinates": [121.42, 31.2]},
    }
    line = {
        "type": "Feature",
        "properties": {"name": "好路"},
        "geometry": {"type": "LineString", "coordinates": [[121.42, 31.205], [121.425, 31.206]]},
    }
    response = upload(client, gis_token, collection(line, point))
    assert response.status_code == 201 and response.get_json()["report"]["has_errors"]
    refused = publish(client, gis_token, response.get_json()["id"])
    assert refused.status_code == 422 and refused.get_json()["code"] == "layer_has_errors"


@pytest.mark.parametrize(
    ("form", "field"),
    [({"kind": "rivers"}, "kind"), ({"datum": "EPSG:999999"}, "datum")],
)
def test_bad_uploads_are_refused_naming_the_field_and_store_nothing(
    client, gis_token, db_session, form, field
):
    fields = {
        "kind": "roads",
        "datum": "wgs84",
        **form,
        "file": (io.BytesIO(ROADS.read_bytes()), "r.geojson"),
    }
    response = client.post("/api/v1/layers/imports", data=fields, headers=auth(gis_token))
    assert response.status_code == 422
    assert field in json.dumps(response.get_json())
    assert db_session.scalar(select(func.count()).select_from(BaseLayer)) == 0


def test_an_unreadable_file_is_a_422_with_its_report(client, gis_token):
    response = upload(client, gis_token, b"not json")
    assert response.status_code == 422 and response.get_json()["code"] == "layer_unreadable"


@pytest.mark.parametrize(
    "bbox", ["", "1,2,3", "a,b,c,d", "121.44,31.2,121.41,31.22", "100,20,130,40"]
)
def test_a_bad_bbox_is_a_422(client, bbox):
    response = pull(client, bbox)
    assert response.status_code == 422


def test_only_gis_staff_and_admins_upload(client, make_user, token_for):
    worker = token_for(make_user("worker", "w1"))
    assert upload(client, worker, ROADS.read_bytes()).status_code == 403
    admin = token_for(make_user("admin", "a1"))
    assert upload(client, admin, ROADS.read_bytes()).status_code == 201


def test_the_command_line_imports_and_publishes(app, tmp_path, db_session):
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["layers", "import", str(ROADS), "--kind", "roads", "--dry-run"])
    assert dry.exit_code == 0 and "70 usable features" in dry.output
    done = runner.invoke(
        args=["layers", "import", str(ROADS), "--kind", "roads", "--datum", "wgs84", "--publish"]
    )
    assert done.exit_code == 0, done.output
    assert "published layer" in done.output
    bad = tmp_path / "bad.geojson"
    line = {
        "type": "Feature",
        "properties": {"name": "好路"},
        "geometry": {"type": "LineString", "coordinates": [[121.42, 31.205], [121.425, 31.206]]},
    }
    bad.write_bytes(collection(line, footprint()))
    refused = runner.invoke(args=["layers", "import", str(bad), "--kind", "roads"])
    assert refused.exit_code == 1 and "layer_geometry_type" in refused.output
    listed = runner.invoke(args=["layers", "list"])
    assert "published" in listed.output and "draft" in listed.output


def test_the_gis_page_checks_uploads_and_publishes(client, make_user, db_session):
    make_user("gis", "gis.page")
    login(client, "gis.page")
    page = client.get("/layers/")
    assert page.status_code == 200 and "底图" in page.get_data(as_text=True)
    form = {"csrf_token": csrf_token(client), "kind": "roads", "datum": "wgs84"}
    checked = client.post(
        "/layers/",
        data={**form, "dry_run": "1", "file": (io.BytesIO(ROADS.read_bytes()), "roads.geojson")},
    )
    assert checked.status_code == 200 and "70" in checked.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(BaseLayer)) == 0
    stored = client.post(
        "/layers/", data={**form, "file": (io.BytesIO(ROADS.read_bytes()), "roads.geojson")}
    )
    assert stored.status_code == 302
    layer_page = client.get(stored.headers["Location"])
    assert "发布" in layer_page.get_data(as_text=True)
    published = client.post(
        stored.headers["Location"] + "/publish", data={"csrf_token": csrf_token(client)}
    )
    assert published.status_code == 302
    assert db_session.scalar(select(BaseLayer.status)).value == "published"


def test_the_demo_publishes_osm_roads_footprints_and_landmarks_within_the_phone_budget(
    app, client, db_session
):
    from server.demo.loader import load_demo

    result = load_demo(db_session)
    db_session.commit()
    assert result.counts["layer_roads"] == 70 and result.counts["layer_buildings"] > 50
    body = pull(client, "121.4122,31.1985,121.4345,31.2161")
    data = body.get_data()
    features = body.get_json()["features"]
    kinds = {f["properties"]["kind"] for f in features}
    assert kinds == {"roads", "buildings", "poi"}
    assert "© OpenStreetMap contributors, ODbL" in body.get_json()["attribution"]
    assert len(gzip.compress(data)) <= 300_000
    print(f"demo street base layers: {len(data)} bytes raw, {len(gzip.compress(data))} gzip")
