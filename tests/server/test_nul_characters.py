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
from sync.models import MutationRecord
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


def test_a_sync_push_rejects_only_the_mutation_with_a_nul(
    client: Any, world: Any, token_for: Any
) -> None:
    """One bad record must not jam the phone's outbox: the others are applied, the seq moves
    on, and the log keeps the rejected args with U+FFFD where the NUL was."""
    device_id = uuid.uuid4()
    token = token_for(world.users["w1"], device_id=device_id)

    def report(seq: int, description: str) -> dict[str, Any]:
        return {
            "seq": seq,
            "op_id": str(uuid.uuid4()),
            "name": "case.report",
            "args": {
                "id": str(uuid.uuid4()),
                "title": "电线外露",
                "description": description,
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
        "mutations": [report(1, "破损"), report(2, "破损\x00外露"), report(3, "外露")],
    }
    before = cases()
    response = client.post(
        "/api/v1/sync/push", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["last_seq"] == 3
    statuses = [(r["seq"], r["status"]) for r in answer["results"]]
    assert statuses == [(1, "applied"), (2, "rejected"), (3, "applied")]
    reason = answer["results"][1]["reason"]
    assert reason["code"] == "INVALID_ARGS" and reason["details"]["field"] == "description"
    assert cases() == before + 2
    logged = db.session.scalar(
        select(MutationRecord).where(MutationRecord.device_id == device_id, MutationRecord.seq == 2)
    )
    assert logged.status == "rejected" and logged.args["description"] == "破损\ufffd外露"
    again = client.post(
        "/api/v1/sync/push", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert [r["status"] for r in again.get_json()["results"]] == ["duplicate"] * 3


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
