"""Review queue and merging duplicates, the map feeds, visits oversight, conflicts, audit."""

from __future__ import annotations

import datetime as dt
import io
import uuid

from PIL import Image
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.cases.models import Case, PhotoLink
from server.cases.photo_links import store_upload
from server.enums import CaseStatus, Channel, PhotoProof, Placement
from server.extensions import db
from server.population.models import CareTag, Household, Resident, ResidentTag, Visit
from tests.server.backoffice_world import IN_G1, T0, post_form
from tests.server.conftest import login


def png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "PNG")
    return buffer.getvalue()


def field_report(world, n, *, lon, lat, offset_h=0.0, colour="red"):
    """A report as the sync engine stores it: patrol, reporter, device time, a photo."""
    case = Case(
        id=uuid.uuid4(),
        number=f"XH-F-{n}",
        channel=Channel.PATROL,
        status=CaseStatus.REPORTED,
        title="垃圾堆积",
        description="楼下垃圾",
        catalogue_item_id=world.items["A01-01"].id,
        lon=lon,
        lat=lat,
        cell_code="G1",
        placement=Placement.IN,
        reporter_id=world.users["w1" if n % 2 else "w2"].id,
        reported_at=T0,
        recorded_at_device=T0 + dt.timedelta(hours=offset_h),
    )
    db.session.add(case)
    photo = store_upload(db.session, png(colour))
    db.session.flush()
    db.session.add(
        PhotoLink(
            photo_sha256=photo.sha256,
            case_id=case.id,
            purpose="report",
            added_by_id=case.reporter_id,
            proof=PhotoProof.UPLOAD,  # the reporter's phone sent the bytes
        )
    )
    db.session.commit()
    return case


def signed_in(app, username):
    client = app.test_client()
    login(client, username)
    return client


def test_the_review_queue_shows_photos_clock_offsets_and_duplicates(app, world):
    first = field_report(world, 1, lon=IN_G1[0], lat=IN_G1[1], offset_h=72, colour="red")
    field_report(world, 2, lon=IN_G1[0] + 0.0002, lat=IN_G1[1], colour="blue")  # ~19 m away
    field_report(world, 3, lon=IN_G1[0] + 0.002, lat=IN_G1[1], colour="green")  # ~190 m away
    html = signed_in(app, "d1").get("/cases/?view=review").get_data(as_text=True)
    assert html.count("/thumb") == 3
    assert "设备时钟偏差 3天0小时" in html
    assert "疑似重复: 1" in html
    thumb = signed_in(app, "d1").get(f"/api/v1/photos/{_sha(first)}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    thumb.close()


def _sha(case):
    return db.session.scalar(select(PhotoLink.photo_sha256).where(PhotoLink.case_id == case.id))


def test_merging_a_duplicate_keeps_every_report_photo_and_reporter(app, world):
    keep = field_report(world, 1, lon=IN_G1[0], lat=IN_G1[1], colour="red")
    dup = field_report(world, 2, lon=IN_G1[0] + 0.0002, lat=IN_G1[1], colour="blue")
    desk = signed_in(app, "d1")
    response = post_form(desk, f"/cases/{dup.id}/merge", {"into": str(keep.id)})
    assert response.status_code == 303
    db.session.expire_all()
    dup, keep = db.session.get(Case, dup.id), db.session.get(Case, keep.id)
    assert (dup.status, dup.merged_into_id) == (CaseStatus.CANCELLED, keep.id)
    shas = set(
        db.session.scalars(select(PhotoLink.photo_sha256).where(PhotoLink.case_id == keep.id))
    )
    assert len(shas) == 2
    page = desk.get(f"/cases/{keep.id}").get_data(as_text=True)
    assert "已合并到本案件的上报" in page and dup.number in page and "吴芳" in page


def test_the_map_feeds_cells_by_level_cases_by_filter_and_a_cell_card(app, world):
    field_report(world, 1, lon=IN_G1[0], lat=IN_G1[1])
    client = signed_in(app, "d1")
    cells = client.get("/map/cells.geojson?level=building_group").get_json()
    assert sorted(f["properties"]["code"] for f in cells["features"]) == ["G1", "G2"]
    assert client.get("/map/cases.geojson?status=reported").get_json()["features"]
    assert client.get("/map/cases.geojson?status=closed").get_json()["features"] == []
    assert client.get("/map/cases.geojson?cell=G2").get_json()["features"] == []
    card = client.get("/map/cells/S-A1-B1").get_json()
    assert [p["name"] for p in card["people"]] == ["王静"]
    assert [c["number"] for c in card["open_cases"]] == ["XH-F-1"]
    assert client.get("/map/cells/NOPE").status_code == 404
    assert "big-map" in client.get("/map/").get_data(as_text=True)


def test_a_worker_gets_the_card_of_their_own_cells_only(app, world):
    """Another cell's card (its open cases, its people's phones) is the office's to see."""
    field_report(world, 1, lon=IN_G1[0], lat=IN_G1[1])  # an open case in G1
    world.users["w1"].phone = "13900000001"
    db.session.commit()
    own = signed_in(app, "w1").get("/map/cells/G1").get_json()
    assert not own["restricted"]
    assert [c["number"] for c in own["open_cases"]] == ["XH-F-1"]
    assert "13900000001" in [p["phone"] for p in own["people"]]
    for worker, code in (("w3", "G1"), ("w1", "G2"), ("w1", "S-A1-B1"), ("w3", "S")):
        card = signed_in(app, worker).get(f"/map/cells/{code}").get_json()
        assert card["restricted"], (worker, code)
        assert card["open_cases"] == [] and card["people"] == []
        assert "XH-F-1" not in str(card) and "13900000001" not in str(card)
        assert card["notice"] == "这不是您负责的网格,不显示其案件和责任人。"
    # A worker whose duty is the block sees the cards of its building groups too.
    assert not signed_in(app, "wb").get("/map/cells/G1").get_json()["restricted"]
    assert not signed_in(app, "d1").get("/map/cells/G2").get_json()["restricted"]
    assert signed_in(app, "w3").get("/map/cases.geojson").get_json()["features"] == []


def test_visits_oversight_counts_coverage_and_logs_who_read_the_visit_log(app, world):
    tag = CareTag(code="alone", name_zh="独居", name_en="alone", visit_every_days=7)
    db.session.add(tag)
    for name, cell, days_ago in (("H1", "G1", 2), ("H2", "G2", 20), ("H3", "G1", None)):
        home = Household(
            id=uuid.uuid4(),
            address=f"新华路{name}",
            road="新华路",
            building="1",
            cell_code=cell,
        )
        person = Resident(id=uuid.uuid4(), household=home, name=name, gender="F")
        db.session.add_all([home, person])
        db.session.flush()
        db.session.add(ResidentTag(resident_id=person.id, tag_code="alone"))
        if days_ago is not None:
            db.session.add(
                Visit(
                    household_id=home.id,
                    worker_id=world.users["w1"].id,
                    visited_at=T0 - dt.timedelta(days=days_ago),
                    situation="身体尚可",
                )
            )
    db.session.commit()
    manager = signed_in(app, "mgr")
    html = manager.get("/visits/").get_data(as_text=True)
    assert "33.3%" in html  # 1 of 3 key households visited within a week
    assert "从未走访" in html
    log = manager.get("/visits/log").get_data(as_text=True)
    assert "身体尚可" in log
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.subject_type == "visit_log"))
    assert entry.actor_id == world.users["mgr"].id and len(entry.detail["visits"]) == 2
    # A worker of G2 sees only G2's households and visits.
    worker = signed_in(app, "w3").get("/visits/log").get_data(as_text=True)
    assert "新华路H2" in worker and "新华路H1" not in worker


def test_the_conflicts_page_lists_both_values_and_authors_and_resolves(app, world):
    from server.cases import operations as cases
    from sync.models import CaseConflict
    from sync.versions import next_version

    case = field_report(world, 1, lon=IN_G1[0], lat=IN_G1[1])
    base = next_version(db.session)
    db.session.commit()
    for author, title in (("w1", "旧标题"), ("w2", "新标题")):
        cases.edit_fields(
            db.session,
            case,
            {"title": title},
            author_id=world.users[author].id,
            version=next_version(db.session),
            base_version=base,
        )
        db.session.commit()
    client = signed_in(app, "d1")
    html = client.get("/conflicts/").get_data(as_text=True)
    assert "旧标题" in html and "周杰" in html and "新标题" in html and "吴芳" in html
    assert "<td>标题</td>" in html and "<td>title</td>" not in html  # the field named, not coded
    conflict = db.session.scalar(select(CaseConflict))
    post_form(client, f"/conflicts/{conflict.id}/resolve", {"choice": "earlier"})
    db.session.expire_all()
    resolved = db.session.get(CaseConflict, conflict.id)
    assert resolved.resolution == "earlier"
    assert resolved.resolved_by_id == world.users["d1"].id
    assert db.session.get(Case, case.id).title == "旧标题"
    assert "旧标题" not in client.get("/conflicts/").get_data(as_text=True).split("<main")[1]


def test_the_audit_trail_is_for_administrators_only(app, world):
    assert signed_in(app, "d1").get("/audit/").status_code == 403
    assert signed_in(app, "admin").get("/audit/").status_code == 200
