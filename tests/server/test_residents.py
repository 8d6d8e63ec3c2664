"""Residents report without signing in, follow the case privately and rate it when closed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from server.cases.models import Case, PhotoLink
from server.enums import CaseStatus, Channel, Placement
from server.evaluation.models import CaseRating
from server.extensions import db
from server.residents.models import ResidentReport
from tests.server.backoffice_world import IN_G1
from tests.server.conftest import login
from tests.server.photo_samples import jpeg

STAMP = re.compile(r'name="form_ts" value="([^"]+)"')


class Texts:
    """A recording SMS double."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))


def form(client: Any, world: Any, **fields: Any) -> dict[str, Any]:
    stamp = STAMP.search(client.get("/report/").get_data(as_text=True)).group(1)
    world.clock.advance(seconds=30)
    data = {
        "form_ts": stamp,
        "client_id": "c0ffee00c0ffee00",
        "catalogue_item_id": str(world.items["A01-01"].id),
        "description": "楼下垃圾堆了三天",
        "lon": str(IN_G1[0]),
        "lat": str(IN_G1[1]),
        "phone": "13912345678",
        "name": "张三",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def send(client: Any, data: dict[str, Any], json: bool = True) -> Any:
    headers = {"Accept": "application/json"} if json else {}
    return client.post("/report/", data=data, headers=headers)


def test_the_report_page_is_chinese_and_lists_the_catalogue(client: Any, world: Any) -> None:
    html = client.get("/report/").get_data(as_text=True)
    assert "报告问题" in html or "反映问题" in html
    assert 'data-initials="shljdj"' in html and 'name="website"' in html
    assert "<script>" not in html.replace("<script src=", "").replace(
        '<script type="module" src=', ""
    )


def test_a_report_is_filed_through_the_one_intake_and_followed_privately(
    client: Any, world: Any
) -> None:
    response = send(client, form(client, world, description="<b>垃圾</b>堆积"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    case = db.session.scalar(select(Case).where(Case.number == body["number"]))
    assert case.channel == Channel.ONLINE and case.placement == Placement.IN
    assert case.assignee_id == world.users["w1"].id and case.caller_phone == "13912345678"
    report = db.session.scalar(select(ResidentReport))
    assert report.phone_verified is False
    token = body["follow_url"].rsplit("/", 1)[1]
    assert len(token) >= 30 and token not in report.follow_sha256
    page = client.get(f"/report/f/{token}").get_data(as_text=True)
    assert body["number"] in page and "&lt;b&gt;垃圾&lt;/b&gt;" in page  # escaped, never markup
    assert "13912345678" not in page and "张三" not in page and "周杰" not in page
    assert client.get("/report/f/not-a-token").status_code == 404


def test_a_resend_of_the_same_submission_files_once(client: Any, world: Any) -> None:
    data = form(client, world)
    first = send(client, data).get_json()
    again = send(client, data)
    assert again.status_code == 201 and again.get_json() == first
    assert len(db.session.scalars(select(Case)).all()) == 1


def test_photos_are_stored_and_linked(client: Any, world: Any) -> None:
    from io import BytesIO

    data = form(client, world)
    data["photos"] = [(BytesIO(jpeg()), "a.jpg")]
    response = client.post(
        "/report/",
        data=data,
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    assert db.session.scalar(select(PhotoLink.purpose)) == "report"


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"website": "http://spam"}, 422, "form"),
        ({"form_ts": "forged"}, 422, "form"),
        ({"description": ""}, 422, "description"),
        ({"description": "x" * 2001}, 422, "description"),
        ({"phone": "12"}, 422, "phone"),
        ({"lat": "nan"}, 422, "lat"),
        ({"lat": "48.85", "lon": "2.35"}, 422, "lat"),
        ({"catalogue_item_id": "99999"}, 404, "catalogue_item_id"),
        ({"client_id": "x"}, 422, "client_id"),
    ],
)
def test_bad_reports_are_refused_and_store_nothing(
    client: Any, world: Any, fields: dict[str, Any], status: int, field: str
) -> None:
    response = send(client, form(client, world, **fields))
    assert response.status_code == status
    assert response.get_json()["field"] == field
    assert db.session.scalar(select(Case.id)) is None


def test_a_form_sent_too_fast_is_refused(client: Any, world: Any) -> None:
    data = form(client, world)
    world.clock.advance(seconds=-29)
    data["form_ts"] = STAMP.search(client.get("/report/").get_data(as_text=True)).group(1)
    assert send(client, data).status_code == 422


def test_reports_per_phone_are_capped_per_day(client: Any, world: Any) -> None:
    statuses = [
        send(client, form(client, world, client_id=f"client-{i:04d}")).status_code for i in range(7)
    ]
    assert statuses == [201] * 5 + [429, 429]


def test_with_an_sms_channel_the_phone_needs_its_code(make_app: Any, world: Any) -> None:
    texts = Texts()
    app = make_app(SMS_SENDER=texts, CLOCK=world.clock)
    client = app.test_client()
    assert send(client, form(client, world)).get_json()["field"] == "phone_code"
    assert client.post("/report/phone-code", data={"phone": "13912345678"}).status_code == 202
    code = re.search(r"(\d{6})", texts.sent[0][1]).group(1)
    response = send(client, form(client, world, phone_code=code))
    assert response.status_code == 201
    assert db.session.scalar(select(ResidentReport.phone_verified)) is True


def test_staff_see_an_online_phone_as_unverified(client: Any, world: Any) -> None:
    number = send(client, form(client, world)).get_json()["number"]
    case = db.session.scalar(select(Case).where(Case.number == number))
    login(client, "d1")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "电话未核实" in page or "phone not verified" in page


def test_a_closed_case_is_rated_once_through_the_existing_rating_flow(
    client: Any, world: Any
) -> None:
    body = send(client, form(client, world)).get_json()
    token = body["follow_url"].rsplit("/", 1)[1]
    case = db.session.scalar(select(Case).where(Case.number == body["number"]))
    rate = client.post(f"/report/f/{token}/rate")
    assert "/report/f/" in rate.headers["Location"]  # not closed yet: back to the page
    case.status = CaseStatus.CLOSED
    db.session.commit()
    assert "评价" in client.get(f"/report/f/{token}").get_data(as_text=True)
    rate = client.post(f"/report/f/{token}/rate")
    location = rate.headers["Location"]
    assert "/rate/" in location
    html = client.get(location).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    done = client.post(location, data={"score": "4", "comment": "快", "csrf_token": csrf})
    assert done.status_code == 200
    assert db.session.scalar(select(CaseRating.score)) == 4
    db.session.refresh(case)
    assert case.status == CaseStatus.EVALUATED


def test_nul_characters_in_lookups_and_forms_are_a_422_not_a_crash(client: Any, world: Any) -> None:
    # server/input_guard.py, for every page; tests/server/test_nul_characters.py has the rest.
    assert client.get("/report/places.json?q=0%00").status_code == 422
    assert client.get("/report/catalogue.json?q=%00").status_code == 422
    refused = send(client, form(client, world, description="a\x00b"))
    assert refused.status_code == 422
    assert refused.get_json()["field"] == "description"
