"""The register in the back office: search, household card, changes with reasons (audited),
people who leave kept on record, newborns and tenants, moves; scoped to the reader's cells,
and every change reaching the phones of the cell through the normal pull."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from server import clock
from server.accounts import operations as accounts
from server.audit.models import AuditEntry
from server.evaluation.metrics import key_households
from server.extensions import db
from server.population import editing
from server.population.identity import app_vault
from server.population.models import CareTag, Household, Resident, ResidentTag
from tests.server.conftest import csrf_token, login
from tests.sync.conftest import PASSWORD, Phone, World, build_world
from tests.sync.test_scope_changes import assert_converged

ID_NUMBER = "11010519491231002X"  # GB 11643 example: a woman born 1949-12-31


@pytest.fixture
def reg(app: Any) -> World:
    """Workers wa (G1) and wb (G2), dispatcher `office`, manager `boss` (whole street), GIS;
    a care tag; 王秀英 in G1 with a phone, an ID number and the tag; a 王秀英 in G2 too."""
    world = build_world(db.session)
    for name, role in (("boss", "manager"), ("gis", "gis")):
        world.users[name] = accounts.create_user(
            db.session, username=name, password=PASSWORD, role=role
        )
    db.session.add(
        CareTag(
            code="living_alone", name_zh="独居老人", name_en="Living alone", visit_every_days=30
        )
    )
    vault = app_vault(current_app)
    for cell, phone, number in (("G1", "13912345678", ID_NUMBER), ("G2", None, None)):
        person = Resident(
            household_id=world.households[cell][0],
            name="王秀英",
            gender="F",
            birth_year=1949,
            phone=phone,
            relation="户主",
            version=1,
            **editing.identity_values(vault, number),
        )
        db.session.add(person)
        db.session.flush()
        db.session.add(ResidentTag(resident_id=person.id, tag_code="living_alone"))
    db.session.commit()
    return world


def _signed_in(app: Any, user: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, user).status_code == 302
    return client


def _post(client: FlaskClient, path: str, data: dict[str, Any], household: uuid.UUID) -> str:
    token = csrf_token(client, f"/register/households/{household}")
    response = client.post(path, data={**data, "csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _wang(cell: str, world: World) -> Resident:
    return db.session.scalar(
        select(Resident).where(
            Resident.name == "王秀英", Resident.household_id == world.households[cell][0]
        )
    )


def _person(**extra: Any) -> dict[str, Any]:
    return {"name": "王秀英", "gender": "F", "birth_year": "1949", "relation": "户主", **extra}


@pytest.mark.parametrize(
    ("q", "found"),
    [("王秀英", 1), ("G1 room 0", 1), ("1391234", 1), ("5678", 1), ("002x", 1), ("李四", 0)],
)
def test_a_worker_finds_by_name_address_phone_or_id_tail_only_in_their_cells(
    app: Any, reg: World, q: str, found: int
) -> None:
    page = _signed_in(app, "wa").get("/register/", query_string={"q": q}).get_data(as_text=True)
    g1 = str(reg.households["G1"][0])
    assert page.count("/register/households/") == found
    assert (g1 in page) == bool(found)
    assert str(reg.households["G2"][0]) not in page  # the other 王秀英 is in G2
    if not found:
        assert 'id="no-hits"' in page


def test_the_office_searches_the_whole_street_and_every_search_is_audited(
    app: Any, reg: World
) -> None:
    page = _signed_in(app, "office").get("/register/?q=王秀英").get_data(as_text=True)
    assert str(reg.households["G1"][0]) in page and str(reg.households["G2"][0]) in page
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.subject_type == "register_search")
    )
    assert entry is not None and entry.actor_id == reg.users["office"].id
    assert set(entry.detail["households"]) == {str(reg.households[c][0]) for c in ("G1", "G2")}


def test_a_household_of_another_cell_is_not_found_and_cannot_be_changed(
    app: Any, reg: World
) -> None:
    wa = _signed_in(app, "wa")
    other, mine = reg.households["G2"][0], reg.households["G1"][0]
    assert wa.get(f"/register/households/{other}").status_code == 404
    assert wa.get(f"/register/households/{uuid.uuid4()}").status_code == 404
    token = csrf_token(wa, f"/register/households/{mine}")
    target = _wang("G2", reg)
    for path, data in (
        (f"/register/households/{other}/edit", {"notes": "x", "reason": "试试看"}),
        (f"/register/residents/{target.id}/status", {"status": "deceased", "reason": "试试"}),
        (f"/register/households/{other}/residents", {**_person(), "reason": "试试"}),
    ):
        assert wa.post(path, data={**data, "csrf_token": token}).status_code == 404
    db.session.expire_all()
    assert _wang("G2", reg).status == "active" and db.session.get(Household, other).notes == ""
    assert _signed_in(app, "gis").get(f"/register/households/{mine}").status_code == 403
    assert _signed_in(app, "gis").get("/register/?q=王秀英").status_code == 403


def test_the_card_shows_residents_tags_visits_and_is_audited_when_read(
    app: Any, reg: World
) -> None:
    household = reg.households["G1"][0]
    page = _signed_in(app, "wa").get(f"/register/households/{household}").get_data(as_text=True)
    assert "王秀英" in page and "独居老人" in page
    assert "1*************002X" in page and ID_NUMBER not in page  # masked, never in clear
    read = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.subject_type == "household", AuditEntry.action == "read"
        )
    )
    assert read is not None and read.subject_id == str(household)


def test_an_edit_needs_a_reason_is_audited_shown_in_the_history_and_reaches_the_phone(
    app: Any, reg: World, client: FlaskClient
) -> None:
    phone = Phone(client, reg.users["wa"])
    phone.pull()
    wa, household, wang = _signed_in(app, "wa"), reg.households["G1"][0], _wang("G1", reg)
    path = f"/register/residents/{wang.id}/edit"
    page = _post(wa, path, _person(phone="13800001111", tags="living_alone"), household)
    assert "请填写修改原因" in page  # no reason: refused, nothing changed, the form open
    assert f'id="edit-{wang.id.hex[:8]}" open' in page
    db.session.expire_all()
    assert _wang("G1", reg).phone == "13912345678"
    data = _person(phone="138 0000 1111", tags=["living_alone", "elderly"], reason="电话号码变更")
    assert "请从列表中选择关爱标签" in _post(wa, path, data, household)  # an unknown tag
    data["tags"] = "living_alone"
    page = _post(wa, path, data, household)
    assert "已保存" in page and "电话号码变更" in page
    db.session.expire_all()
    assert _wang("G1", reg).phone == "13800001111"
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.subject_id == str(wang.id), AuditEntry.action == "update"
        )
    )
    assert entry.fields == ["phone"] and entry.detail == {"reason": "电话号码变更"}
    phone.pull()
    assert phone.table("residents")[str(wang.id)]["phone"] == "13800001111"
    assert_converged(phone)


def test_a_person_who_died_stays_on_record_but_leaves_the_phones_and_the_visit_plans(
    app: Any, reg: World, client: FlaskClient
) -> None:
    phone, other = Phone(client, reg.users["wa"]), Phone(client, reg.users["wb"])
    phone.pull(), other.pull()
    wa, household, wang = _signed_in(app, "wa"), reg.households["G1"][0], _wang("G1", reg)
    planned = {h.household_id for h in key_households(db.session, as_of=clock.now())}
    assert household in planned
    path = f"/register/residents/{wang.id}/status"
    tomorrow = (clock.today() + dt.timedelta(days=1)).isoformat()
    data = {"status": "deceased", "on": tomorrow, "reason": "家属告知"}
    assert "日期" in _post(wa, path, data, household)  # not in the future
    data["on"] = clock.today().isoformat()
    page = _post(wa, path, data, household)
    assert "已故" in page and "家属告知" in page and "王秀英" in page  # kept, with the reason
    db.session.expire_all()
    gone = _wang("G1", reg)
    assert (gone.status, gone.status_on, gone.status_reason) == (
        "deceased",
        clock.today(),
        "家属告知",
    )
    assert household not in {h.household_id for h in key_households(db.session, as_of=clock.now())}
    phone.pull()
    assert str(wang.id) not in phone.table("residents")
    assert_converged(phone)
    assert other.pull()[0]["changes"] == []  # nothing for the other cell
    # Back on the register (a mistake): the next pull brings the person again.
    page = _post(wa, path, {"status": "active", "reason": "登记错误"}, household)
    phone.pull()
    assert phone.table("residents")[str(wang.id)]["name"] == "王秀英"
    assert_converged(phone)


def test_a_newborn_and_a_tenant_are_added_and_reach_only_the_phones_of_their_cell(
    app: Any, reg: World, client: FlaskClient
) -> None:
    a, b = Phone(client, reg.users["wa"]), Phone(client, reg.users["wb"])
    a.pull(), b.pull()
    wa, household = _signed_in(app, "wa"), reg.households["G1"][1]
    path = f"/register/households/{household}/residents"
    baby = {"arrival": "newborn", "name": "小明", "gender": "M", "relation": "子女"}
    _post(wa, path, {**baby, "reason": "新生儿落户"}, household)
    tenant = {"arrival": "tenant", "name": "赵租客", "gender": "F", "birth_year": "1990"}
    taken = {**tenant, "birth_year": "", "id_number": ID_NUMBER, "reason": "新租户"}
    page = _post(wa, path, taken, household)
    assert "已在登记" in page  # that number is 王秀英's: refused
    _post(wa, path, {**tenant, "phone": "13700002222", "reason": "新租户"}, household)
    db.session.expire_all()
    added = {
        r.name: r
        for r in db.session.scalars(select(Resident).where(Resident.household_id == household))
    }
    assert added["小明"].birth_year == clock.today().year and added["赵租客"].relation == "其他"
    created = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "create")).all()
    assert {e.detail["arrival"] for e in created} == {"newborn", "tenant"}
    a.pull(), b.pull()
    names = {r["name"] for r in a.table("residents").values()}
    assert {"小明", "赵租客"} <= names
    assert not {"小明", "赵租客"} & {r["name"] for r in b.table("residents").values()}
    assert_converged(a)


def test_a_household_moved_to_another_building_group_leaves_one_phone_and_reaches_the_other(
    app: Any, reg: World, client: FlaskClient
) -> None:
    a, b = Phone(client, reg.users["wa"]), Phone(client, reg.users["wb"])
    a.pull(), b.pull()
    household, wang = reg.households["G1"][0], _wang("G1", reg)
    path = f"/register/households/{household}/move"
    move = {"address": "新华路200弄3号101室", "cell_code": "G2", "reason": "搬到对面楼"}
    assert "请选择您负责的楼组" in _post(_signed_in(app, "wa"), path, move, household)
    page = _post(_signed_in(app, "boss"), path, move, household)
    assert "新华路200弄3号101室" in page and "搬到对面楼" in page
    db.session.expire_all()
    moved = db.session.get(Household, household)
    assert (moved.cell_code, moved.road, moved.lane, moved.building, moved.room) == (
        "G2",
        "新华路",
        "200",
        "3",
        "101",
    )
    a.pull(), b.pull()
    assert str(household) not in a.table("households")
    assert str(wang.id) not in a.table("residents")
    assert b.table("households")[str(household)]["address"] == "新华路200弄3号101室"
    assert str(wang.id) in b.table("residents")
    assert_converged(a), assert_converged(b)
    assert _signed_in(app, "wa").get(f"/register/households/{household}").status_code == 404


def test_the_dispatcher_reads_the_card_but_has_no_forms(app: Any, reg: World) -> None:
    office = _signed_in(app, "office")
    household = reg.households["G1"][0]
    page = office.get(f"/register/households/{household}").get_data(as_text=True)
    assert "王秀英" in page and "/move" not in page
    token = csrf_token(office, f"/register/households/{household}")
    response = office.post(
        f"/register/households/{household}/edit",
        data={"notes": "x", "reason": "试试看", "csrf_token": token},
    )
    assert response.status_code == 403


def test_the_status_migration_puts_everyone_already_registered_on_the_register(app: Any) -> None:
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    db.session.remove()
    downgrade(revision="0016")
    assert "status" not in {c["name"] for c in inspect(db.engine).get_columns("residents")}
    household, sqlite = uuid.uuid4(), db.engine.dialect.name == "sqlite"

    def key(value: uuid.UUID) -> Any:  # how each backend's driver takes a UUID column
        return value.hex if sqlite else value

    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO households (id, address, road, lane, building, room, cell_code,"
                " notes, created_at, version, address_match) VALUES (:id, '新华路1号', '新华路',"
                " '', '1', '', 'G1', '', :now, 1, '')"
            ),
            {"id": key(household), "now": dt.datetime.now(dt.UTC)},
        )
        conn.execute(
            text(
                "INSERT INTO residents (id, household_id, name, gender, relation, notes, version)"
                " VALUES (:id, :h, '老住户', 'F', '户主', '', 1)"
            ),
            {"id": key(uuid.uuid4()), "h": key(household)},
        )
    upgrade()
    old = db.session.scalar(select(Resident).where(Resident.name == "老住户"))
    assert (old.status, old.status_on, old.status_reason) == ("active", None, "")


def test_a_worker_who_takes_over_the_cell_receives_its_households_but_not_who_left(
    app: Any, reg: World, client: FlaskClient
) -> None:
    from server.audit.operations import AccessContext
    from server.enums import DutyRole
    from server.grid.models import Duty
    from server.register import operations as register

    wang = _wang("G1", reg)
    actor = register.Actor(AccessContext(reg.users["wa"].id), frozenset({"G1"}), clock.today())
    register.set_status(
        db.session, actor, wang.id, "moved_out", on=clock.today(), reason="搬去外区"
    )
    db.session.commit()
    b = Phone(client, reg.users["wb"])
    b.pull()  # their cursor is past the move-out: G1 comes by the transition
    db.session.add(
        Duty(
            user_id=reg.users["wb"].id,
            cell_code="G1",
            role=DutyRole.GRID_WORKER,
            starts_on=dt.date.today() - dt.timedelta(days=1),
        )
    )
    db.session.commit()
    b.pull()  # the scope grew: the transition sends G1's rows
    assert str(reg.households["G1"][0]) in b.table("households")
    assert str(wang.id) not in b.table("residents")
    assert any(r["name"] == "居民0" for r in b.table("residents").values())
    assert_converged(b)
