"""A visit touches only the worker's own: a case they may act on, residents of that household.

Issue 12 §6: a `visit.create` could name another cell's case, or residents of another
household. Each is rejected alone, with a stable reason the phone shows; its neighbours in
the batch are applied.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from server.extensions import db
from server.fieldsync.schemas import MAX_RESIDENTS_SEEN
from server.population.models import Resident, Visit
from tests.sync.conftest import INSIDE_G1, count, make_case, visit_args


def resident_of(household_id: uuid.UUID) -> str:
    return str(db.session.scalar(select(Resident.id).where(Resident.household_id == household_id)))


def push_between_two_good_visits(phone: Any, world: Any, bad: dict[str, Any]) -> list[Any]:
    a = phone("wa")
    home = world.households["G1"][0]
    a.add("visit.create", visit_args(home))
    a.add("visit.create", bad)
    a.add("visit.create", visit_args(home))
    body = a.push()
    assert body["last_seq"] == 3
    return list(body["results"])


def test_a_visit_naming_another_cells_case_is_rejected_alone(phone, world):
    foreign = make_case(db.session, world, cell="G2", assignee="wb")
    bad = visit_args(world.households["G1"][1], case_id=str(foreign))
    results = push_between_two_good_visits(phone, world, bad)
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["reason"]["code"] == "NOT_IN_SCOPE"
    assert results[1]["reason"]["text"] == "不在您负责的范围内。"
    assert db.session.get(Visit, uuid.UUID(bad["id"])) is None
    assert count(Visit) == 2


@pytest.mark.parametrize("whose", ["another cell's household", "a neighbour in the same cell"])
def test_a_visit_naming_residents_of_another_household_is_rejected_alone(phone, world, whose):
    other = world.households["G2" if whose.startswith("another") else "G1"][2]
    home = world.households["G1"][1]
    bad = visit_args(home, residents_seen=[resident_of(home), resident_of(other)])
    results = push_between_two_good_visits(phone, world, bad)
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["reason"]["code"] == "RESIDENT_NOT_IN_HOUSEHOLD"
    assert "不在这户的登记中" in results[1]["reason"]["text"]
    assert count(Visit) == 2


def test_a_visit_naming_a_resident_the_register_does_not_know_is_rejected(phone, world):
    bad = visit_args(world.households["G1"][1], residents_seen=[str(uuid.uuid4())])
    results = push_between_two_good_visits(phone, world, bad)
    assert results[1]["reason"]["code"] == "RESIDENT_NOT_IN_HOUSEHOLD"


def test_a_push_naming_thousands_of_unknown_residents_rejects_each_visit_alone(phone, world):
    """70 visits × 500 residents seen (35,000 ids): the check reads them in slices, as a
    SQLite built with the default 32,766-parameter limit needs (Debian's takes 250,000)."""
    a = phone("wa")
    home = world.households["G1"][0]
    a.add("visit.create", visit_args(home))
    for _ in range(70):
        many = [str(uuid.uuid4()) for _ in range(MAX_RESIDENTS_SEEN)]
        a.add("visit.create", visit_args(home, residents_seen=many))
    a.add("visit.create", visit_args(home, residents_seen=[resident_of(home)]))
    body = a.push()
    assert body["last_seq"] == 72
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["applied"] + ["rejected"] * 70 + ["applied"]
    codes = {r["reason"]["code"] for r in body["results"][1:-1]}
    assert codes == {"RESIDENT_NOT_IN_HOUSEHOLD"}


def test_a_visit_with_its_residents_and_a_case_of_the_workers_cell_is_applied(phone, world):
    home = world.households["G1"][0]
    in_cell = make_case(db.session, world, cell="G1", assignee="wc")  # not wa's, but wa's cell
    a = phone("wa")
    a.add(
        "visit.create",
        visit_args(home, residents_seen=[resident_of(home)], case_id=str(in_cell)),
    )
    assert [r["status"] for r in a.push()["results"]] == ["applied"]


def test_a_visit_turned_into_a_case_in_the_same_push_is_applied(phone, world):
    """The app's 转为案件: the report comes first, the visit names it (same batch)."""
    a = phone("wb")  # a worker of G2 reporting from G1: the case is theirs as reporter
    case_id = str(uuid.uuid4())
    lon, lat = INSIDE_G1
    a.add("case.report", {"id": case_id, "description": "楼道堆物", "lon": lon, "lat": lat})
    a.add("visit.create", visit_args(world.households["G2"][0], case_id=case_id))
    assert [r["status"] for r in a.push()["results"]] == ["applied", "applied"]
    visit = db.session.scalar(select(Visit).where(Visit.case_id == uuid.UUID(case_id)))
    assert visit is not None
