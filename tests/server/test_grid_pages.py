"""Back-office grid pages: upload with progress, the report in Chinese, the map, people, gaps."""

from __future__ import annotations

import io
import re
import time

from tests.server.conftest import csrf_token, login
from tests.server.grid_files import grid_bytes, grid_features


def signed_in(client, make_user, role="gis", username="sun.li"):
    make_user(role, username)
    login(client, username)


def post_upload(client, data, **form):
    fields = {"csrf_token": csrf_token(client, "/grids/"), "datum": "wgs84", **form}
    fields["file"] = (io.BytesIO(data), "grid.geojson")
    return client.post("/grids/upload", data=fields, content_type="multipart/form-data")


def follow_progress(client, location):
    for _ in range(200):
        page = client.get(location)
        if page.status_code == 302:
            return client.get(page.headers["Location"])
        if "正在校验" not in page.get_data(as_text=True):
            return page
        time.sleep(0.05)
    raise AssertionError("import did not finish")


def test_the_upload_page_is_chinese_and_offers_datums_and_property_names(client, make_user):
    signed_in(client, make_user)
    html = client.get("/grids/").get_data(as_text=True)
    assert "上传网格文件" in html and "GCJ-02(高德、腾讯)" in html and "EPSG" in html
    assert 'name="code_property"' in html and 'name="repair"' in html


def test_an_upload_shows_progress_then_the_version_with_its_report_and_map(client, make_user):
    signed_in(client, make_user)
    features = grid_features()
    features[3]["properties"]["parent_code"] = "R9"
    response = post_upload(client, grid_bytes(features))
    assert response.status_code == 302 and "/grids/imports/" in response.headers["Location"]
    page = follow_progress(client, response.headers["Location"])
    html = page.get_data(as_text=True)
    assert "校验报告" in html and "parent_not_found" in html and "不能发布" in html
    assert "/grids/vendor/leaflet/leaflet.js" in html and 'id="map"' in html


def test_a_clean_upload_is_published_from_its_page(client, make_user):
    signed_in(client, make_user)
    page = follow_progress(client, post_upload(client, grid_bytes()).headers["Location"])
    version_id = re.search(r"/grids/(\d+)/publish", page.get_data(as_text=True)).group(1)
    token = csrf_token(client, f"/grids/{version_id}")
    published = client.post(f"/grids/{version_id}/publish", data={"csrf_token": token})
    assert published.status_code == 302
    assert "已发布" in client.get(published.headers["Location"]).get_data(as_text=True)


def test_a_bad_datum_on_the_page_is_refused_with_the_field_named(client, make_user):
    signed_in(client, make_user)
    response = post_upload(client, grid_bytes(), datum="epsg", epsg="12")
    assert response.status_code == 422 and "未知坐标系" in response.get_data(as_text=True)
    missing = post_upload(client, b"")
    assert missing.status_code == 422 and "请选择一个非空的 GeoJSON 文件" in missing.get_data(
        as_text=True
    )


def test_leaflet_is_served_locally_from_the_package(client):
    with client.get("/grids/vendor/leaflet/leaflet.js") as response:  # closes the file
        assert response.status_code == 200 and b"Leaflet" in response.data[:2000]


def test_markercluster_is_served_locally_from_the_package(client):
    with client.get("/grids/vendor/leaflet.markercluster/leaflet.markercluster.js") as response:
        assert response.status_code == 200 and b"markercluster" in response.data[:2000]
    with client.get("/grids/vendor/leaflet.markercluster/MarkerCluster.css") as response:
        assert response.status_code == 200 and b".leaflet-cluster-anim" in response.data


def test_a_worker_gets_403_on_the_grid_pages(client, make_user):
    signed_in(client, make_user, role="worker", username="zhou.jie")
    assert client.get("/grids/").status_code == 403
    assert client.get("/grids/people").status_code == 403


def test_the_people_page_assigns_and_shows_the_fallback(client, make_user):
    signed_in(client, make_user)
    page = follow_progress(client, post_upload(client, grid_bytes()).headers["Location"])
    version_id = re.search(r"/grids/(\d+)/publish", page.get_data(as_text=True)).group(1)
    client.post(f"/grids/{version_id}/publish", data={"csrf_token": csrf_token(client, "/grids/")})
    make_user("worker", "zhou.jie", display_name="周杰")
    token = csrf_token(client, "/grids/people?code=R1")
    client.post(
        "/grids/people/assign",
        data={
            "csrf_token": token,
            "cell_code": "R1",
            "username": "zhou.jie",
            "role": "grid_worker",
            "rank": "principal",
        },
    )
    html = client.get("/grids/people?code=R1-B1-G1").get_data(as_text=True)
    assert "周杰" in html and "属地兜底" in html
    gaps = client.get("/grids/gaps").get_data(as_text=True)
    assert "无人负责的网格" in gaps and "R1-B1-G1" in gaps
    unknown = client.get("/grids/people?code=NOPE")
    assert unknown.status_code == 404 and "已发布的网格中没有单元" in unknown.get_data(as_text=True)


def test_a_draft_with_a_broken_polygon_still_shows_its_diff_against_the_published_grid(
    client, make_user
):
    signed_in(client, make_user)
    page = follow_progress(client, post_upload(client, grid_bytes()).headers["Location"])
    version_id = re.search(r"/grids/(\d+)/publish", page.get_data(as_text=True)).group(1)
    client.post(f"/grids/{version_id}/publish", data={"csrf_token": csrf_token(client, "/grids/")})
    features = grid_features()
    ring = features[5]["geometry"]["coordinates"][0]
    features[5]["geometry"]["coordinates"] = [[ring[0], ring[2], ring[1], ring[3], ring[0]]]
    broken = follow_progress(client, post_upload(client, grid_bytes(features)).headers["Location"])
    html = broken.get_data(as_text=True)
    assert (
        broken.status_code == 200 and "与已发布版本的差异" in html and "self_intersection" in html
    )
