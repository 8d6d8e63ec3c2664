"""The issue's own examples (issue 12, item 4), each answered with a clear 4xx or ignored.

The route fuzzer (test_route_fuzz.py) sends these and thousands more to every route; here
each class of fix is pinned with the answer a caller sees: the status, the machine code and
the field at fault.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask import Flask

from server import params
from tests.server.conftest import login


def _as(app: Flask, user: str) -> Any:
    client = app.test_client()
    assert login(client, user).status_code == 302
    return client


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_a_path_id_no_column_holds_is_a_404(app: Flask, world: Any, make_user: Any) -> None:
    make_user("gis", username="gis1")
    gis = _as(app, "gis1")
    for path in ("/grids/99999999999999999999", "/grids/2147483648", "/api/v1/grids/2147483648"):
        assert gis.get(path).status_code == 404, path
    assert gis.get("/grids/2147483647").status_code == 404  # the largest id: looked up, absent


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/exports/cases.csv?since=0001-01-01", "since"),
        ("/exports/cases.geojson?until=9999-12-31", "until"),
    ],
)
def test_a_date_outside_the_calendar_is_a_422_naming_it(
    app: Flask, world: Any, path: str, field: str
) -> None:
    response = _as(app, "d1").get(path, headers={"Accept": "application/json"})
    assert response.status_code == 422
    body = response.get_json()
    assert (body["code"], body["field"]) == ("invalid_date", field)


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/?from=0001-01-01&to=9999-12-31",
        "/dashboard/export.csv?from=0001-01-01",
        "/map/cases.geojson?since=0001-01-01&category=1e20",
        "/map/cases.geojson?category=99999999999999999999",
        "/visits/log?since=0001-01-01&worker=99999999999999999999&page=99999999999999999999",
    ],
)
def test_a_filter_out_of_range_is_ignored(app: Flask, world: Any, path: str) -> None:
    manager = _as(app, "mgr")
    assert manager.get(path).status_code == 200


def test_an_unknown_enum_in_the_queue_is_a_422_naming_it(app: Flask, world: Any) -> None:
    dispatcher = _as(app, "d1")
    for query, field in (("view=zzz", "view"), ("status=zzz", "status"), ("q=" + "x" * 200, "q")):
        response = dispatcher.get(f"/cases/?{query}", headers={"Accept": "application/json"})
        assert response.status_code == 422, query
        assert response.get_json()["field"] == field
    page = dispatcher.get("/cases/?view=zzz")
    assert page.status_code == 422 and "html" in page.content_type


def test_open311_dates_at_the_edge_of_the_calendar_are_refused(client: Any, world: Any) -> None:
    for start in ("9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-14:00"):
        response = client.get("/open311/v2/requests.json", query_string={"start_date": start})
        assert response.status_code == 400
        assert response.get_json()[0]["description"]


@pytest.mark.parametrize(
    "raw",
    [
        '[Infinity, 1, "a", "s"]',
        '[1e400, 1, "a", "s"]',
        json.dumps([10**30, 1, "a", "s"]),
        json.dumps([{}, [], {}, []]),
        json.dumps({"a": 1}),
        "[" * 5000 + "]" * 5000,
    ],
)
def test_a_hand_made_pull_cursor_is_refused(
    client: Any, world: Any, token_for: Any, raw: str
) -> None:
    token = token_for(world.users["w1"])
    response = client.get(
        "/api/v1/sync/pull",
        query_string={"cursor": _cursor(raw)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert 400 <= response.status_code < 500 or "reset" in response.get_json()


def test_json_nested_too_deeply_is_a_400(client: Any) -> None:
    response = client.post(
        "/api/v1/auth/token", data="[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert response.status_code in (400, 422)  # unreadable, or read and not an object
    assert response.get_json()["code"] in ("bad_request", "validation_error")


def test_the_readers_bounds(app: Flask) -> None:
    with app.test_request_context("/?n=99999999999999999999&m=12&d=0001-01-01&e=zzz&u=１２"):
        assert params.int_arg("n") is None and params.int_arg("m") == 12
        assert params.int_arg("u", 7) == 7
        assert params.date_arg("d") is None
        assert params.choice_arg("e", ["a", "b"], "a") == "a"
        with pytest.raises(params.InvalidInput) as refused:
            params.int_arg("n", strict=True)
        assert (refused.value.code, refused.value.field) == ("invalid_integer", "n")
        with pytest.raises(params.InvalidInput):
            params.choice_arg("e", ["a", "b"], strict=True)
