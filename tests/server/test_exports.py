"""Exports: cases as GeoJSON and CSV by date, callers only for office roles and audited."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select

from server.audit.models import AuditEntry
from server.audit.operations import AccessContext
from server.cases.operations import Intake, create_case
from server.enums import Channel
from server.extensions import db
from tests.server.backoffice_world import IN_G1, T0
from tests.server.conftest import login


def _case(world: Any, description: str = "=HYPERLINK(1)") -> None:
    create_case(
        db.session,
        None,
        Intake(
            channel=Channel.HOTLINE,
            description=description,
            lon=IN_G1[0],
            lat=IN_G1[1],
            caller_name="张三",
            caller_phone="13912345678",
        ),
        at=T0,
        context=AccessContext(None),
        prefix="XH",
    )
    db.session.commit()


def test_managers_export_cases_without_personal_data(client: Any, world: Any) -> None:
    _case(world)
    login(client, "mgr")
    geo = client.get("/exports/cases.geojson?since=2026-11-01&until=2026-11-30&include_caller=1")
    assert geo.status_code == 200 and geo.mimetype == "application/geo+json"
    [feature] = geo.get_json()["features"]
    assert feature["geometry"]["coordinates"] == [IN_G1[0], IN_G1[1]]
    assert "caller_phone" not in feature["properties"] and "13912345678" not in geo.get_data(
        as_text=True
    )
    text = client.get("/exports/cases.csv?since=2026-11-01&until=2026-11-30").data.decode(
        "utf-8-sig"
    )
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["title"].startswith("'=") and "caller_phone" not in row  # no formula injection
    assert (
        client.get("/exports/cases.csv?since=2026-10-01&until=2026-10-31")
        .data.decode("utf-8-sig")
        .count("\n")
        == 1
    )


def test_dispatchers_may_include_callers_and_it_is_audited(client: Any, world: Any) -> None:
    _case(world)
    login(client, "d1")
    text = client.get(
        "/exports/cases.csv?since=2026-11-01&until=2026-11-30&include_caller=1"
    ).data.decode("utf-8-sig")
    assert "13912345678" in text
    assert (
        db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "export"))
        == "export"
    )


def test_workers_and_strangers_get_no_export(client: Any, world: Any) -> None:
    assert client.get("/exports/cases.csv").status_code in (302, 401)
    login(client, "w1")
    assert client.get("/exports/cases.csv").status_code == 403
    assert client.get("/exports/").status_code == 403


def test_the_export_page_links_the_published_grid(client: Any, world: Any) -> None:
    login(client, "admin")
    html = client.get("/exports/").get_data(as_text=True)
    assert "/api/v1/grids/" in html and "/export?datum=wgs84" in html
    assert client.get("/exports/cases.csv?since=bad").status_code == 422
