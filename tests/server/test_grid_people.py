"""Duties (AB角, dates), the fallback to the parent cell (属地兜底), gaps, case assignment."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from server.cases.models import Case, CaseEvent
from server.catalogue.models import CatalogueCategory, CatalogueItem
from server.enums import Channel, Placement
from server.grid import assignment, operations
from server.grid.index import index_cache
from server.grid.models import Duty
from server.units.models import Unit
from tests.server.grid_files import LAT0, LON0, auth, upload_and_publish


@pytest.fixture
def gis(make_user, token_for, client):
    token = token_for(make_user("gis", "sun.li"))
    upload_and_publish(client, token)
    return token


def today():
    from server.grid.api import today as shanghai_today

    return shanghai_today()


def add_duty(client, token, **body):
    return client.post("/api/v1/duties", json=body, headers=auth(token))


def test_a_cell_with_nobody_falls_back_to_its_parent_and_says_so(client, gis, make_user):
    make_user("worker", "zhou.jie", display_name="周杰")
    assert add_duty(client, gis, cell_code="R1", username="zhou.jie").status_code == 201
    people = client.get("/api/v1/grid/cells/R1-B1-G1/people", headers=auth(gis)).get_json()
    assert people["fell_back"] is True and people["found_at"] == "R1"
    assert people["path"] == ["R1-B1-G1", "R1-B1", "R1", "S"]
    assert [p["username"] for p in people["people"]] == ["zhou.jie"]
    own = client.get("/api/v1/grid/cells/R1/people", headers=auth(gis)).get_json()
    assert own["fell_back"] is False


def test_locate_answers_with_the_responsible_people(client, gis, make_user):
    make_user("worker", "zhou.jie")
    add_duty(client, gis, cell_code="R1-B1-G1", username="zhou.jie", role="grid_worker")
    found = client.get(
        f"/api/v1/grid/locate?lon={LON0 + 0.001}&lat={LAT0 + 0.001}", headers=auth(gis)
    ).get_json()
    assert found["responsible"]["people"][0]["username"] == "zhou.jie"


def test_duties_end_and_future_duties_do_not_count_yet(client, gis, make_user):
    make_user("worker", "a.worker")
    make_user("worker", "b.worker")
    tomorrow = today() + dt.timedelta(days=1)
    add_duty(client, gis, cell_code="R2", username="b.worker", starts_on=tomorrow.isoformat())
    first = add_duty(client, gis, cell_code="R2", username="a.worker").get_json()
    assert client.delete(f"/api/v1/duties/{first['id']}", headers=auth(gis)).status_code == 204
    people = client.get("/api/v1/grid/cells/R2/people", headers=auth(gis)).get_json()
    assert people["people"] == []
    gaps = client.get("/api/v1/grid/gaps", headers=auth(gis)).get_json()
    assert "R2" in [g["code"] for g in gaps]


def test_the_gap_report_lists_cells_with_nobody_and_who_covers_them(client, gis, make_user):
    make_user("worker", "zhou.jie")
    add_duty(client, gis, cell_code="S", username="zhou.jie")
    add_duty(client, gis, cell_code="R1", username="zhou.jie", role="community_police")
    gaps = {g["code"]: g for g in client.get("/api/v1/grid/gaps", headers=auth(gis)).get_json()}
    assert "S" not in gaps and "R1" not in gaps and len(gaps) == 13
    assert gaps["R1-B1-G1"]["covered_by"] == "R1" and gaps["R2"]["covered_by"] == "S"
    workers = client.get("/api/v1/grid/gaps?role=grid_worker", headers=auth(gis)).get_json()
    assert "R1" in [g["code"] for g in workers]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"cell_code": "R1", "username": "nobody"}, 404, "username"),
        ({"cell_code": "ZZ", "username": "zhou.jie"}, 404, "cell_code"),
        ({"cell_code": "R1", "username": "zhou.jie", "role": "mayor"}, 422, "role"),
        (
            {
                "cell_code": "R1",
                "username": "zhou.jie",
                "starts_on": "2026-05-02",
                "ends_on": "2026-05-01",
            },
            422,
            "ends_on",
        ),
        ({"cell_code": "R1", "username": "zhou.jie", "starts_on": "2026-13-01"}, 422, "starts_on"),
        ({"username": "zhou.jie"}, 422, "cell_code"),
    ],
)
def test_bad_duties_are_refused_naming_the_field_and_nothing_changes(
    client, gis, make_user, db_session, body, status, field
):
    make_user("worker", "zhou.jie")
    response = add_duty(client, gis, **body)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["field"] == field
    assert db_session.scalars(select(Duty)).all() == []


def test_the_same_duty_twice_is_a_conflict(client, gis, make_user):
    make_user("worker", "zhou.jie")
    assert add_duty(client, gis, cell_code="R1", username="zhou.jie").status_code == 201
    again = add_duty(client, gis, cell_code="R1", username="zhou.jie")
    assert again.status_code == 409 and again.get_json()["code"] == "duty_exists"


def test_ending_a_duty_before_it_started_is_refused(client, gis, make_user):
    make_user("worker", "zhou.jie")
    duty = add_duty(
        client, gis, cell_code="R1", username="zhou.jie", starts_on="2026-01-10"
    ).get_json()
    response = client.delete(f"/api/v1/duties/{duty['id']}?last_day=2026-01-01", headers=auth(gis))
    assert response.status_code == 422 and response.get_json()["field"] == "last_day"
    assert client.delete("/api/v1/duties/999", headers=auth(gis)).status_code == 404


def test_a_worker_may_read_duties_but_not_assign_them(client, gis, make_user, token_for):
    worker = token_for(make_user("worker", "zhou.jie"))
    assert client.get("/api/v1/duties?cell_code=R1", headers=auth(worker)).status_code == 200
    assert add_duty(client, worker, cell_code="R1", username="zhou.jie").status_code == 403


def test_a_case_goes_to_the_principal_or_the_deputy_when_the_principal_is_gone(
    app, client, gis, make_user, db_session
):
    principal, deputy = make_user("worker", "a.jiao"), make_user("worker", "b.jiao")
    unit = Unit(code="U-POWER", name_zh="供电所", name_en="Power station", kind="repair_team")
    db_session.add(unit)
    db_session.flush()
    category = CatalogueCategory(
        code="A1", kind="affair", name_zh="市容环境", name_en="Environment"
    )
    item = CatalogueItem(
        code="A1-01",
        category=category,
        name_zh="电线裸露",
        name_en="Exposed cable",
        default_unit_id=unit.id,
        limit_urgent_hours=2,
        limit_high_hours=24,
        limit_normal_hours=72,
    )
    db_session.add(item)
    duty_a = operations.assign_duty(
        db_session,
        None,
        cell_code="R1-B1",
        username="a.jiao",
        role="grid_worker",
        starts_on=today() - dt.timedelta(days=30),
    )
    operations.assign_duty(
        db_session,
        None,
        cell_code="R1-B1",
        username="b.jiao",
        role="grid_worker",
        deputy=True,
        starts_on=today() - dt.timedelta(days=30),
    )
    case = Case(
        number="XH-9",
        channel=Channel.PATROL,
        lon=LON0 + 0.001,
        lat=LAT0 + 0.001,
        catalogue_item=item,
    )
    db_session.add(case)
    grid = index_cache(app).current(db_session)
    assert assignment.place_and_assign(db_session, case, grid.index, on=today())
    assert case.cell_code == "R1-B1-G1" and case.placement == Placement.IN
    assert case.assignee_id == principal.id and case.unit_id == unit.id
    duty_a.ends_on = today() - dt.timedelta(days=1)
    assignment.assign_case(db_session, case, on=today())
    assert case.assignee_id == deputy.id


def test_a_case_outside_every_cell_is_unplaced_not_dropped(app, client, gis, db_session):
    case = Case(number="XH-10", channel=Channel.HOTLINE, lon=LON0 - 0.05, lat=LAT0)
    db_session.add(case)
    grid = index_cache(app).current(db_session)
    assignment.place_and_assign(db_session, case, grid.index, on=today())
    db_session.commit()
    assert (
        case.placement == Placement.UNPLACED and case.cell_code is None and case.assignee_id is None
    )


def test_a_manual_override_is_recorded_with_who_and_why(
    client, gis, make_user, token_for, db_session
):
    make_user("worker", "zhou.jie")
    dispatcher = make_user("dispatcher", "zhao.min")
    case = Case(number="XH-11", channel=Channel.HOTLINE)
    db_session.add(case)
    db_session.commit()
    token = token_for(dispatcher)
    missing_reason = client.post(
        f"/api/v1/cases/{case.id}/assignment", json={"assignee": "zhou.jie"}, headers=auth(token)
    )
    assert missing_reason.status_code == 422 and missing_reason.get_json()["field"] == "reason"
    response = client.post(
        f"/api/v1/cases/{case.id}/assignment",
        json={"assignee": "zhou.jie", "reason": "熟悉该小区"},
        headers=auth(token),
    )
    assert response.status_code == 200
    event = db_session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id))
    assert (
        event.kind == "assignment_override"
        and event.actor_id == dispatcher.id
        and event.note == "熟悉该小区"
    )
    unknown = client.post(
        f"/api/v1/cases/{case.id}/assignment",
        json={"assignee": "ghost", "reason": "x"},
        headers=auth(token),
    )
    assert unknown.status_code == 404 and unknown.get_json()["field"] == "assignee"
