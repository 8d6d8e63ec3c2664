"""Half a point is refused at every entry that stores a location, and by the database itself.

A case with `lat: null` beside a longitude used to be accepted and then broke the office map;
the one rule (geo/points.py, server/locations.py) is asked by every entry, a before_flush hook
catches an entry that forgets, and a CHECK constraint (migration 0015) holds the table.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from server.cases.models import Case
from server.exceptions import InvalidInput
from server.extensions import db
from server.open311.operations import create_partner
from server.population.models import Household
from tests.server.backoffice_world import IN_G1, T0, post_form
from tests.server.conftest import login
from tests.server.test_migrations import _before
from tests.server.test_residents import form as resident_form
from tests.server.test_residents import send as resident_send

LON, LAT = str(IN_G1[0]), str(IN_G1[1])

#: (lon, lat, the field named at fault) for form entries that send text.
HALF_POINTS = [
    pytest.param(LON, "", "lat", id="lat-blank"),
    pytest.param("", LAT, "lon", id="lon-blank"),
    pytest.param(LON, "nan", "lat", id="lat-nan"),
    pytest.param("inf", LAT, "lon", id="lon-inf"),
    pytest.param(LON, "91", "lat", id="lat-out-of-range"),
    pytest.param(LON, "north", "lat", id="lat-text"),
]


def _cases() -> list[Any]:
    db.session.expire_all()
    return list(db.session.scalars(select(Case)))


def _desk(app: Any) -> Any:
    client = app.test_client()
    assert login(client, "d1").status_code == 302
    return client


@pytest.mark.parametrize(("lon", "lat", "field"), HALF_POINTS)
def test_the_intake_form_refuses_half_a_point_and_stores_nothing(app, world, lon, lat, field):
    data = {
        "channel": "hotline",
        "description": "弄口地面电线外皮破损裸露",
        "catalogue_item_id": str(world.items["A05-01"].id),
        "lon": lon,
        "lat": lat,
    }
    response = post_form(_desk(app), "/cases/new", data, token_from="/cases/new")
    assert response.status_code == 422
    assert "请同时提供经度和纬度" in response.get_data(as_text=True) or field in str(
        response.get_data(as_text=True)
    )
    assert _cases() == []


def test_the_intake_form_names_the_missing_axis_in_chinese(app, world):
    data = {"channel": "hotline", "description": "井盖松动", "lon": LON, "lat": ""}
    response = post_form(_desk(app), "/cases/new", data, token_from="/cases/new")
    assert response.status_code == 422
    assert "请同时提供经度和纬度,或都不提供。" in response.get_data(as_text=True)


@pytest.mark.parametrize(("lon", "lat", "field"), HALF_POINTS)
def test_placing_a_case_by_hand_refuses_half_a_point_and_keeps_the_old_one(
    app, world, lon, lat, field
):
    desk = _desk(app)
    data = {"channel": "hotline", "description": "路灯不亮", "lon": LON, "lat": LAT}
    assert post_form(desk, "/cases/new", data, token_from="/cases/new").status_code == 302
    [case] = _cases()
    response = post_form(desk, f"/cases/{case.id}/locate", {"lon": lon, "lat": lat})
    assert response.status_code == 422
    [case] = _cases()
    assert (case.lon, case.lat) == (IN_G1[0], IN_G1[1])


@pytest.mark.parametrize(("lon", "lat", "field"), HALF_POINTS)
def test_the_locate_lookup_answers_half_a_point_with_a_422_naming_the_field(
    app, world, lon, lat, field
):
    response = _desk(app).get("/cases/lookup/locate", query_string={"lon": lon, "lat": lat})
    assert response.status_code == 422
    assert response.get_json()["field"] == field


@pytest.mark.parametrize(("lon", "lat", "field"), HALF_POINTS)
def test_the_residents_report_refuses_half_a_point(client, world, lon, lat, field):
    response = resident_send(client, resident_form(client, world, lon=lon, lat=lat))
    assert response.status_code == 422
    assert response.get_json()["field"] == field
    assert _cases() == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"lat": None}, "lat"),
        ({"long": None}, "long"),
        ({"lat": "nan"}, "lat"),
        ({"long": "-inf"}, "long"),
    ],
)
def test_open311_refuses_half_a_point(client, world, fields, field):
    _, key = create_partner(db.session, "12345 platform", at=T0)
    db.session.commit()
    data = {"api_key": key, "service_code": "A01-01", "lat": LAT, "long": LON, **fields}
    response = client.post(
        "/open311/v2/requests.json", data={k: v for k, v in data.items() if v is not None}
    )
    assert response.status_code == 400
    [error] = response.get_json()
    assert error["description"].startswith(field)
    assert _cases() == []


def _household(**point: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "address": "新华路1号",
        "road": "新华路",
        "building": "1",
        "cell_code": "G1",
        **point,
    }


@pytest.mark.parametrize(
    "point",
    [
        pytest.param({"lon": 121.42, "lat": None}, id="lat-null"),
        pytest.param({"lon": None, "lat": 31.2}, id="lon-null"),
        pytest.param({"lon": 121.42, "lat": 95.0}, id="lat-out-of-range"),
        pytest.param({"lon": float("inf"), "lat": 31.2}, id="lon-inf"),
    ],
)
def test_an_entry_that_forgets_to_check_is_stopped_at_flush(app, world, point):
    db.session.add(Household(**_household(**point)))
    with pytest.raises(InvalidInput) as raised:
        db.session.flush()
    assert raised.value.code == "invalid_point"
    db.session.rollback()


@pytest.mark.parametrize(
    "point",
    [
        pytest.param({"lon": 121.42, "lat": None}, id="lat-null"),
        pytest.param({"lon": None, "lat": 31.2}, id="lon-null"),
        pytest.param({"lon": 121.42, "lat": 95.0}, id="lat-out-of-range"),
        pytest.param({"lon": 200.0, "lat": 31.2}, id="lon-out-of-range"),
    ],
)
def test_the_database_refuses_half_a_point_written_around_the_models(app, world, point):
    """A bulk insert (the register import writes so) skips the flush hook: the CHECK holds."""
    with pytest.raises(IntegrityError):
        db.session.execute(insert(Household), [_household(**point)])
    db.session.rollback()


def test_whole_points_and_no_point_are_stored(app, world):
    db.session.execute(
        insert(Household), [_household(lon=121.42, lat=31.2), _household(lon=None, lat=None)]
    )
    db.session.commit()
    assert db.session.scalar(select(text("count(*)")).select_from(Household)) == 2


def test_the_migration_clears_legacy_half_points_and_keeps_whole_ones(app, world):
    desk = _desk(app)
    for description in ("whole", "half"):
        data = {"channel": "hotline", "description": description, "lon": LON, "lat": LAT}
        assert post_form(desk, "/cases/new", data, token_from="/cases/new").status_code == 302
    db.session.remove()
    downgrade(revision=_before("Every stored location is a whole point"))
    with db.engine.begin() as conn:  # a row that got in before the rule
        conn.execute(text("UPDATE cases SET lat = NULL WHERE description = 'half'"))
    upgrade()
    with db.engine.connect() as conn:
        rows = {r.description: (r.lon, r.lat) for r in conn.execute(text("SELECT * FROM cases"))}
    assert rows == {"whole": (IN_G1[0], IN_G1[1]), "half": (None, None)}
