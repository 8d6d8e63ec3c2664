"""Open311 over real HTTP: the `georeport` client reads, plain HTTP writes (POST, id, GET)."""

from __future__ import annotations

from typing import Any

import requests
from georeport import GeoReport

from server.extensions import db
from server.open311.operations import create_partner
from tests.server.backoffice_world import IN_G1, T0
from tests.server.open311_helpers import validate


def test_round_trip_with_plain_http_and_the_georeport_client(world: Any, live_server: Any) -> None:
    _, key = create_partner(db.session, "12345 platform", at=T0)
    db.session.commit()
    root = f"{live_server.url}/open311/v2"
    created = requests.post(
        f"{root}/requests.json",
        data={
            "api_key": key,
            "service_code": "A05-01",
            "lat": str(IN_G1[1]),
            "long": str(IN_G1[0]),
            "description": "新华路329弄口电线破损裸露,明天有大雨",
        },
        timeout=10,
    )
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"] == "application/json; charset=utf-8"
    number = created.json()[0]["service_request_id"]

    for fmt in ("json", "xml"):
        client = GeoReport(root, output_format=fmt)
        services = client.get_service_list()
        assert "A05-01" in {s["service_code"] for s in services}
        one = client.get_service_request(number)
        assert one["service_request_id"] == number and one["status"] == "open"
        listed = client.get_service_requests(service_code="A05-01", status="open")
        listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one → a dict
        assert [r["service_request_id"] for r in listed] == [number]
    validate("services.json", GeoReport(root).get_service_list())
    validate("request.json", GeoReport(root).get_service_request(number))
