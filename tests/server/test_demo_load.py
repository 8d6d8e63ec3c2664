"""`flask demo load` builds the Xinhua demo on the real boundary, once, with every status."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import func, select

from server.cases.models import Case, CaseEvent
from server.demo.loader import load_demo
from server.demo.staff import DEMO_PASSWORD
from server.enums import CaseStatus, CellLevel, DutyRank, DutyRole, Placement, Priority
from server.extensions import db
from server.grid.models import Cell, Duty
from server.models import metadata
from server.population.models import Household, Resident, ResidentTag, Visit
from tests.server.conftest import login

NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def demo(app):
    result = load_demo(db.session, now=NOW)
    db.session.commit()
    return result


def _table_counts() -> dict[str, int]:
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t))
        for t in metadata.sorted_tables
    }


def test_the_demo_grid_has_four_levels_on_the_real_boundary(demo):
    levels = dict(db.session.execute(select(Cell.level, func.count()).group_by(Cell.level)).all())
    assert levels[CellLevel.STREET] == 1
    assert 6 <= levels[CellLevel.RESIDENTIAL_AREA] <= 8
    assert levels[CellLevel.BLOCK] >= 2 * levels[CellLevel.RESIDENTIAL_AREA]
    assert levels[CellLevel.BUILDING_GROUP] >= 3 * levels[CellLevel.BLOCK]
    street = db.session.scalar(select(Cell).where(Cell.level == CellLevel.STREET))
    assert street.code == "310105004"
    assert 2.1e6 < street.area_m2 < 2.3e6  # OSM relation 13469094: 2.19 km²
    assert (street.min_lon, street.max_lat) == pytest.approx((121.4122946, 31.2160465), abs=1e-6)


def test_every_cell_has_a_current_principal_grid_worker(demo):
    cells = set(db.session.scalars(select(Cell.code)))
    covered = set(
        db.session.scalars(
            select(Duty.cell_code).where(
                Duty.role == DutyRole.GRID_WORKER,
                Duty.rank == DutyRank.PRINCIPAL,
                Duty.starts_on <= NOW.date(),
            )
        )
    )
    assert cells == covered


def test_households_and_residents_with_care_tags(demo):
    households = db.session.scalar(select(func.count()).select_from(Household))
    residents = db.session.scalar(select(func.count()).select_from(Resident))
    tagged = db.session.scalar(select(func.count(ResidentTag.resident_id.distinct())))
    assert 200 <= households <= 600 and residents >= households
    assert 0.1 * residents < tagged < 0.35 * residents
    groups = set(
        db.session.scalars(select(Cell.code).where(Cell.level == CellLevel.BUILDING_GROUP))
    )
    assert set(db.session.scalars(select(Household.cell_code))) <= groups
    assert db.session.scalar(select(func.count()).select_from(Visit)) > 50


def test_there_are_cases_in_every_status(demo):
    statuses = set(db.session.scalars(select(Case.status).distinct()))
    assert statuses == set(CaseStatus)


def test_the_seeds_exposed_cable_case_was_cleared_within_two_hours(demo):
    case = db.session.scalar(select(Case).where(Case.title.contains("329弄")))
    assert case.priority == Priority.URGENT
    assert case.catalogue_item.code == "A05-01"
    assert case.status == CaseStatus.EVALUATED and case.satisfaction == 5
    assert case.placement == Placement.IN and case.cell_code
    assert case.handled_at - case.reported_at <= dt.timedelta(hours=2)
    assert case.due_at - case.dispatched_at == dt.timedelta(hours=2)
    assert case.unit.code == case.catalogue_item.default_unit.code
    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).all()
    assert [e.to_status for e in events] == [
        "reported",
        "opened",
        "dispatched",
        "handling",
        "handled",
        "closed",
        "evaluated",
    ]
    assert all(a.at < b.at for a, b in itertools.pairwise(events))


def test_a_report_outside_the_grid_waits_in_the_unplaced_queue(demo):
    unplaced = db.session.scalars(select(Case).where(Case.placement == Placement.UNPLACED)).all()
    assert len(unplaced) == 1 and unplaced[0].cell_code is None


def test_loading_the_demo_twice_changes_nothing(demo):
    before = _table_counts()
    again = load_demo(db.session, now=NOW + dt.timedelta(days=1))
    db.session.commit()
    assert again.loaded is False
    assert _table_counts() == before


def test_demo_accounts_can_sign_in(demo, client):
    response = login(client, "zhao.min", DEMO_PASSWORD)
    assert response.status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert "赵敏" in html and "楼组" in html


def test_the_demo_cli_prints_the_accounts_and_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "demo district loaded" in first.output
    assert "zhao.min" in first.output and DEMO_PASSWORD in first.output
    second = runner.invoke(args=["demo", "load"])
    assert "nothing changed" in second.output
