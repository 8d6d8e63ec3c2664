"""The declaration covers every column of every table, and says what the issue asked it to."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from server.cases.models import Case
from server.catalogue.models import CatalogueItem
from server.enums import CaseStatus, Channel, Disclosure
from server.privacy.classes import (
    READS,
    ROLE_AUDIENCE,
    Audience,
    DataClass,
    audience_for_role,
    export_audience,
)
from server.privacy.declaration import (
    CASE_EXTRAS,
    COARSE,
    TABLES,
    ByDisclosure,
    case_rule,
    class_of,
    default_disclosure,
    disclosure_allowed,
)
from server.privacy.render import building_address, render_case, scrub
from server.units.models import Unit
from sync.db import metadata

PRIVATE_KINDS = {DataClass.PERSONAL, DataClass.SENSITIVE, DataClass.CONTACT, DataClass.SECRET}

#: What the issue names as personal, written out here independently of the declaration:
#: none of it may ever be public, whatever the case's disclosure.
NEVER_PUBLIC = [
    ("cases", "caller_name"),
    ("cases", "caller_phone"),
    ("households", "address"),
    ("households", "room"),
    ("households", "notes"),
    ("residents", "name"),
    ("residents", "phone"),
    ("residents", "birth_year"),
    ("residents", "notes"),
    ("resident_tags", "tag_code"),
    ("visits", "situation"),
    ("visits", "needs"),
    ("visits", "follow_up"),
    ("visits", "residents_seen"),
    ("bookings", "name"),
    ("bookings", "phone"),
    ("phone_codes", "phone"),
    ("photos", "exif"),
    ("open311_requests", "account_id"),
    ("sync_mutations", "args"),
]


def _classes(rule: Any) -> set[DataClass]:
    return {rule.of(d) for d in Disclosure} if isinstance(rule, ByDisclosure) else {rule}


def test_every_table_and_column_has_a_declared_class() -> None:
    import server.models  # noqa: F401  (every model registered on the metadata)

    assert set(TABLES) == set(metadata.tables), "declare new tables in server/privacy/"
    for name, table in metadata.tables.items():
        declared = TABLES[name]
        unknown = set(declared.columns) - {c.name for c in table.columns}
        assert not unknown, f"{name}: declared columns that do not exist: {unknown}"
        for column in table.columns:
            declared.rule(column.name)  # raises for a column with no class


def test_tables_holding_personal_data_list_every_column_themselves() -> None:
    """No default there: a column added to `residents` needs its own line, not a guess."""
    import server.models  # noqa: F401

    for name, declared in TABLES.items():
        kinds = set().union(*(_classes(r) for r in declared.columns.values()))
        if kinds & (PRIVATE_KINDS - {DataClass.SECRET}):
            assert declared.default is None, name
            assert set(declared.columns) == {c.name for c in metadata.tables[name].columns}


@pytest.mark.parametrize(("table", "column"), NEVER_PUBLIC)
def test_what_the_issue_names_as_personal_is_never_public(table: str, column: str) -> None:
    assert DataClass.PUBLIC not in _classes(TABLES[table].rule(column))


def test_a_private_case_shows_nothing_in_public_but_its_number_state_and_times() -> None:
    public = {
        name
        for name in (*TABLES["cases"].columns, *CASE_EXTRAS)
        if class_of(case_rule(name), Disclosure.PRIVATE) is DataClass.PUBLIC
    }
    assert public == {
        "number",
        "status",
        "reported_at",
        "opened_at",
        "dispatched_at",
        "due_at",
        "handled_at",
        "closed_at",
        "merged",
    }
    assert all(rule.of(Disclosure.PRIVATE) is not DataClass.PUBLIC for rule in COARSE.values())


def test_a_listed_case_shows_kind_state_and_rough_place_but_no_text() -> None:
    listed = {
        name
        for name in (*TABLES["cases"].columns, *CASE_EXTRAS)
        if class_of(case_rule(name), Disclosure.LISTED) is DataClass.PUBLIC
    }
    assert {"service_code", "service_name", "agency", "status"} <= listed
    assert not {"title", "description", "address", "lon", "lat", "reported_text"} & listed
    assert {"address", "lon", "lat"} == {
        n for n, r in COARSE.items() if r.listed is DataClass.PUBLIC
    }


def test_roles_read_what_their_work_needs() -> None:
    assert audience_for_role(None) is Audience.PUBLIC
    assert not READS[Audience.STAFF] & PRIVATE_KINDS  # GIS staff
    assert DataClass.CONTACT not in READS[ROLE_AUDIENCE["worker"]]  # workers never callers
    assert all(DataClass.SECRET not in classes for classes in READS.values())
    assert export_audience("manager", personal=True) is Audience.STAFF
    assert export_audience("dispatcher", personal=False) is Audience.STAFF
    assert export_audience("dispatcher", personal=True) is Audience.OFFICE


@pytest.mark.parametrize(
    ("channel", "disclosure"),
    [("visit", "private"), ("online", "listed"), ("patrol", "listed"), ("open311", "public")],
)
def test_new_cases_get_their_channels_disclosure(channel: str, disclosure: str) -> None:
    assert default_disclosure(channel) == Disclosure(disclosure)


def test_a_visits_text_is_never_made_public() -> None:
    assert not disclosure_allowed(Disclosure.PUBLIC, from_visit=True)
    assert disclosure_allowed(Disclosure.LISTED, from_visit=True)
    assert disclosure_allowed(Disclosure.PUBLIC, from_visit=False)


@pytest.mark.parametrize(
    ("address", "building"),
    [
        ("新华路329弄5号302室", "新华路329弄5号"),
        ("上海市长宁区新华路329弄5号302室", "上海市长宁区新华路329弄5号"),
        ("番禺路100号3楼", "番禺路100号"),
        ("新华路 1 号", "新华路1号"),
        ("新华路329弄弄口", "新华路329弄"),
        ("延安西路", "延安西路"),
        ("张阿姨家门口", None),
        ("王阿姨住在新华路329弄", None),
        ("Room 302", None),
        ("", None),
    ],
)
def test_a_public_address_is_the_building_at_most(address: str, building: str | None) -> None:
    assert building_address(address) == building


@pytest.mark.parametrize(
    "text",
    ["电话13912345678", "电话 139 1234 5678", "身份证 31010519380101123X", "021-6200-1234"],
)
def test_numbers_in_public_text_are_hidden(text: str) -> None:
    assert not any(ch.isdigit() for ch in scrub(text))


def _case(disclosure: Disclosure, **fields: Any) -> Case:
    case = Case(
        id=uuid.uuid4(),
        number="XH-20261126-0001",
        channel=Channel.ONLINE,
        disclosure=disclosure,
        status=CaseStatus.DISPATCHED,
        title="楼道灯不亮",
        description="5号302室楼道灯不亮,电话13912345678",
        address="新华路329弄5号302室",
        lon=121.4234567,
        lat=31.2076543,
        caller_name="张三",
        caller_phone="13912345678",
        reported_at=dt.datetime(2026, 11, 26, 2, tzinfo=dt.UTC),
        **fields,
    )
    case.catalogue_item = CatalogueItem(code="A01-01", name_zh="生活垃圾堆积", name_en="Rubbish")
    case.unit = Unit(code="U", name_zh="城管中队", name_en="Patrol unit")
    return case


def test_the_public_reads_a_listed_case_without_text_place_or_caller() -> None:
    view = render_case(_case(Disclosure.LISTED), Audience.PUBLIC)
    assert view["service_name"] == "生活垃圾堆积" and view["agency"] == "城管中队"
    assert view["address"] == "新华路329弄5号" and (view["lon"], view["lat"]) == (121.423, 31.208)
    assert "description" not in view and "title" not in view
    assert "302" not in str(view) and "13912345678" not in str(view) and "张三" not in str(view)


def test_the_public_reads_a_public_cases_text_with_numbers_hidden() -> None:
    view = render_case(_case(Disclosure.PUBLIC), Audience.PUBLIC)
    assert view["description"] == "5号302室楼道灯不亮,电话***"


def test_the_public_reads_nothing_of_a_private_case_but_its_number_and_state() -> None:
    view = render_case(_case(Disclosure.PRIVATE), Audience.PUBLIC)
    assert set(view) <= {"number", "status", "reported_at", "opened_at", "dispatched_at"} | {
        "due_at",
        "handled_at",
        "closed_at",
        "merged",
    }


def test_the_reporter_reads_their_own_words_and_place_but_no_caller() -> None:
    view = render_case(
        _case(Disclosure.PRIVATE), Audience.REPORTER, own=True, extra={"reported_text": "我说的"}
    )
    assert view["reported_text"] == "我说的" and view["address"] == "新华路329弄5号302室"
    assert "caller_name" not in view and "caller_phone" not in view


def test_staff_without_personal_rights_read_a_private_cases_building_not_its_door() -> None:
    view = render_case(_case(Disclosure.PRIVATE), Audience.STAFF)
    assert view["address"] == "新华路329弄5号" and view["lon"] == 121.423
    assert "title" not in view and "description" not in view and "caller_name" not in view
    office = render_case(_case(Disclosure.PRIVATE), Audience.OFFICE)
    assert office["caller_phone"] == "13912345678" and office["title"] == "楼道灯不亮"
    assert office["description"].endswith("13912345678")  # staff read it unscrubbed
