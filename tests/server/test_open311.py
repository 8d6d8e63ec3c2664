"""Open311 GeoReport v2: every JSON body against the community schemas, XML shapes, errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.cases.models import Case
from server.enums import Channel, Placement
from server.extensions import db
from server.open311.encoding import JSON_TYPE, XML_TYPE
from server.open311.models import Open311Request
from server.open311.operations import create_partner, revoke_partner
from tests.server.backoffice_world import IN_G1, T0
from tests.server.open311_helpers import validate, xml_root

ROOT = "/open311/v2"
QUESTIONS = [
    {
        "code": "floor",
        "datatype": "string",
        "required": False,
        "description_zh": "楼层",
        "description_en": "Floor",
    },
    {
        "code": "people",
        "datatype": "number",
        "required": True,
        "description_zh": "人数",
        "description_en": "People",
    },
    {
        "code": "water",
        "datatype": "singlevaluelist",
        "required": False,
        "description_zh": "积水",
        "description_en": "Water",
        "values": [
            {"key": "standing", "name_zh": "有积水", "name_en": "Standing"},
            {"key": "dry", "name_zh": "干燥", "name_en": "Dry"},
        ],
    },
    {
        "code": "kinds",
        "datatype": "multivaluelist",
        "required": False,
        "description_zh": "种类",
        "description_en": "Kinds",
        "values": [
            {"key": "a", "name_zh": "甲", "name_en": "A"},
            {"key": "b", "name_zh": "乙", "name_en": "B"},
        ],
    },
    {
        "code": "seen",
        "datatype": "datetime",
        "required": False,
        "description_zh": "发现时间",
        "description_en": "Seen at",
    },
    {
        "code": "more",
        "datatype": "text",
        "required": False,
        "description_zh": "补充",
        "description_en": "More",
    },
]


@pytest.fixture
def partner_key(world: Any) -> str:
    world.items["A05-01"].questions = QUESTIONS
    _, key = create_partner(db.session, "12345 platform", at=T0)
    db.session.commit()
    return key


def post(client: Any, key: str, fmt: str = "json", **fields: Any) -> Any:
    data = {"api_key": key, "service_code": "A01-01", "lat": IN_G1[1], "long": IN_G1[0]}
    data.update(fields)
    return client.post(
        f"{ROOT}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None}
    )


def test_discovery_in_both_formats(client: Any, world: Any) -> None:
    body = client.get(f"{ROOT}/discovery.json")
    assert body.status_code == 200 and body.content_type == JSON_TYPE
    endpoint = body.get_json()["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2") and "application/json" in endpoint["formats"]
    xml = client.get(f"{ROOT}/discovery.xml")
    assert xml.content_type == XML_TYPE
    root = xml_root(xml.data, "discovery")
    assert root.find("endpoints/endpoint/formats/format") is not None


def test_services_list_the_catalogue_with_string_codes_and_groups(
    client: Any, partner_key: str
) -> None:
    body = client.get(f"{ROOT}/services.json").get_json()
    validate("services.json", body)
    by_code = {s["service_code"]: s for s in body}
    assert by_code["A05-01"]["metadata"] is True and by_code["A01-01"]["metadata"] is False
    assert (
        by_code["A05-01"]["group"] == "市政与公用设施" and by_code["A05-01"]["type"] == "realtime"
    )
    root = xml_root(client.get(f"{ROOT}/services.xml").data, "services")
    assert {s.findtext("service_code") for s in root.findall("service")} == set(by_code)
    assert root.find("service/metadata").text in ("true", "false")


def test_service_definition_lists_questions_in_order_with_values(
    client: Any, partner_key: str
) -> None:
    body = client.get(f"{ROOT}/services/A05-01.json?lang=en").get_json()
    validate("service-definition.json", body)
    assert [a["order"] for a in body["attributes"]] == [1, 2, 3, 4, 5, 6]
    water = body["attributes"][2]
    assert water["datatype"] == "singlevaluelist"
    assert water["values"] == [
        {"key": "standing", "name": "Standing"},
        {"key": "dry", "name": "Dry"},
    ]
    root = xml_root(client.get(f"{ROOT}/services/A05-01.xml").data, "service_definition")
    assert root.findtext("service_code") == "A05-01"
    assert len(root.findall("attributes/attribute")) == 6
    assert root.find("attributes/attribute/variable").text == "true"


def test_unknown_service_is_a_404_error_array(client: Any, world: Any) -> None:
    response = client.get(f"{ROOT}/services/NOPE.json")
    assert response.status_code == 404
    [error] = response.get_json()
    assert error["code"] == 404 and "service_code" in error["description"]
    xml = client.get(f"{ROOT}/services/NOPE.xml")
    assert xml_root(xml.data, "errors").find("error/code").text == "404"


def test_a_filed_request_enters_the_one_intake_located_and_assigned(
    client: Any, partner_key: str, world: Any
) -> None:
    response = post(
        client,
        partner_key,
        description="<b>路灯</b>不亮\x01了",
        phone="139 1234 5678",
        first_name="三",
        last_name="张",
    )
    assert response.status_code == 201, response.get_json()
    [row] = response.get_json()
    case = db.session.scalar(select(Case).where(Case.number == row["service_request_id"]))
    assert case.channel == Channel.OPEN311 and case.placement == Placement.IN
    assert case.cell_code == "G1" and case.assignee_id == world.users["w1"].id
    assert case.description == "路灯不亮了"  # no HTML, no control characters
    assert case.caller_phone == "13912345678" and case.caller_name == "张 三"
    assert (
        db.session.scalar(
            select(AuditEntry.subject_type).where(AuditEntry.subject_id == str(case.id))
        )
        == "case_caller"
    )
    one = client.get(f"{ROOT}/requests/{row['service_request_id']}.json").get_json()
    validate("requests.json", one)
    assert one[0]["status"] == "open" and one[0]["service_code"] == "A01-01"
    assert one[0]["requested_datetime"].endswith("+08:00")
    assert "13912345678" not in str(one)


def test_attributes_are_checked_against_the_definition(client: Any, partner_key: str) -> None:
    ok = {
        "service_code": "A05-01",
        "attribute[people]": "2",
        "attribute[water]": "standing",
        "attribute[kinds][]": ["a", "b"],
        "attribute[seen]": "2026-11-26T09:00:00+08:00",
    }
    response = post(partner_key and client, partner_key, **ok)
    assert response.status_code == 201, response.get_json()
    saved = db.session.scalar(select(Open311Request))
    assert saved.attributes == {
        "people": 2,
        "water": "standing",
        "kinds": ["a", "b"],
        "seen": "2026-11-26T01:00:00+00:00",
    }
    for bad in (
        {"attribute[people]": "x"},
        {"attribute[people]": "nan"},
        {"attribute[people]": "2", "attribute[water]": "flood"},
        {"attribute[people]": "2", "attribute[kinds][]": ["a", "z"]},
        {"attribute[people]": "2", "attribute[nope]": "1"},
        {},  # people is required
    ):
        response = post(client, partner_key, service_code="A05-01", **bad)
        assert response.status_code == 400, bad
        assert response.get_json()[0]["code"] == 400


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "w311_wrong"}, 403, "api_key"),
        ({"service_code": "ZZ"}, 404, "service_code"),
        ({"service_code": ""}, 400, "service_code"),
        ({"lat": "91"}, 400, "lat"),
        ({"long": "inf"}, 400, "long"),
        ({"lat": None, "long": None}, 400, "lat"),
        ({"lat": None, "long": None, "address_id": "42"}, 400, "address_id"),
        ({"lat": "48.85", "long": "2.35"}, 400, "lat"),  # Paris: not ours
        ({"description": "x" * 4001}, 400, "description"),
        ({"phone": "call me"}, 400, "phone"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"colour": "red"}, 400, "colour"),
        ({"jurisdiction_id": "sfgov.org"}, 404, "jurisdiction_id"),
    ],
)
def test_bad_posts_get_clear_errors_and_store_nothing(
    client: Any, partner_key: str, fields: dict[str, Any], status: int, field: str
) -> None:
    response = post(client, partner_key, **fields)
    assert response.status_code == status
    [error] = response.get_json()
    assert error["description"].startswith(field)
    assert db.session.scalar(select(Case.id)) is None


def test_repeated_keys_are_refused(client: Any, partner_key: str) -> None:
    response = client.post(
        f"{ROOT}/requests.json",
        data={
            "api_key": partner_key,
            "service_code": ["A01-01", "A05-01"],
            "lat": IN_G1[1],
            "long": IN_G1[0],
        },
    )
    assert response.status_code == 400


def test_a_revoked_key_is_refused(client: Any, partner_key: str) -> None:
    revoke_partner(db.session, "12345 platform", at=T0)
    db.session.commit()
    assert post(client, partner_key).status_code == 403


def test_address_string_is_matched_or_filed_unlocated(client: Any, partner_key: str) -> None:
    response = post(client, partner_key, lat=None, long=None, address_string="某路999号")
    [row] = response.get_json()
    case = db.session.scalar(select(Case).where(Case.number == row["service_request_id"]))
    assert case.placement == Placement.UNLOCATED and case.address == "某路999号"


def test_xml_post_and_deferred_tokens(make_app: Any, world: Any) -> None:
    app = make_app(OPEN311_DEFERRED_TOKENS=True, CLOCK=world.clock)
    client = app.test_client()
    _, key = create_partner(db.session, "fms", at=T0)
    db.session.commit()
    response = post(client, key, fmt="xml")
    assert response.status_code == 201 and response.content_type == XML_TYPE
    token = xml_root(response.data, "service_requests").findtext("request/token")
    resolved = client.get(f"{ROOT}/tokens/{token}.json").get_json()
    assert resolved[0]["token"] == token and resolved[0]["service_request_id"].startswith("XH-")
    assert client.get(f"{ROOT}/tokens/nope.json").status_code == 404


def test_get_requests_filters_and_caps(client: Any, partner_key: str, world: Any) -> None:
    first = post(client, partner_key).get_json()[0]["service_request_id"]
    world.clock.advance(days=10)
    second = post(client, partner_key, service_code="A01-09").get_json()[0]["service_request_id"]
    every = client.get(f"{ROOT}/requests.json").get_json()
    validate("requests.json", every)
    assert [r["service_request_id"] for r in every] == [second, first]
    assert [
        r["service_request_id"]
        for r in client.get(f"{ROOT}/requests.json?service_code=A01-09").get_json()
    ] == [second]
    assert client.get(f"{ROOT}/requests.json?status=closed").get_json() == []
    start = (T0 + dt.timedelta(days=5)).isoformat()
    assert [
        r["service_request_id"]
        for r in client.get(f"{ROOT}/requests.json", query_string={"start_date": start}).get_json()
    ] == [second]
    # ids override every other filter
    by_id = client.get(
        f"{ROOT}/requests.json",
        query_string={"service_request_id": f"{first},x", "status": "closed"},
    ).get_json()
    assert [r["service_request_id"] for r in by_id] == [first]
    paged = client.get(f"{ROOT}/requests.json?page=2&page_size=1").get_json()
    assert [r["service_request_id"] for r in paged] == [first]
    root = xml_root(client.get(f"{ROOT}/requests.xml").data, "service_requests")
    assert len(root.findall("request")) == 2
    too_long = client.get(
        f"{ROOT}/requests.json",
        query_string={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    )
    assert too_long.status_code == 400
    for bad in ("status=pending", "page_size=1001", "page=0", "start_date=yesterday"):
        assert client.get(f"{ROOT}/requests.json?{bad}").status_code == 400, bad


def test_old_requests_fall_outside_the_default_90_days(
    client: Any, partner_key: str, world: Any
) -> None:
    post(client, partner_key)
    world.clock.advance(days=91)
    assert client.get(f"{ROOT}/requests.json").get_json() == []


def test_closed_states_map_to_closed_with_notes(client: Any, partner_key: str) -> None:
    number = post(client, partner_key).get_json()[0]["service_request_id"]
    case = db.session.scalar(select(Case).where(Case.number == number))
    from server.enums import CaseStatus

    case.status = CaseStatus.CANCELLED
    db.session.commit()
    [row] = client.get(f"{ROOT}/requests/{number}.json?lang=en").get_json()
    assert row["status"] == "closed" and row["status_notes"] == "Cancelled"


def test_cases_of_private_channels_are_not_served(client: Any, partner_key: str) -> None:
    number = post(client, partner_key).get_json()[0]["service_request_id"]
    case = db.session.scalar(select(Case).where(Case.number == number))
    case.channel = Channel.VISIT
    db.session.commit()
    assert client.get(f"{ROOT}/requests/{number}.json").status_code == 404
    assert client.get(f"{ROOT}/requests.json").get_json() == []


def test_unknown_paths_methods_and_big_bodies_answer_as_error_arrays(
    client: Any, partner_key: str
) -> None:
    assert client.get(f"{ROOT}/nothing.json").status_code == 404
    assert client.post(f"{ROOT}/services.json").status_code == 400
    big = client.post(
        f"{ROOT}/requests.json", data={"api_key": partner_key, "description": "x" * 70_000}
    )
    assert big.status_code == 400 and big.get_json()[0]["code"] == 413


def test_nul_characters_are_refused_with_400_on_every_backend(
    client: Any, partner_key: str
) -> None:
    assert post(client, partner_key, description="a\x00b").status_code == 400
    assert client.get(f"{ROOT}/requests/XH\x00.json").status_code in (400, 404)
    assert client.get(f"{ROOT}/services.json?jurisdiction_id=%00").status_code == 400
