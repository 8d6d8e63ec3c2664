"""The standard-address layer serves the desk's and the residents' address search, and a
typed known address places a matter without picking from a list."""

from __future__ import annotations

import datetime as dt

import pytest

from server.addresses.search import place_of, places
from server.audit.operations import AccessContext
from server.cases import lookups
from server.cases.operations import Intake, create_case
from server.enums import Channel, Placement
from server.extensions import db

AT = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "typed",
    [
        "新华路329弄12号",
        "新华路３２９弄１２号",
        "上海市长宁区新华路329弄12号302室",
        "新华路329弄12幢",
        "新华路三二九弄十二号",
        "新华329弄12号",
    ],
)
def test_every_spelling_of_a_known_door_finds_it(office, typed):
    door = place_of(db.session, typed)
    assert door is not None and door.code == "A1" and door.cell_code == "R1-B1-G1"


@pytest.mark.parametrize("typed", ["新华路329弄", "新华路329弄99号", "不详", "", "番禺路"])
def test_an_address_that_names_no_single_door_places_nothing(office, typed):
    assert place_of(db.session, typed) is None


def test_suggestions_put_the_named_door_first(office):
    found = places(db.session, "新华路329弄14号", limit=5)
    assert found[0]["address"] == "新华路329弄14号" and found[0]["cell_code"] == "R1-B1-G2"
    lane = lookups.places(db.session, "329弄", limit=12)
    assert {p["address"] for p in lane} == {"新华路329弄12号", "新华路329弄14号"}


def test_a_desk_case_with_a_known_address_is_placed_in_its_building_group(office):
    case = create_case(
        db.session,
        None,
        Intake(channel=Channel.HOTLINE, description="楼道灯坏了", address="新华路329弄14号3楼"),
        at=AT,
        context=AccessContext(None),
        prefix="XH",
    )
    assert case.placement == Placement.IN and case.cell_code == "R1-B1-G2"
    assert case.address == "新华路329弄14号3楼"


def test_a_desk_case_with_an_unknown_address_waits_to_be_placed(office):
    case = create_case(
        db.session,
        None,
        Intake(channel=Channel.HOTLINE, description="噪音扰民", address="某某小区"),
        at=AT,
        context=AccessContext(None),
        prefix="XH",
    )
    assert case.placement == Placement.UNLOCATED and case.cell_code is None


def test_the_residents_report_page_searches_the_same_doors(office, client):
    answer = client.get("/report/places.json", query_string={"q": "番禺路100"})
    assert answer.status_code == 200
    assert answer.get_json()[0]["address"] == "番禺路100号"
