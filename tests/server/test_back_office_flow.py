"""The dispatcher's whole flow through the pages: intake → open → dispatch → handle → check →
close → rating, with the refusals of steps a role may not take and of invalid transitions."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.cases.models import Case, CaseEvent
from server.enums import CaseStatus, Placement
from server.extensions import db
from tests.server.backoffice_world import IN_G1, T0, post_form
from tests.server.conftest import signed_in


def intake(client, world, **overrides):
    data = {
        "channel": "hotline",
        "caller_name": "王阿姨",
        "caller_phone": "13900000329",
        "catalogue_item_id": str(world.items["A05-01"].id),
        "priority": "urgent",
        "description": "弄口地面电线外皮破损裸露,将有强降雨",
        "address": "新华路329弄弄口",
        "lon": str(IN_G1[0]),
        "lat": str(IN_G1[1]),
    }
    data.update(overrides)
    return post_form(client, "/cases/new", data, token_from="/cases/new")


def step(client, case_id, to_status, note="", **extra):
    return post_form(
        client,
        f"/cases/{case_id}/step",
        {"to_status": to_status, "note": note, **extra},
        token_from="/cases/",
    )


def reload(case_id):
    db.session.expire_all()
    return db.session.get(Case, case_id)


def test_the_whole_dispatcher_flow_with_refusals(app, world):
    desk, other_desk = signed_in(app, "d1"), signed_in(app, "d2")
    handler, deputy, manager = signed_in(app, "w1"), signed_in(app, "w2"), signed_in(app, "mgr")

    # Intake: located and assigned at once, and the page says to whom.
    response = intake(desk, world)
    assert response.status_code == 302
    case_id = uuid.UUID(response.headers["Location"].rsplit("/", 1)[1])
    page = desk.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已分派给 周杰" in page
    case = reload(case_id)
    assert (case.status, case.cell_code, case.placement) == (
        CaseStatus.REPORTED,
        "G1",
        Placement.IN,
    )
    assert case.assignee_id == world.users["w1"].id
    assert case.unit_id == world.units["U-GD"].id
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "case_caller"))
    assert [(a.action, a.actor_id) for a in audit] == [("create", world.users["d1"].id)]
    assert "139****0329" in page and "13900000329" not in page  # masked until asked for

    # A worker may not open a case; a dispatcher may not close one that was never handled.
    assert step(handler, case_id, "opened").status_code == 403
    assert step(desk, case_id, "closed").status_code == 409
    assert step(desk, case_id, "opened", "核实属实").status_code == 303

    # Dispatch: managers may not. An urgent matter's clock started at intake: the deadline is
    # the item's urgent limit from then, and dispatching three minutes later keeps it.
    world.clock.advance(minutes=3)
    assert step(manager, case_id, "dispatched", unit_id=world.units["U-GD"].id).status_code == 403
    assert (
        step(desk, case_id, "dispatched", "紧急派遣", unit_id=world.units["U-GD"].id).status_code
        == 303
    )
    case = reload(case_id)
    assert (case.due_at - case.reported_at).total_seconds() == 2 * 3600
    assert case.due_at == T0 + dt.timedelta(hours=2)

    # Handling belongs to the assignee (or the centre); the deputy may not start it.
    assert step(deputy, case_id, "handling").status_code == 403
    assert step(handler, case_id, "handling").status_code == 303
    world.clock.advance(minutes=90)
    assert step(handler, case_id, "handled").status_code == 422  # says what was done
    assert step(handler, case_id, "handled", "已更换电缆").status_code == 303

    # The handler cannot check their own case; the deputy (covering G1) sends it back.
    response = step(handler, case_id, "closed", "自查")
    assert response.status_code == 403
    assert "处置人不能核查自己处置的案件" in response.get_data(as_text=True)
    assert step(deputy, case_id, "handling", "").status_code == 422  # rework needs a reason
    assert step(deputy, case_id, "handling", "线头未包扎").status_code == 303
    assert reload(case_id).rework_count == 1
    assert step(handler, case_id, "handled", "已包扎").status_code == 303
    assert step(deputy, case_id, "closed", "现场核查通过").status_code == 303
    case = reload(case_id)
    assert case.status == CaseStatus.CLOSED and case.closed_by_id == world.users["w2"].id

    # Rating through a one-time link, by a resident with no account.
    response = post_form(
        other_desk, f"/cases/{case_id}/rating", {"mode": "link"}, token_from="/cases/"
    )
    assert response.status_code == 303
    link = parse_qs(urlparse(response.headers["Location"]).query)["rating_link"][0]
    code = link.rsplit("/", 1)[-1]
    resident = app.test_client()
    assert "评价处置结果" in resident.get(f"/rate/{code}").get_data(as_text=True)
    assert (
        post_form(
            resident, f"/rate/{code}", {"score": "4", "comment": "很快"}, token_from=f"/rate/{code}"
        ).status_code
        == 200
    )
    case = reload(case_id)
    assert (case.status, case.satisfaction) == (CaseStatus.EVALUATED, 4)
    spent = resident.get(f"/rate/{code}")  # the code is spent: the page says the rating is in
    assert spent.status_code == 409
    assert "此链接已使用过,案件已评价。" in spent.get_data(as_text=True)

    # Every step is on the timeline with its actor.
    kinds = [
        (e.kind, e.actor_id is not None)
        for e in db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        )
    ]
    assert [k for k, _ in kinds] == [
        "reported",
        "open",
        "dispatch",
        "start",
        "feedback",
        "rework",
        "feedback",
        "close",
        "evaluate",
    ]
    assert [has for k, has in kinds if k != "evaluate"] == [True] * 8


def test_a_worker_records_the_rating_of_a_closed_case(app, world):
    desk, deputy = signed_in(app, "d1"), signed_in(app, "w2")
    case_id = uuid.UUID(intake(desk, world).headers["Location"].rsplit("/", 1)[1])
    for to, note in (("opened", ""), ("dispatched", ""), ("handled", "好了")):
        assert step(desk, case_id, to, note, unit_id=world.units["U-GD"].id).status_code == 303
    # d1 recorded the feedback, so d1 is a handler now: another person checks.
    assert step(desk, case_id, "closed", "ok").status_code == 403
    assert step(deputy, case_id, "closed", "ok").status_code == 303
    assert (
        post_form(
            deputy, f"/cases/{case_id}/rating", {"score": "5"}, token_from="/cases/"
        ).status_code
        == 303
    )
    assert reload(case_id).satisfaction == 5
    # A second rating is refused.
    assert (
        post_form(
            deputy, f"/cases/{case_id}/rating", {"score": "1"}, token_from="/cases/"
        ).status_code
        == 409
    )


def test_a_report_that_does_not_qualify_is_cancelled_with_a_reason(app, world):
    desk = signed_in(app, "d1")
    case_id = uuid.UUID(intake(desk, world).headers["Location"].rsplit("/", 1)[1])
    assert step(desk, case_id, "cancelled").status_code == 422
    assert step(desk, case_id, "cancelled", "不属于受理范围").status_code == 303
    case = reload(case_id)
    assert (case.status, case.cancel_reason) == (CaseStatus.CANCELLED, "不属于受理范围")
    assert step(desk, case_id, "opened").status_code == 409


def test_a_point_outside_the_grid_waits_unplaced_and_is_placed_by_hand(app, world):
    desk = signed_in(app, "d1")
    response = intake(desk, world, lon="121.50", lat="31.30")
    case_id = uuid.UUID(response.headers["Location"].rsplit("/", 1)[1])
    case = reload(case_id)
    assert (case.placement, case.cell_code, case.assignee_id) == (Placement.UNPLACED, None, None)
    assert "未落格" in desk.get("/cases/?view=unplaced").get_data(as_text=True)
    assert (
        post_form(
            desk, f"/cases/{case_id}/locate", {"lon": str(IN_G1[0]), "lat": str(IN_G1[1])}
        ).status_code
        == 303
    )
    assert reload(case_id).cell_code == "G1"


def test_intake_refuses_a_form_without_description_and_keeps_what_was_typed(app, world):
    desk = signed_in(app, "d1")
    response = intake(desk, world, description="")
    assert response.status_code == 422
    assert "13900000329" in response.get_data(as_text=True)
    assert db.session.scalar(select(Case.id)) is None


def test_the_caller_shown_in_full_is_logged(app, world):
    desk = signed_in(app, "d2")
    case_id = intake(signed_in(app, "d1"), world).headers["Location"].rsplit("/", 1)[1]
    page = desk.get(f"/cases/{case_id}?reveal=caller").get_data(as_text=True)
    assert "13900000329" in page
    reads = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "read"))
    assert [(a.subject_type, a.actor_id) for a in reads] == [("case_caller", world.users["d2"].id)]


@pytest.mark.parametrize("query", ["dxps", "电线"])
def test_the_catalogue_is_found_by_pinyin_initials_or_chinese(app, world, query):
    desk = signed_in(app, "d1")
    found = desk.get(f"/cases/lookup/catalogue?q={query}").get_json()
    assert [f["code"] for f in found] == ["A05-01"]


def test_a_worker_sees_only_the_cases_of_cells_they_cover(app, world):
    desk = signed_in(app, "d1")
    g1 = intake(desk, world).headers["Location"].rsplit("/", 1)[1]
    g2 = intake(desk, world, lon="121.435", lat="31.21").headers["Location"].rsplit("/", 1)[1]
    w3 = signed_in(app, "w3")  # G2 only
    html = w3.get("/cases/").get_data(as_text=True)
    assert g2 in html and g1 not in html
    assert w3.get(f"/cases/{g1}").status_code == 404


def test_intake_with_photos_stores_them_and_shows_thumbnails(app, world):
    import io

    from PIL import Image

    from server.cases.models import PhotoLink
    from tests.server.backoffice_world import form_token

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, "JPEG")
    desk = signed_in(app, "d1")
    data = {
        "channel": "walk_in",
        "description": "井盖缺失",
        "lon": str(IN_G1[0]),
        "lat": str(IN_G1[1]),
        "csrf_token": form_token(desk, "/cases/new"),
        "photos": (io.BytesIO(buffer.getvalue()), "well.jpg"),
    }
    response = desk.post("/cases/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    case_id = uuid.UUID(response.headers["Location"].rsplit("/", 1)[1])
    link = db.session.scalar(select(PhotoLink).where(PhotoLink.case_id == case_id))
    assert link.purpose == "report"
    assert f"/api/v1/photos/{link.photo_sha256}/thumb" in desk.get(f"/cases/{case_id}").get_data(
        as_text=True
    )
    # Stored in the same blob store as the phones' uploads, and shown to the desk.
    thumb = desk.get(f"/api/v1/photos/{link.photo_sha256}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    thumb.close()
    bad = {
        **data,
        "photos": (io.BytesIO(b"not an image"), "x.jpg"),
        "csrf_token": form_token(desk, "/cases/new"),
    }
    assert desk.post("/cases/new", data=bad, content_type="multipart/form-data").status_code == 422


def test_a_manager_scores_staff_level_by_level(app, world):
    manager = signed_in(app, "mgr")
    response = post_form(
        manager,
        "/dashboard/evaluations",
        {
            "subject": f"user:{world.users['wb'].id}",
            "level": "block",
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
            "score": "92.5",
            "comment": "走访到位",
        },
        token_from="/dashboard/evaluations",
    )
    assert response.status_code == 303
    page = manager.get("/dashboard/evaluations").get_data(as_text=True)
    assert "王静" in page and "92.5" in page
    selfish = post_form(
        manager,
        "/dashboard/evaluations",
        {
            "subject": f"user:{world.users['mgr'].id}",
            "level": "street",
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
            "score": "100",
        },
        token_from="/dashboard/evaluations",
    )
    assert selfish.status_code == 422
    assert signed_in(app, "d1").get("/dashboard/evaluations").status_code == 403
