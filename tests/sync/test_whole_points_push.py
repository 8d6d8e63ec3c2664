"""In a push, a mutation carrying half a point is rejected alone, with a reason naming the axis;
the mutations around it apply (server/locations.py, issue 12 item 5)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from server.cases.models import Case, PhotoLink
from server.extensions import db
from server.population.models import Visit
from tests.sync.conftest import INSIDE_G1, count, make_case, visit_args

LON, LAT = INSIDE_G1

BAD_POINTS = [
    pytest.param({"lon": LON, "lat": None}, "lat", id="lat-null"),
    pytest.param({"lon": LON}, "lat", id="lat-missing"),
    pytest.param({"lat": LAT}, "lon", id="lon-missing"),
    pytest.param({"lon": None, "lat": LAT}, "lon", id="lon-null"),
    pytest.param({"lon": LON, "lat": 91}, "lat", id="lat-out-of-range"),
]


def _mutations(world: Any, point: dict[str, Any]) -> dict[str, tuple[dict[str, Any], Any]]:
    """One mutation per location-carrying name, each with `point`, and the model it writes."""
    case_id = make_case(db.session, world)
    return {
        "visit.create": (visit_args(world.households["G1"][0], **point), Visit),
        "case.report": ({"id": str(uuid.uuid4()), "description": "井盖松动", **point}, Case),
        "photo.attach": ({"sha256": "ab" * 32, "case_id": str(case_id), **point}, PhotoLink),
    }


@pytest.mark.parametrize("name", ["visit.create", "case.report", "photo.attach"])
@pytest.mark.parametrize(("point", "field"), BAD_POINTS)
def test_a_mutation_with_half_a_point_is_rejected_alone_naming_the_axis(
    phone, world, name, point, field
):
    args, model = _mutations(world, point)[name]
    before = count(model)
    p = phone()
    p.add("visit.create", visit_args(world.households["G1"][1], lon=LON, lat=LAT))
    p.add(name, args)
    p.add("visit.create", visit_args(world.households["G1"][2]))
    body = p.push()
    assert [r["status"] for r in body["results"]] == ["applied", "rejected", "applied"]
    reason = body["results"][1]["reason"]
    assert reason["code"] == "INVALID_ARGS"
    assert reason["details"]["field"] == field
    assert body["last_seq"] == 3
    db.session.expire_all()
    assert count(model) == before + (2 if model is Visit else 0)


@pytest.mark.parametrize("name", ["visit.create", "case.report", "photo.attach"])
def test_a_whole_point_or_none_is_applied(phone, world, name):
    p = phone()
    for point in ({"lon": LON, "lat": LAT}, {}):
        args, _model = _mutations(world, point)[name]
        p.add(name, args)
    body = p.push()
    assert [r["status"] for r in body["results"]] == ["applied", "applied"], body
