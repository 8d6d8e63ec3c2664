"""What the public sees of a case: a household visit's case never; residents choose; the
centre decides later (audited); public answers carry the building, never the door."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.cases.models import Case, CaseEvent
from server.enums import Channel, Disclosure
from server.extensions import db
from server.population.models import Household
from sync.db import utcnow
from sync.versions import next_version
from tests.server.backoffice_world import IN_G1, form_token
from tests.server.conftest import PASSWORD, login
from tests.server.privacy_seed import STAMP, push
from tests.server.test_migration_chain import old_case, old_user

OPEN311 = "/open311/v2/requests"


#: Room 302 of building 5, lane 329 Xinhua Road, in cell G1.
ROOM_302 = {
    "address": "新华路329弄5号302室",
    "road": "新华路",
    "lane": "329",
    "building": "5",
    "room": "302",
    "cell_code": "G1",
}


@pytest.fixture
def household(world: Any) -> Household:
    row = Household(**ROOM_302, lon=IN_G1[0], lat=IN_G1[1], version=next_version(db.session))
    db.session.add(row)
    db.session.commit()
    return row


def _visit_with_case(household: Household, *, send_visit_id: bool) -> list[dict[str, Any]]:
    """What the worker app's visit form queues for "发现问题,转为案件"."""
    visit_id, case_id = str(uuid.uuid4()), str(uuid.uuid4())
    report = {
        "id": case_id,
        "title": "5-302 走访发现问题",
        "description": "独居老人王阿婆腿摔伤,行动不便",
        "address": household.address,
        "priority": "normal",
        "lon": IN_G1[0],
        "lat": IN_G1[1],
    }
    if send_visit_id:
        report["visit_id"] = visit_id
    visit = {"id": visit_id, "household_id": str(household.id), "case_id": case_id}
    return [{"name": "case.report", "args": report}, {"name": "visit.create", "args": visit}]


def _open311_everything(client: Any) -> str:
    return client.get(f"{OPEN311}.json", query_string={"status": "open,closed"}).get_data(
        as_text=True
    )


def test_a_case_found_on_a_household_visit_is_filed_private_and_not_served(
    client: Any, world: Any, household: Household
) -> None:
    world.clock.now = utcnow() + dt.timedelta(minutes=5)  # pushes carry the real time
    results = push(client, "w1", _visit_with_case(household, send_visit_id=True))
    case = db.session.scalar(select(Case).where(Case.number == results[0]["result"]["number"]))
    assert case.channel == Channel.VISIT and case.disclosure == Disclosure.PRIVATE
    body = _open311_everything(client)
    assert case.number not in body and "王阿婆" not in body and "302" not in body
    assert client.get(f"/open311/v2/requests/{case.number}.json").status_code == 404


def test_a_visit_naming_a_patrol_report_takes_it_out_of_public_view(
    client: Any, world: Any, household: Household
) -> None:
    """Phones that still run the older app file the case as a patrol report."""
    world.clock.now = utcnow() + dt.timedelta(minutes=5)  # pushes carry the real time
    mutations = _visit_with_case(household, send_visit_id=False)
    push(client, "w1", mutations[:1])
    case_id = uuid.UUID(mutations[0]["args"]["id"])
    case = db.session.get(Case, case_id)
    assert case.channel == Channel.PATROL and case.number in _open311_everything(client)
    push(client, "w1", mutations[1:])
    db.session.refresh(case)
    assert case.disclosure == Disclosure.PRIVATE
    assert case.number not in _open311_everything(client)
    event = db.session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "disclosure")
    )
    assert event.data == {
        "from": "listed",
        "to": "private",
        "visit_id": mutations[1]["args"]["id"],
    }


def _report(client: Any, world: Any, **fields: Any) -> Any:
    stamp = STAMP.search(client.get("/report/").get_data(as_text=True)).group(1)
    world.clock.advance(seconds=30)
    data = {
        "form_ts": stamp,
        "client_id": uuid.uuid4().hex,
        "catalogue_item_id": str(world.items["A01-01"].id),
        "description": "楼下垃圾堆了三天,我家302室,电话13912345678",
        "address": "新华路329弄5号302室",
        "lon": str(IN_G1[0]),
        "lat": str(IN_G1[1]),
        "phone": "13912345678",
        "name": "张三",
        **fields,
    }
    return client.post("/report/", data=data, headers={"Accept": "application/json"})


@pytest.mark.parametrize(
    ("choice", "stored"),
    [(None, "listed"), ("listed", "listed"), ("public", "public"), ("private", "private")],
)
def test_residents_choose_who_sees_their_report(
    client: Any, world: Any, choice: str | None, stored: str
) -> None:
    answer = _report(client, world, **({"disclosure": choice} if choice else {}))
    assert answer.status_code == 201, answer.get_json()
    number = answer.get_json()["number"]
    assert db.session.scalar(select(Case.disclosure).where(Case.number == number)) == stored
    rows = client.get(f"{OPEN311}.json").get_json()
    served = [r for r in rows if r["service_request_id"] == number]
    if stored == "private":
        assert served == []
        return
    [row] = served
    assert row["address"] == "新华路329弄5号" and (row["lat"], row["long"]) == (
        round(IN_G1[1], 3),
        round(IN_G1[0], 3),
    )
    assert row["service_name"] == "生活垃圾堆积"
    if stored == "public":
        assert row["description"] == "楼下垃圾堆了三天,我家302室,电话***"
    else:
        assert row["description"] is None
    assert "13912345678" not in str(rows) and "张三" not in str(rows)


def test_an_unknown_choice_is_refused_and_nothing_is_filed(client: Any, world: Any) -> None:
    answer = _report(client, world, disclosure="everyone")
    assert answer.status_code == 422 and answer.get_json()["field"] == "disclosure"
    assert db.session.scalar(select(Case.id)) is None


def test_the_follow_page_shows_the_residents_own_words_not_later_edits(
    client: Any, world: Any
) -> None:
    answer = _report(client, world, disclosure="private")
    follow = answer.get_json()["follow_url"]
    case = db.session.scalar(select(Case))
    case.description = "工作人员补充:住户张三,腿脚不便"
    db.session.commit()
    page = client.get(follow).get_data(as_text=True)
    assert "楼下垃圾堆了三天,我家302室" in page and "工作人员补充" not in page
    assert "不公开" in page and "张三" not in page and "13912345678" not in page


def _dispatcher_sets(client: Any, case: Case, disclosure: str) -> Any:
    return client.post(
        f"/cases/{case.id}/disclosure",
        data={"disclosure": disclosure, "csrf_token": form_token(client, "/cases/")},
    )


def test_the_centre_withdraws_a_public_report_and_it_is_audited(client: Any, world: Any) -> None:
    number = _report(client, world, disclosure="public").get_json()["number"]
    case = db.session.scalar(select(Case).where(Case.number == number))
    login(client, "d1")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "公开(含描述)" in page and 'name="disclosure"' in page
    assert _dispatcher_sets(client, case, "private").status_code == 303
    db.session.refresh(case)
    assert case.disclosure == Disclosure.PRIVATE
    assert number not in _open311_everything(client)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "disclosure"))
    assert entry.actor_id == world.users["d1"].id and entry.detail == {
        "from": "public",
        "to": "private",
    }
    assert db.session.scalar(select(CaseEvent.kind).where(CaseEvent.kind == "disclosure"))


@pytest.mark.parametrize("user", ["w1", "mgr"])
def test_only_the_centre_changes_what_the_public_sees(client: Any, world: Any, user: str) -> None:
    number = _report(client, world).get_json()["number"]
    case = db.session.scalar(select(Case).where(Case.number == number))
    login(client, user)
    assert _dispatcher_sets(client, case, "public").status_code == 403
    db.session.refresh(case)
    assert case.disclosure == Disclosure.LISTED


def test_a_visits_case_may_be_listed_by_the_centre_but_never_with_its_text(
    app: Any, client: Any, world: Any, household: Household
) -> None:
    world.clock.now = utcnow() + dt.timedelta(minutes=5)  # pushes carry the real time
    results = push(client, "w1", _visit_with_case(household, send_visit_id=True))
    case = db.session.scalar(select(Case).where(Case.number == results[0]["result"]["number"]))
    login(client, "d1")
    assert _dispatcher_sets(client, case, "public").status_code == 422
    db.session.refresh(case)
    assert case.disclosure == Disclosure.PRIVATE
    assert _dispatcher_sets(client, case, "listed").status_code == 303
    app.config["OPEN311_PUBLIC_CHANNELS"] = [c.value for c in Channel]  # by default not served
    [row] = client.get(f"/open311/v2/requests/{case.number}.json").get_json()
    assert row["description"] is None and row["address"] == "新华路329弄5号"


def test_intake_refuses_a_public_visit_case(client: Any, world: Any) -> None:
    login(client, "d1")
    answer = client.post(
        "/cases/new",
        data={
            "csrf_token": form_token(client, "/cases/new"),
            "channel": "visit",
            "disclosure": "public",
            "description": "走访发现",
        },
    )
    assert answer.status_code == 422 and db.session.scalar(select(Case.id)) is None


def test_the_address_lookup_never_confirms_a_room(client: Any, household: Household) -> None:
    assert [p["address"] for p in client.get("/report/places.json?q=新华路329弄").get_json()] == [
        "新华路329弄5号"
    ]
    for probe in ("5号302室", "302室", "新华路329弄5号302"):
        assert client.get("/report/places.json", query_string={"q": probe}).get_json() == []


def test_gis_staff_see_a_private_case_as_a_stand_in_near_its_building(
    client: Any, world: Any, household: Household, make_user: Any
) -> None:
    world.clock.now = utcnow() + dt.timedelta(minutes=5)  # pushes carry the real time
    push(client, "w1", _visit_with_case(household, send_visit_id=True))
    make_user("gis", username="gis1")
    login(client, "gis1", PASSWORD)
    [feature] = client.get("/map/cases.geojson?status=all").get_json()["features"]
    assert feature["properties"]["title"] == "涉及住户的事项(不显示)"
    assert feature["geometry"]["coordinates"] == [round(IN_G1[0], 3), round(IN_G1[1], 3)]
    card = client.get("/map/cells/G1").get_json()
    assert [c["title"] for c in card["open_cases"]] == ["涉及住户的事项(不显示)"]


def test_the_migration_takes_existing_visit_cases_out_of_public_view(app: Any) -> None:
    """Rows written before 0010: visit cases and cases a visit names become private, partner
    requests stay public, the rest listed (residents were never told their text is public)."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    db.session.remove()
    downgrade(revision="0009")
    engine = db.engine
    meta = sa.MetaData()
    meta.reflect(bind=engine, only=["users", "cases", "households", "visits"])
    native = engine.dialect.name == "postgresql"
    at = utcnow() if native else utcnow().replace(tzinfo=None)

    def key(value: uuid.UUID) -> Any:
        return value if native else value.hex

    ids = {name: uuid.uuid4() for name in ("visit", "named", "open311", "online", "patrol")}
    channel = {"visit": "visit", "named": "patrol", "open311": "open311"}
    household, visit = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        users = meta.tables["users"]
        worker = conn.execute(
            users.insert().values(old_user("w", at)).returning(users.c.id)
        ).scalar_one()
        for n, (name, case_id) in enumerate(ids.items()):
            row = old_case(key(case_id), f"XH-OLD-{n}", channel.get(name, name), at)
            conn.execute(meta.tables["cases"].insert().values(row))
        conn.execute(
            meta.tables["households"]
            .insert()
            .values(id=key(household), **ROOM_302, notes="", created_at=at, version=1)
        )
        conn.execute(
            meta.tables["visits"]
            .insert()
            .values(
                id=key(visit),
                household_id=key(household),
                worker_id=worker,
                visited_at=at,
                received_at=at,
                residents_seen=[],
                outcome="met",
                situation="",
                needs="",
                follow_up="",
                case_id=key(ids["named"]),
                version=1,
            )
        )
    upgrade()
    found = {
        name: db.session.scalar(select(Case.disclosure).where(Case.id == case_id))
        for name, case_id in ids.items()
    }
    assert found == {
        "visit": Disclosure.PRIVATE,
        "named": Disclosure.PRIVATE,
        "open311": Disclosure.PUBLIC,
        "online": Disclosure.LISTED,
        "patrol": Disclosure.LISTED,
    }
