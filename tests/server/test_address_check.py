"""The address check: households the import could not place are placed by a door or a point
picked on the map, audited; the phones of the new cell get them through the normal pull."""

from __future__ import annotations

from sqlalchemy import select

from server.addresses.models import StandardAddress
from server.audit.models import AuditEntry
from server.extensions import db
from server.imports.models import ImportReview
from server.population.models import Household
from sync.models import ScopeExit
from tests.server.conftest import login
from tests.server.import_world import csv_bytes, household_rows


def unplaced(office):
    rows = household_rows()
    rows[1][7] = "新华路329弄99号302室"  # no such door
    office.apply("register", csv_bytes(rows))
    review = db.session.scalar(
        select(ImportReview).where(ImportReview.reason == "address_unmatched")
    )
    return review, db.session.scalar(select(Household).where(Household.register_key == "no:H1"))


def signed_in(client, make_user):
    make_user("manager", username="guan.li")
    login(client, "guan.li")
    page = client.get("/addresses/check")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_an_unplaced_household_is_listed_and_placed_at_the_chosen_door(office, client, make_user):
    review, home = unplaced(office)
    page = signed_in(client, make_user)
    assert (
        "新华路329弄99号302室" in page and "新华路329弄12号" in page
    )  # a door of its lane offered
    door = db.session.scalar(select(StandardAddress.id).where(StandardAddress.code == "A2"))
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        f"/addresses/check/{review.id}", data={"csrf_token": token, "door_id": door}
    )
    assert answer.status_code == 302
    db.session.expire_all()
    home = db.session.get(Household, home.id)
    assert (
        home.cell_code == "R1-B1-G2" and home.address_match == "manual" and home.address_id == door
    )
    assert db.session.get(ImportReview, review.id).resolved_at is not None
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.subject_id == str(home.id), AuditEntry.action == "update"
        )
    )
    assert "cell_code" in entry.fields and "address check" in entry.detail["reason"]
    assert (
        db.session.scalar(select(ScopeExit.id).where(ScopeExit.row_id == home.id.hex)) is not None
    )


def test_a_point_picked_inside_a_building_group_places_the_household(office, client, make_user):
    review, home = unplaced(office)
    page = signed_in(client, make_user)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post(
        f"/addresses/check/{review.id}",
        data={"csrf_token": token, "lon": "121.4375", "lat": "31.2075"},
    )
    db.session.expire_all()
    assert db.session.get(Household, home.id).cell_code == "R2-B2-G2"


def test_a_point_outside_the_grid_or_a_bogus_door_changes_nothing(office, client, make_user):
    review, home = unplaced(office)
    page = signed_in(client, make_user)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    for data in (
        {"lon": "120.0", "lat": "30.0"},
        {"door_id": "999999"},
        {"lon": "x", "lat": "nan"},
        {"lon": "121.4", "lat": ""},  # half a point
        {},
    ):
        answer = client.post(f"/addresses/check/{review.id}", data={"csrf_token": token, **data})
        assert answer.status_code == 302
    assert client.post("/addresses/check/424242", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Household, home.id).cell_code == ""
    assert db.session.get(ImportReview, review.id).resolved_at is None


def test_a_worker_cannot_open_the_address_check(office, client, make_user):
    make_user("worker", username="wang.gong")
    login(client, "wang.gong")
    assert client.get("/addresses/check").status_code == 403
    assert client.get("/addresses/doors.geojson").status_code == 403
