"""The API's edge: problem+json errors, strict JSON, size limits, OpenAPI and its docs page."""

from __future__ import annotations

import json

import pytest


def _is_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["code"] == code
    assert body["detail"] and body["type"] == f"urn:wangge:problem:{code}"
    return body


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"username": "a", ', b"\xff\xfe garbage", b"[1, 2,]"],
    ids=["broken", "truncated", "not-utf8", "trailing-comma"],
)
def test_malformed_json_gets_400_problem(client, raw):
    response = client.post(
        "/api/v1/auth/token", data=raw, headers={"Content-Type": "application/json"}
    )
    _is_problem(response, 400, "bad_request")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_though_python_would_parse_them(client, constant):
    raw = f'{{"username": "a", "password": {constant}, "device_id": "x", "device_name": "y"}}'
    response = client.post(
        "/api/v1/auth/token", data=raw, headers={"Content-Type": "application/json"}
    )
    _is_problem(response, 400, "bad_request")


def test_a_utf8_bom_before_json_is_tolerated(client):
    raw = "\ufeff" + json.dumps({"username": "x"})
    response = client.post(
        "/api/v1/auth/token", data=raw.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422  # parsed; then the missing fields are reported


def test_wrong_types_get_422_naming_the_field(client):
    response = client.post(
        "/api/v1/auth/token",
        json={
            "username": 12,
            "password": "x",
            "device_id": "5b0a6c1e-2c1a-4a57-9a4e-2c2f4c1e0a11",
            "device_name": "phone",
        },
    )
    body = _is_problem(response, 422, "validation_error")
    assert body["field"] == "username"


def test_a_body_that_is_not_json_gets_415(client):
    response = client.post(
        "/api/v1/auth/token",
        data="username=a&password=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _is_problem(response, 415, "unsupported_media_type")


def test_an_oversized_json_body_gets_413(make_app):
    app = make_app(MAX_JSON_BYTES=1024)
    client = app.test_client()
    response = client.post("/api/v1/auth/token", json={"username": "x" * 4000})
    _is_problem(response, 413, "payload_too_large")


def test_an_upload_over_the_request_limit_gets_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=2048)
    client = app.test_client()
    response = client.post(
        "/api/v1/auth/token", data=b"x" * 5000, headers={"Content-Type": "application/json"}
    )
    _is_problem(response, 413, "payload_too_large")


def test_an_unknown_api_path_gets_404_problem(client):
    _is_problem(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_a_wrong_method_gets_405_problem(client):
    _is_problem(client.put("/api/v1/auth/token"), 405, "method_not_allowed")


def test_errors_carry_the_request_id(client):
    response = client.get("/api/v1/nothing", headers={"X-Request-ID": "abc123"})
    assert response.headers["X-Request-ID"] == "abc123"
    assert response.get_json()["request_id"] == "abc123"


def test_error_messages_are_chinese_by_default_and_english_on_request(client):
    assert client.get("/api/v1/nothing").get_json()["detail"] == "此地址下没有找到内容。"
    assert client.get("/api/v1/nothing?lang=en").get_json()["detail"] == (
        "Nothing was found at this address."
    )


def test_the_openapi_document_describes_the_token_endpoint(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    token = spec["paths"]["/api/v1/auth/token"]["post"]
    schema_ref = token["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = schema_ref.rsplit("/", 1)[1]
    required = spec["components"]["schemas"][name]["required"]
    assert set(required) == {"username", "password", "device_id", "device_name"}


def test_the_openapi_document_describes_the_push_body(client):
    """The push view is wrapped in a GC pause (server/gc_pause.py); its documented body
    survives the wrapper."""
    spec = client.get("/api/v1/openapi.json").get_json()
    push = spec["paths"]["/api/v1/sync/push"]["post"]
    schema_ref = push["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = schema_ref.rsplit("/", 1)[1]
    assert {"device_id", "mutations"} <= set(spec["components"]["schemas"][name]["required"])


def test_the_api_docs_page_works_without_internet(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/docs-assets/swagger-ui-bundle.js" in html
    with client.get("/api/v1/docs-assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200 and len(asset.data) > 100_000
