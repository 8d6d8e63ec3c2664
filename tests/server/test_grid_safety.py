"""Safe grid publishing through the API: a displaced draft is caught, named and fixed in one
call; a moved grid needs an acknowledgement (audited); publishing shows what it moves first."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from server.audit.models import AuditEntry
from server.cases.models import Case, CaseEvent
from server.enums import CaseStatus, Channel, GridStatus
from server.grid import assignment
from server.grid.index import index_cache
from server.grid.models import GridImportJob, GridUpload, GridVersion
from server.grid.operations import assign_duty
from server.population.models import Household, Resident
from tests.server.conftest import csrf_token
from tests.server.grid_files import (
    LAT0,
    LON0,
    auth,
    grid_bytes,
    grid_features,
    publish,
    surveyors_features,
    upload,
    upload_and_publish,
)
from tests.server.test_grid_pages import signed_in


@pytest.fixture
def gis_token(make_user, token_for):
    return token_for(make_user("gis", "sun.li"))


def published_id(db_session) -> int | None:
    db_session.expire_all()
    return db_session.scalar(
        select(GridVersion.id).where(GridVersion.status == GridStatus.PUBLISHED)
    )


def shifted(features: list[dict], dlon: float) -> list[dict]:
    for feature in features:
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"][0] = [[x + dlon, y] for x, y in ring]
    return features


@pytest.fixture
def demo_as_gcj02(client, make_user, token_for, db_session):
    """The demo district, and its published grid exported (WGS-84) and uploaded as GCJ-02:
    returns (token, the published version, the upload's answer)."""
    from server.demo.loader import load_demo

    load_demo(db_session)
    db_session.commit()
    token = token_for(make_user("gis", "gis.tester"))
    live = published_id(db_session)
    exported = client.get(f"/api/v1/grids/{live}/export", headers=auth(token)).data
    return token, live, upload(client, token, exported, datum="gcj02")


def test_the_reproduction_is_blocked_named_and_fixed_by_a_one_click_reimport(
    client, db_session, demo_as_gcj02
):
    """WGS-84 file, GCJ-02 chosen: on main this showed 0 warnings and "+749 m²"."""
    token, live, response = demo_as_gcj02
    assert response.status_code == 201
    report = response.get_json()["report"]
    found = report["problems"][0]
    assert found["rule"] == "grid_displaced" and found["severity"] == "blocking"
    assert report["blocking_count"] == 1 and not report["has_errors"]
    assert "看起来是把 WGS-84 坐标声明成了 GCJ-02" in found["message_zh"]
    assert "about" not in found["message_zh"] and "约 488 米" in found["message_zh"]
    assert 480 < report["displacement"]["median_shift_m"] < 495
    assert found["data"]["actions"][0]["options"] == {"datum": "wgs84"}
    draft = response.get_json()["id"]

    diff = client.get(f"/api/v1/grids/{draft}/diff", headers=auth(token)).get_json()["diff"]
    assert 480 < diff["median_shift_m"] < 495
    street = next(r for r in diff["reshaped"] if r["code"] == "310105004")
    assert street["symmetric_difference_m2"] > 1_000_000 and abs(street["area_change_m2"]) < 1000

    refused = publish(client, token, draft)
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "grid_displaced"
    assert refused.get_json()["field"] == "acknowledge_displacement"
    assert published_id(db_session) == live

    again = client.post(
        "/api/v1/grids/imports",
        data={"upload_id": report["upload_id"], "datum": "wgs84"},
        headers=auth(token),
    )
    assert again.status_code == 201, again.get_json()
    fixed = again.get_json()
    assert fixed["report"]["blocking_count"] == 0 and fixed["report"]["problems"] == []
    assert fixed["report"]["upload_id"] == report["upload_id"]
    assert db_session.scalar(select(func.count()).select_from(GridUpload)) == 2  # demo + this
    same = client.get(f"/api/v1/grids/{fixed['id']}/diff", headers=auth(token)).get_json()
    assert same["diff"]["is_empty"]
    done = publish(client, token, fixed["id"])
    assert done.status_code == 200 and done.get_json()["moved_cases"] == 0


def test_the_dry_run_of_the_displaced_demo_draft_counts_what_it_would_move_and_changes_nothing(
    client, db_session, demo_as_gcj02
):
    token, live, response = demo_as_gcj02
    draft = response.get_json()["id"]
    before = db_session.execute(select(Case.id, Case.cell_code, Case.assignee_id)).all()
    events = db_session.scalar(select(func.count()).select_from(CaseEvent))
    impact = client.get(f"/api/v1/grids/{draft}/impact", headers=auth(token)).get_json()
    assert impact["against_version_id"] == live and impact["version_id"] == draft
    assert 0 < impact["cases_moving"] <= impact["open_cases"]
    assert impact["households_moving"] > 100 and impact["residents_moving"] > 200
    assert impact["duties_orphaned"] == 0  # same codes: duties stay, the territory moved
    assert impact["displacement"]["blocking"] and impact["diff"]["median_shift_m"] > 480
    db_session.expire_all()
    assert db_session.execute(select(Case.id, Case.cell_code, Case.assignee_id)).all() == before
    assert db_session.scalar(select(func.count()).select_from(CaseEvent)) == events


def test_a_genuinely_moved_grid_is_published_only_with_a_reason_that_goes_to_the_audit_log(
    client, gis_token, db_session
):
    first = upload_and_publish(client, gis_token)
    moved = upload(client, gis_token, grid_bytes(shifted(grid_features(), 0.003))).get_json()
    found = moved["report"]["problems"][0]
    assert found["rule"] == "grid_displaced" and found["data"]["actions"] == []
    assert moved["report"]["displacement"]["suspect"] is None
    assert "外轮廓也移动了约 286 米" in found["message_zh"]
    no_reason = client.post(
        f"/api/v1/grids/{moved['id']}/publish",
        json={"acknowledge_displacement": True, "reason": "  "},
        headers=auth(gis_token),
    )
    assert no_reason.status_code == 422 and no_reason.get_json()["field"] == "reason"
    assert published_id(db_session) == first
    done = publish(client, gis_token, moved["id"], "街道与虹桥街道边界调整，整体东移")
    assert done.status_code == 200 and done.get_json()["displacement"]["blocking"]
    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == "grid_version").order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.subject_id) for e in entries] == [
        ("publish", str(first)),
        ("publish_displaced", str(moved["id"])),
    ]
    assert entries[1].detail["acknowledgement"] == "街道与虹桥街道边界调整，整体东移"
    assert entries[1].detail["displacement"]["median_shift_m"] > 280
    assert entries[1].actor_id is not None


def test_a_small_edit_and_a_single_moved_cell_publish_without_any_acknowledgement(
    client, gis_token
):
    upload_and_publish(client, gis_token)
    features = grid_features()
    # the wall between two building groups of R2-B2 moves 10 m east: both cells change
    edge = LON0 + 0.02 * 0.75
    for code in ("R2-B2-G1", "R2-B2-G2"):
        group = next(f for f in features if f["properties"]["code"] == code)
        ring = group["geometry"]["coordinates"][0]
        group["geometry"]["coordinates"][0] = [
            [x + 0.0001 if abs(x - edge) < 1e-9 else x, y] for x, y in ring
        ]
    edited = upload(client, gis_token, grid_bytes(features)).get_json()
    assert edited["report"]["blocking_count"] == 0
    assert edited["report"]["displacement"]["median_shift_m"] == 0
    diff = client.get(f"/api/v1/grids/{edited['id']}/diff", headers=auth(gis_token)).get_json()
    reshaped = diff["diff"]["reshaped"]
    assert [r["code"] for r in reshaped] == ["R2-B2-G1", "R2-B2-G2"]
    assert all(0 < r["centroid_shift_m"] < 10 for r in reshaped)
    assert all(r["symmetric_difference_m2"] > 1000 for r in reshaped)
    assert publish(client, gis_token, edited["id"]).status_code == 200


def test_the_dry_run_counts_cases_duties_and_households_and_publish_moves_exactly_those(
    app, client, gis_token, db_session, make_user
):
    for name in ("worker.a", "worker.b", "worker.c"):
        make_user("worker", name)
    first = upload_and_publish(client, gis_token)
    today = _today()
    for code, name in (("R1", "worker.a"), ("R2", "worker.b"), ("R1-B2-G2", "worker.c")):
        assign_duty(
            db_session, None, cell_code=code, username=name, role="grid_worker", starts_on=today
        )
    grid = index_cache(app).current(db_session).index
    # 0.45 of the width: in R1 now, in R2 once the boundary moves to 0.4
    for number, lon in (("XH-1", LON0 + 0.02 * 0.45), ("XH-2", LON0 + 0.001)):
        case = Case(
            number=number,
            channel=Channel.PATROL,
            status=CaseStatus.DISPATCHED,
            lon=lon,
            lat=LAT0 + 0.002,
        )
        db_session.add(case)
        assignment.place_new_case(db_session, case, grid, on=today)
    db_session.commit()
    crossing = Household(
        address="新华路 1 号",
        road="新华路",
        building="1",
        cell_code="R1-B1-G2",
        lon=LON0 + 0.02 * 0.45,
        lat=LAT0 + 0.002,
    )
    removed = Household(
        address="新华路 2 号", road="新华路", building="2", cell_code="R1-B2-G2", lon=None, lat=None
    )
    home = Household(
        address="新华路 3 号",
        road="新华路",
        building="3",
        cell_code="R1-B1-G1",
        lon=LON0 + 0.001,
        lat=LAT0 + 0.002,
    )
    db_session.add_all([crossing, removed, home])
    db_session.flush()
    db_session.add_all(
        [
            Resident(household_id=h.id, name=f"居民{i}", gender="F")
            for i, h in enumerate([crossing, crossing, removed, home])
        ]
    )
    db_session.commit()
    features = [f for f in grid_features(split=0.4) if f["properties"]["code"] != "R1-B2-G2"]
    draft = upload(client, gis_token, grid_bytes(features)).get_json()["id"]
    impact = client.get(f"/api/v1/grids/{draft}/impact", headers=auth(gis_token)).get_json()
    assert impact["against_version_id"] == first and impact["open_cases"] == 2
    assert (impact["cases_moving"], impact["cases_leaving_grid"]) == (1, 0)
    assert (impact["cases_changing_hands"], impact["people_of_cases"]) == (1, 2)
    assert (impact["duties_orphaned"], impact["people_orphaned"]) == (1, 1)
    assert (impact["households_moving"], impact["residents_moving"]) == (2, 3)
    assert impact["removed_cells_with_households"] == ["R1-B2-G2"]
    result = publish(client, gis_token, draft, "居民区边界西移").get_json()
    assert result["moved_cases"] == impact["cases_moving"]


def _today():
    from server.grid.api import today

    return today()


def swapped_bytes() -> bytes:
    features = grid_features()
    for feature in features:
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"][0] = [[y, x] for x, y in ring]
    return grid_bytes(features)


def test_a_swapped_axes_file_is_one_problem_and_is_read_again_from_the_stored_upload(
    client, gis_token, db_session
):
    refused = upload(client, gis_token, swapped_bytes())
    assert refused.status_code == 422 and refused.get_json()["code"] == "grid_unreadable"
    report = refused.get_json()["details"]["report"]
    (found,) = report["problems"]
    assert found["rule"] == "axes_swapped" and found["data"]["count"] == 15
    assert found["data"]["actions"][0]["options"] == {"datum": "wgs84", "swap_axes": True}
    upload_id = refused.get_json()["details"]["upload_id"]
    assert upload_id == report["upload_id"] and upload_id is not None
    again = client.post(
        "/api/v1/grids/imports",
        data={"upload_id": upload_id, "datum": "wgs84", "swap_axes": "true"},
        headers=auth(gis_token),
    )
    assert again.status_code == 201 and again.get_json()["report"]["problems"] == []
    assert again.get_json()["report"]["options"]["swap_axes"] is True
    assert db_session.scalar(select(func.count()).select_from(GridUpload)) == 1
    original = client.get(f"/api/v1/grids/uploads/{upload_id}", headers=auth(gis_token))
    assert original.status_code == 200 and original.data == swapped_bytes()


def test_a_file_without_levels_is_read_again_with_levels_from_its_codes(client, gis_token):
    features = surveyors_features()
    refused = upload(client, gis_token, grid_bytes(features))
    assert refused.status_code == 422
    report = refused.get_json()["details"]["report"]
    (absent,) = [p for p in report["problems"] if p["rule"] == "level_absent"]
    assert absent["data"]["preview"]["counts"] == {
        "street": 1,
        "residential_area": 2,
        "block": 4,
        "building_group": 8,
    }
    again = client.post(
        "/api/v1/grids/imports",
        data={"upload_id": report["upload_id"], "level_from_code": "true"},
        headers=auth(gis_token),
    )
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["report"]["problems"] == []
    assert again.get_json()["report"]["level_preview"]["counts"]["block"] == 4
    path = client.get(
        f"/api/v1/grid/cells?version={again.get_json()['id']}&level=building_group",
        headers=auth(gis_token),
    ).get_json()["features"][0]["properties"]
    assert path["parent_code"] == path["code"].rsplit("-", 1)[0]


def test_a_file_of_building_groups_without_levels_attaches_with_a_default_level(client, gis_token):
    upload_and_publish(client, gis_token)
    groups = [f for f in grid_features() if f["properties"]["level"] == "building_group"]
    for feature in groups:
        del feature["properties"]["level"]
    response = upload(
        client,
        gis_token,
        grid_bytes(groups),
        default_level="building_group",
        attach_to_published=True,
    )
    assert response.status_code == 201 and response.get_json()["report"]["problems"] == []


@pytest.mark.parametrize(
    ("form", "with_file", "status", "field"),
    [
        ({"upload_id": 999}, False, 404, "upload_id"),
        ({"upload_id": 10**20}, False, 422, "upload_id"),
        ({"upload_id": 1}, True, 422, "upload_id"),
        ({"default_level": "district"}, True, 422, "default_level"),
        ({}, False, 422, "file"),
    ],
    ids=["unknown-upload", "huge-upload-id", "file-and-upload", "unknown-level", "nothing"],
)
def test_bad_reimport_requests_are_refused_naming_the_field_and_store_nothing(
    client, gis_token, db_session, form, with_file, status, field
):
    data = dict(form)
    if with_file:
        data["file"] = (__import__("io").BytesIO(grid_bytes()), "grid.geojson")
    response = client.post(
        "/api/v1/grids/imports",
        data=data,
        headers=auth(gis_token),
        content_type="multipart/form-data",
    )
    assert response.status_code == status, response.get_json()
    assert response.get_json()["field"] == field
    assert db_session.scalar(select(func.count()).select_from(GridVersion)) == 0
    assert db_session.scalar(select(func.count()).select_from(GridUpload)) == 0


def test_workers_see_no_dry_run_and_no_uploaded_file(client, gis_token, make_user, token_for):
    version = upload_and_publish(client, gis_token)
    upload_id = client.get(f"/api/v1/grids/{version}", headers=auth(gis_token)).get_json()[
        "report"
    ]["upload_id"]
    worker = token_for(make_user("worker"))
    assert client.get(f"/api/v1/grids/{version}/impact", headers=auth(worker)).status_code == 403
    assert client.get(f"/api/v1/grids/uploads/{upload_id}", headers=auth(worker)).status_code == 403
    missing = client.get("/api/v1/grids/999/impact", headers=auth(gis_token))
    assert missing.status_code == 404


def test_a_background_reimport_reads_the_stored_upload_in_a_job(client, gis_token, db_session):
    upload_and_publish(client, gis_token)
    wrong = upload(client, gis_token, grid_bytes(), datum="bd09").get_json()
    assert wrong["report"]["problems"][0]["data"]["actions"][0]["options"] == {"datum": "wgs84"}
    started = client.post(
        "/api/v1/grids/imports",
        data={"upload_id": wrong["report"]["upload_id"], "datum": "wgs84", "background": "true"},
        headers=auth(gis_token),
    )
    assert started.status_code == 202
    for _ in range(200):
        job = client.get(started.headers["Location"], headers=auth(gis_token)).get_json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert job["state"] == "done" and job["report"]["problems"] == []
    row = db_session.scalar(select(GridImportJob))
    db_session.refresh(row)
    assert row.upload_id == wrong["report"]["upload_id"]


def test_an_old_draft_is_measured_against_whatever_is_published_now(client, gis_token):
    """A draft imported before the published version changed is measured again at publish."""
    draft = upload(client, gis_token, grid_bytes()).get_json()
    assert draft["report"]["displacement"] is None  # nothing published when it came in
    upload_and_publish(client, gis_token, grid_bytes(shifted(grid_features(), 0.003)))
    refused = publish(client, gis_token, draft["id"])
    assert refused.status_code == 422 and refused.get_json()["code"] == "grid_displaced"
    measured = refused.get_json()["details"]["displacement"]
    assert measured["against_version_id"] != draft["id"] and measured["median_shift_m"] > 280
    assert json.loads(json.dumps(measured)) == measured


def test_a_huge_upload_id_in_the_path_or_the_reimport_form_is_a_404(client, gis_token, make_user):
    huge = 10**20
    assert client.get(f"/api/v1/grids/uploads/{2**31}", headers=auth(gis_token)).status_code == 404
    signed_in(client, make_user, username="gis.page")
    token = csrf_token(client, "/grids/")
    response = client.post("/grids/reimport", data={"csrf_token": token, "upload_id": str(huge)})
    assert response.status_code == 404
