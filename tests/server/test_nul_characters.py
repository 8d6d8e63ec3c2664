"""A NUL character anywhere in a request is a 422 naming the field, never PostgreSQL's 500.

PostgreSQL refuses U+0000 in text parameters; every test here runs on both backends, so a
check that only SQLite would pass cannot hide a server error on the real database.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from server.cases.models import Case
from server.extensions import db
from tests.server.backoffice_world import IN_G1, post_form
from tests.server.conftest import PASSWORD, login


def signed_in(app: Any, username: str) -> Any:
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def cases() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Case)) or 0)


def assert_refused(response: Any, field: str, location: str) -> None:
    """422 from the NUL guard: problem+json naming field and location, or the error page."""
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    if response.mimetype == "application/problem+json":
        body = response.get_json()
        assert (body["code"], body["field"], body["details"]["location"]) == (
            "nul_character",
            field,
            location,
        )
    else:
        assert "U+0000" in response.get_data(as_text=True)  # in either language


@pytest.mark.parametrize(
    "path, field",
    [
        ("/cases/lookup/places?q=%E6%96%B0%00", "q"),
        ("/cases/lookup/catalogue?q=%00", "q"),
        ("/cases/lookup/places?q=ok&q%00=x", "q\\x00"),
    ],
)
def test_staff_lookups_refuse_nul_in_query_args(
    app: Any, world: Any, path: str, field: str
) -> None:
    desk = signed_in(app, "d1")
    response = desk.get(path)  # as intake.js asks: no Accept header, still problem+json
    assert response.mimetype == "application/problem+json"
    assert_refused(response, field, "query")


def test_the_place_lookup_still_answers_clean_queries(app: Any, world: Any) -> None:
    desk = signed_in(app, "d1")
    response = desk.get("/cases/lookup/places?q=%E6%96%B0%E5%8D%8E")
    assert response.status_code == 200
    assert isinstance(response.get_json(), list)


def test_an_intake_form_with_nul_is_refused_and_no_case_is_made(app: Any, world: Any) -> None:
    desk = signed_in(app, "d1")
    data = {
        "channel": "hotline",
        "caller_name": "王阿姨",
        "caller_phone": "13900000329",
        "catalogue_item_id": str(world.items["A05-01"].id),
        "priority": "urgent",
        "description": "电线\x00外露",
        "address": "新华路329弄弄口",
        "lon": str(IN_G1[0]),
        "lat": str(IN_G1[1]),
    }
    before = cases()
    response = post_form(desk, "/cases/new", data, token_from="/cases/new")
    assert_refused(response, "description", "form")
    assert cases() == before


def test_the_login_form_with_nul_is_refused(client: Any, world: Any) -> None:
    response = post_form(
        client, "/login", {"username": "d1\x00", "password": PASSWORD}, token_from="/login"
    )
    assert_refused(response, "username", "form")


def test_a_json_body_with_nul_is_a_problem_naming_the_field(client: Any, world: Any) -> None:
    response = client.post(
        "/api/v1/auth/token",
        json={"username": "w1\x00", "password": PASSWORD, "device_id": str(uuid.uuid4())},
    )
    assert response.mimetype == "application/problem+json"
    assert_refused(response, "username", "json")


def test_a_sync_push_with_nul_changes_nothing(client: Any, world: Any, token_for: Any) -> None:
    device_id = uuid.uuid4()
    token = token_for(world.users["w1"], device_id=device_id)
    report = {
        "seq": 1,
        "op_id": str(uuid.uuid4()),
        "name": "case.report",
        "args": {
            "id": str(uuid.uuid4()),
            "title": "电线外露",
            "description": "破损\x00外露",
            "lon": IN_G1[0],
            "lat": IN_G1[1],
            "photos": [],
        },
        "recorded_at_device": "2026-11-26T09:20:00+08:00",
    }
    body = {
        "device_id": str(device_id),
        "schema_version": 1,
        "device_now": "2026-11-26T09:30:00+08:00",
        "mutations": [report],
    }
    before = cases()
    response = client.post(
        "/api/v1/sync/push", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert_refused(response, "mutations.0.args.description", "json")
    assert cases() == before


def test_an_escaped_backslash_before_u0000_is_plain_text_not_a_nul(client: Any, world: Any) -> None:
    response = client.post(
        "/api/v1/auth/token",
        data=r'{"username": "w1\\u0000", "password": "x", "device_id": "'
        + str(uuid.uuid4())
        + '"}',
        content_type="application/json",
    )
    # The literal text "\u0000" is just a wrong user name: refused by the schema, not by us.
    assert response.status_code in (401, 422)
    assert response.get_json()["code"] != "nul_character"


def test_a_path_segment_with_nul_is_refused(client: Any, world: Any) -> None:
    assert_refused(client.get("/services/p/CO%00"), "code", "path")


def test_a_file_name_with_nul_is_refused(app: Any, world: Any) -> None:
    import io

    gis = signed_in(app, "admin")
    response = post_form(
        gis,
        "/grids/upload",
        {"file": (io.BytesIO(b"{}"), "cells\x00.geojson"), "datum": "wgs84"},
        token_from="/grids/",
    )
    assert_refused(response, "file", "files")
