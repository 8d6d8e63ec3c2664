"""Online tiles' settings (WANGGE_TILES_*): checked at start-up, served at /api/v1/map/tiles."""

from __future__ import annotations

import re

import pytest

from server import create_app

TIANDITU = {
    "TILES_URL": "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
    "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
    "&TILECOL={x}&tk={k}",
    "TILES_KEY": "0123abcd",
    "TILES_DATUM": "CGCS2000",
    "TILES_ATTRIBUTION": "天地图 GS(2024)0650号",
    "TILES_SUBDOMAINS": "01234567",
}
AMAP = {
    "TILES_URL": "https://webrd0{s}.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}",
    "TILES_DATUM": "gcj02",
    "TILES_ATTRIBUTION": "© 高德地图",
    "TILES_SUBDOMAINS": ["1", "2", "3", "4"],
    "TILES_MAX_ZOOM": 18,
}


def test_without_a_tile_url_the_maps_have_no_tiles(client):
    answer = client.get("/api/v1/map/tiles")
    assert answer.status_code == 200
    assert answer.json == {
        "enabled": False,
        "url": None,
        "datum": None,
        "attribution": "",
        "max_zoom": 18,
        "subdomains": [],
    }


def test_a_tianditu_provider_is_described_with_its_key_filled_in(make_app):
    answer = make_app(**TIANDITU).test_client().get("/api/v1/map/tiles")  # no sign-in
    assert answer.status_code == 200
    body = answer.json
    assert body["enabled"] is True and body["datum"] == "cgcs2000"
    assert body["url"].endswith("TILECOL={x}&tk=0123abcd") and "{k}" not in body["url"]
    assert body["subdomains"] == list("01234567") and body["max_zoom"] == 18
    assert body["attribution"] == "天地图 GS(2024)0650号"
    assert answer.headers["Cache-Control"] == "public, max-age=300"


def test_gcj02_tiles_are_described_as_gcj02(make_app):
    body = make_app(**AMAP).test_client().get("/api/v1/map/tiles").json
    assert body["datum"] == "gcj02" and body["subdomains"] == ["1", "2", "3", "4"]


def test_the_answer_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/map/tiles"]["get"]
    assert "200" in operation["responses"]
    schema = spec["components"]["schemas"]["TileSettings"]
    assert set(schema["properties"]) == {
        "enabled", "url", "datum", "attribution", "max_zoom", "subdomains",
    }  # fmt: skip


def test_the_pages_embed_the_same_settings(make_app):
    app = make_app(**AMAP)
    page = app.test_client().get("/report/").get_data(as_text=True)
    assert 'id="wangge-map-tools"' in page and "webrd0{s}.is.autonavi.com" in page
    assert "js/map-tiles.js" in page and "data-map-tools" in page


BAD = [
    ({"TILES_URL": "ftp://tiles.example/{z}/{x}/{y}.png"}, "http(s) URL"),
    ({"TILES_URL": "https://tiles.example/{z}/{x}.png"}, "{y} missing"),
    ({"TILES_URL": "https://tiles.example/{z}/{x}/{y}.png?tk={k}"}, "WANGGE_TILES_KEY is not set"),
    ({"TILES_KEY": "abc"}, "has no {k}"),
    ({"TILES_URL": "https://tiles.example/{z}/{x}/{y}/{q}.png"}, "unknown placeholders"),
    ({"TILES_DATUM": None}, "WANGGE_TILES_DATUM must say"),
    ({"TILES_DATUM": "bd09"}, "must be one of wgs84, cgcs2000, gcj02"),
    ({"TILES_ATTRIBUTION": " "}, "WANGGE_TILES_ATTRIBUTION must credit"),
    ({"TILES_MAX_ZOOM": 0}, "WANGGE_TILES_MAX_ZOOM"),
    ({"TILES_MAX_ZOOM": "eighteen"}, "WANGGE_TILES_MAX_ZOOM"),
    ({"TILES_MAX_ZOOM": True}, "WANGGE_TILES_MAX_ZOOM"),
    ({"TILES_SUBDOMAINS": ["a b"]}, "WANGGE_TILES_SUBDOMAINS"),
    ({"TILE_URL": "https://old.example/{z}/{x}/{y}.png"}, "WANGGE_TILE_URL was renamed"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_a_wrong_tile_setting_refuses_to_start_and_names_it(tmp_path, change, message):
    config = {
        "INSTANCE_PATH": str(tmp_path),
        "TILES_URL": "https://tiles.example/{z}/{x}/{y}.png",
        "TILES_DATUM": "wgs84",
        "TILES_ATTRIBUTION": "© Example",
        **change,
    }
    with pytest.raises(ValueError, match=re.escape(message)):
        create_app(config)


def test_a_datum_typo_is_reported_even_without_a_url(tmp_path):
    with pytest.raises(ValueError, match="WANGGE_TILES_DATUM"):
        create_app({"INSTANCE_PATH": str(tmp_path), "TILES_DATUM": "gcj-2"})


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("WANGGE_TILES_URL", "http://t{s}.tiles.lan:8080/{z}/{x}/{y}.png")
    monkeypatch.setenv("WANGGE_TILES_SUBDOMAINS", "12")  # read as JSON: the number 12
    monkeypatch.setenv("WANGGE_TILES_DATUM", "wgs84")
    monkeypatch.setenv("WANGGE_TILES_ATTRIBUTION", "区规划资源局")
    monkeypatch.setenv("WANGGE_TILES_MAX_ZOOM", "20")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    body = app.test_client().get("/api/v1/map/tiles").json
    assert body["max_zoom"] == 20 and body["url"] == "http://t{s}.tiles.lan:8080/{z}/{x}/{y}.png"
    assert body["subdomains"] == ["1", "2"]
    policy = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: http://t1.tiles.lan:8080 http://t2.tiles.lan:8080;" in policy
