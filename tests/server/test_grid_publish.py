"""Publishing: atomic, refuses bad drafts, retires the old version, moves open cases, rolls back."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from server.cases.models import Case, CaseEvent
from server.enums import CaseStatus, Channel, GridStatus, Placement
from server.grid.models import GridVersion
from server.grid.operations import assign_duty
from tests.server.grid_files import (
    LAT0,
    LON0,
    auth,
    grid_bytes,
    grid_features,
    publish,
    upload,
    upload_and_publish,
)

REDIVIDED = "居民区边界西移，重新划分"


@pytest.fixture
def gis_token(make_user, token_for):
    return token_for(make_user("gis", "sun.li"))


def make_case(db_session, lon, lat, status=CaseStatus.DISPATCHED, number="XH-1"):
    case = Case(number=number, channel=Channel.PATROL, status=status, lon=lon, lat=lat)
    db_session.add(case)
    db_session.commit()
    return case


def test_publish_then_locate_finds_the_building_group_and_its_path(client, gis_token):
    upload_and_publish(client, gis_token)
    found = client.get(
        f"/api/v1/grid/locate?lon={LON0 + 0.001}&lat={LAT0 + 0.001}", headers=auth(gis_token)
    ).get_json()
    assert found["status"] == "in"
    assert [c["code"] for c in found["path"]] == ["R1-B1-G1", "R1-B1", "R1", "S"]
    assert [c["level"] for c in found["path"]] == [
        "building_group",
        "block",
        "residential_area",
        "street",
    ]


def test_publishing_twice_is_a_conflict_and_an_unknown_version_is_404(client, gis_token):
    version_id = upload_and_publish(client, gis_token)
    again = publish(client, gis_token, version_id)
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    missing = publish(client, gis_token, 9999)
    assert missing.status_code == 404 and missing.get_json()["field"] == "id"


def test_republishing_a_reshaped_grid_moves_open_cases_and_reports_how_many(
    client, gis_token, db_session, make_user
):
    first = upload_and_publish(client, gis_token)
    worker_a, worker_b = make_user("worker", "zhou.jie"), make_user("worker", "wu.fang")
    assign_duty(
        db_session,
        None,
        cell_code="R1",
        username="zhou.jie",
        role="grid_worker",
        starts_on=_today(),
    )
    assign_duty(
        db_session, None, cell_code="R2", username="wu.fang", role="grid_worker", starts_on=_today()
    )
    db_session.commit()
    # 0.45 of the width: in R1 now, in R2 once the boundary moves to 0.4
    moving = make_case(db_session, LON0 + 0.02 * 0.45, LAT0 + 0.002, number="XH-1")
    staying = make_case(db_session, LON0 + 0.001, LAT0 + 0.002, number="XH-2")
    closed = make_case(
        db_session, LON0 + 0.02 * 0.45, LAT0 + 0.003, status=CaseStatus.CLOSED, number="XH-3"
    )
    outside = make_case(db_session, LON0 - 0.05, LAT0, number="XH-4")
    second_draft = upload(client, gis_token, grid_bytes(grid_features(split=0.4))).get_json()["id"]
    diff = client.get(f"/api/v1/grids/{second_draft}/diff", headers=auth(gis_token)).get_json()
    assert diff["against"] == first and "R1" in [r["code"] for r in diff["diff"]["reshaped"]]
    # every cell but the street changed: a re-division, published with an acknowledgement
    assert publish(client, gis_token, second_draft).get_json()["code"] == "grid_displaced"
    result = publish(client, gis_token, second_draft, REDIVIDED)
    assert result.status_code == 200
    body = result.get_json()
    assert body["retired_id"] == first
    # the first publication placed nothing yet (cases came after); this one places three open cases
    assert body["moved_cases"] == 2  # the moving one (→ R2 block) and the staying one (placed)
    db_session.expire_all()
    moving, staying = db_session.get(Case, moving.id), db_session.get(Case, staying.id)
    assert moving.cell_code.startswith("R2-") and moving.assignee_id == worker_b.id
    assert staying.cell_code == "R1-B1-G1" and staying.assignee_id == worker_a.id
    assert db_session.get(Case, closed.id).cell_code is None  # closed cases are history
    outside = db_session.get(Case, outside.id)
    assert outside.placement == Placement.UNPLACED and outside.cell_code is None
    event = db_session.scalar(select(CaseEvent).where(CaseEvent.case_id == moving.id))
    assert event.kind == "relocated" and event.data["to_cell"] == moving.cell_code
    statuses = dict(db_session.execute(select(GridVersion.id, GridVersion.status)).all())
    assert statuses == {first: GridStatus.RETIRED, second_draft: GridStatus.PUBLISHED}


def test_rollback_republishes_the_retired_version_and_moves_cases_back(
    client, gis_token, db_session
):
    first = upload_and_publish(client, gis_token)
    case = make_case(db_session, LON0 + 0.02 * 0.45, LAT0 + 0.002)
    upload_and_publish(client, gis_token, grid_bytes(grid_features(split=0.4)), REDIVIDED)
    db_session.expire_all()
    assert db_session.get(Case, case.id).cell_code.startswith("R2-")
    rollback = publish(client, gis_token, first, "回滚到上一版划分")
    assert rollback.status_code == 200 and rollback.get_json()["moved_cases"] == 1
    db_session.expire_all()
    assert db_session.get(Case, case.id).cell_code.startswith("R1-")
    found = client.get(
        f"/api/v1/grid/locate?lon={LON0 + 0.009}&lat={LAT0 + 0.002}", headers=auth(gis_token)
    )
    assert found.get_json()["grid_version_id"] == first
    assert found.get_json()["path"][-2]["code"] == "R1"


def test_export_reimports_to_the_identical_grid(client, gis_token):
    first = upload_and_publish(client, gis_token)
    exported = client.get(f"/api/v1/grids/{first}/export", headers=auth(gis_token))
    assert exported.status_code == 200 and exported.mimetype == "application/geo+json"
    again = upload(client, gis_token, exported.data)
    assert again.status_code == 201 and not again.get_json()["report"]["has_errors"]
    diff = client.get(
        f"/api/v1/grids/{again.get_json()['id']}/diff", headers=auth(gis_token)
    ).get_json()
    assert diff["diff"]["is_empty"] and diff["diff"]["median_shift_m"] == 0
    second = client.get(f"/api/v1/grids/{again.get_json()['id']}/export", headers=auth(gis_token))
    assert second.data == exported.data


def test_export_in_gcj02_reimports_as_gcj02_to_the_same_cells_within_rounding(client, gis_token):
    first = upload_and_publish(client, gis_token)
    exported = client.get(f"/api/v1/grids/{first}/export?datum=gcj02", headers=auth(gis_token))
    assert json.loads(exported.data)["datum"] == "gcj02"
    again = upload(client, gis_token, exported.data, datum="gcj02").get_json()
    diff = client.get(f"/api/v1/grids/{again['id']}/diff", headers=auth(gis_token)).get_json()[
        "diff"
    ]
    assert diff["added"] == diff["removed"] == diff["renamed"] == []
    # 7 decimals in GCJ-02 are ~1 cm: the moved area is a centimetre strip along each edge
    assert all(r["symmetric_difference_m2"] < 50 for r in diff["reshaped"])


def test_export_of_an_unknown_version_or_datum_is_refused(client, gis_token):
    first = upload_and_publish(client, gis_token)
    assert client.get("/api/v1/grids/777/export", headers=auth(gis_token)).status_code == 404
    bad = client.get(f"/api/v1/grids/{first}/export?datum=wgs85", headers=auth(gis_token))
    assert bad.status_code == 422 and bad.get_json()["field"] == "datum"


def test_a_worker_cannot_publish_or_list_versions(client, gis_token, make_user, token_for):
    draft = upload(client, gis_token, grid_bytes()).get_json()["id"]
    worker = token_for(make_user("worker"))
    assert publish(client, worker, draft).status_code == 403
    assert client.get("/api/v1/grids", headers=auth(worker)).status_code == 403
    assert (
        client.get(f"/api/v1/grid/cells?version={draft}", headers=auth(worker)).status_code == 403
    )


def test_a_lower_level_file_attaches_to_the_published_grid(client, gis_token):
    upload_and_publish(client, gis_token)
    lower = [f for f in grid_features() if f["properties"]["code"].startswith("R1-B1-")]
    lower[0]["properties"]["name"] = "新名字"
    alone = upload(client, gis_token, grid_bytes(lower)).get_json()["report"]
    assert "parent_not_found" in alone["counts_by_rule"]
    attached = upload(client, gis_token, grid_bytes(lower), attach_to_published=True).get_json()
    assert not attached["report"]["has_errors"] and attached["report"]["carried_over"] == 13
    diff = client.get(f"/api/v1/grids/{attached['id']}/diff", headers=auth(gis_token)).get_json()[
        "diff"
    ]
    assert diff["renamed"] == [["R1-B1-G1", "格R1-B1-G1", "新名字"]] and diff["removed"] == []


def _today():
    import datetime as dt
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_the_demo_district_exports_and_reimports_clean_and_unchanged(
    client, make_user, token_for, db_session
):
    from server.demo.loader import load_demo

    load_demo(db_session)
    db_session.commit()
    gis_token = token_for(make_user("gis", "gis.tester"))
    published = db_session.scalar(
        select(GridVersion.id).where(GridVersion.status == GridStatus.PUBLISHED)
    )
    exported = client.get(f"/api/v1/grids/{published}/export", headers=auth(gis_token))
    again = upload(client, gis_token, exported.data).get_json()
    assert again["report"]["error_count"] == 0, again["report"]["problems"]
    diff = client.get(f"/api/v1/grids/{again['id']}/diff", headers=auth(gis_token)).get_json()
    assert diff["diff"]["is_empty"] and diff["diff"]["median_shift_m"] == 0
    result = publish(client, gis_token, again["id"]).get_json()
    assert result["moved_cases"] == 0  # the same cells: every open demo case stays put
