"""The push/pull protocol's promises (design notes §4.1, P1–P11), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from server.cases.models import Case, CaseEvent, Photo, PhotoLink
from server.enums import CaseStatus, PhotoProof, PhotoStatus
from server.extensions import db
from server.photos import access
from server.photos.models import Upload, UploadStatus
from server.population.models import Visit
from sync.models import CaseConflict, DeviceState, MutationRecord, SyncMark
from tests.sync.conftest import (
    INSIDE_G1,
    OUTSIDE,
    count,
    make_case,
    office_assign,
    office_close,
    office_edit,
    visit_args,
)

SHA = "ab" * 32


def _snapshot() -> tuple[int, int, int]:
    db.session.expire_all()
    return (count(Visit), count(MutationRecord), count(CaseEvent))


# --- P1 replay ------------------------------------------------------------------------------


def test_replaying_a_batch_three_times_changes_nothing_after_the_first(phone, world):
    p = phone()
    for i in range(50):
        p.add("visit.create", visit_args(world.households["G1"][i % 3]))
    batch = list(p.outbox)
    first = p.push_raw(batch).get_json()
    assert first["last_seq"] == 50
    assert {r["status"] for r in first["results"]} == {"applied"}
    after_first = _snapshot()
    for _ in range(2):
        again = p.push_raw(batch).get_json()
        assert again["last_seq"] == 50
        assert {r["status"] for r in again["results"]} == {"duplicate"}
        assert [r["version"] for r in again["results"]] == [r["version"] for r in first["results"]]
        assert _snapshot() == after_first
    assert after_first[0] == 50


# --- P2 gaps ---------------------------------------------------------------------------------


def test_a_gap_applies_what_comes_before_it_and_names_the_expected_seq(phone, world):
    p = phone()
    for _ in range(4):
        p.add("visit.create", visit_args(world.households["G1"][0]))
    batch = [p.outbox[0], p.outbox[1], p.outbox[3]]
    body = p.push_raw(batch).get_json()
    assert body["last_seq"] == 2
    assert body["expected"] == 3
    assert [r["seq"] for r in body["results"]] == [1, 2]
    assert count(Visit) == 2
    assert p.push()["last_seq"] == 4  # the app resends from 3
    assert count(Visit) == 4


# --- P3/P4 faults ------------------------------------------------------------------------------


@pytest.mark.parametrize("commit_every", [1, 100])
def test_a_failure_inside_the_transaction_commits_exactly_what_is_acknowledged(
    app, phone, world, commit_every
):
    app.config["SYNC_COMMIT_EVERY"] = commit_every

    def fault(point: str, seq: int) -> None:
        if point == "before_commit" and seq == 7:
            raise OperationalError("UPDATE", {}, Exception("database went away"))

    app.config["SYNC_FAULT_HOOK"] = fault
    p = phone()
    for _ in range(10):
        p.add("visit.create", visit_args(world.households["G1"][0]))
    response = p.push_raw(list(p.outbox))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    body = response.get_json()
    expected_last = 6 if commit_every == 1 else 0
    assert body["last_seq"] == expected_last
    db.session.expire_all()
    assert count(Visit) == expected_last
    assert db.session.get(DeviceState, p.device_id) is None or (
        db.session.get(DeviceState, p.device_id).last_seq == expected_last
    )
    app.config["SYNC_FAULT_HOOK"] = None
    assert p.push()["last_seq"] == 10
    assert count(Visit) == 10 and count(MutationRecord) == 10


def test_a_reply_lost_after_commit_is_answered_duplicate_on_retry(app, phone, world):
    lost = []

    def fault(point: str, seq: int) -> None:
        if point == "after_commit" and not lost:
            lost.append(seq)
            raise ConnectionResetError("the reply never reached the phone")

    app.config["SYNC_FAULT_HOOK"] = fault
    p = phone()
    for _ in range(5):
        p.add("visit.create", visit_args(world.households["G1"][0]))
    with pytest.raises(ConnectionResetError):
        p.push_raw(list(p.outbox))
    retry = p.push_raw(list(p.outbox)).get_json()
    assert retry["last_seq"] == 5
    assert {r["status"] for r in retry["results"]} == {"duplicate"}
    assert {r["original_status"] for r in retry["results"]} == {"applied"}
    assert count(Visit) == 5 and count(MutationRecord) == 5


def test_the_same_op_id_under_another_seq_is_rejected_never_applied_twice(phone, world):
    p = phone()
    m = p.add("visit.create", visit_args(world.households["G1"][0]))
    p.push()
    copy = {**m, "seq": 2}
    body = p.push_raw([copy]).get_json()
    assert body["results"][0]["status"] == "rejected"
    assert body["results"][0]["reason"]["code"] == "OP_ID_REUSED"
    assert body["last_seq"] == 2
    assert count(Visit) == 1


def test_a_bad_record_is_rejected_and_the_ones_after_it_still_apply(phone, world):
    p = phone()
    p.add("visit.create", visit_args(world.households["G1"][0]))
    p.add("visit.create", {"id": "not-a-uuid"})
    p.add("visit.nonsense", {})
    p.add("visit.create", visit_args(world.households["G1"][1]))
    body = p.push()
    assert [r["status"] for r in body["results"]] == ["applied", "rejected", "rejected", "applied"]
    assert body["results"][1]["reason"]["code"] == "INVALID_ARGS"
    assert body["results"][2]["reason"]["code"] == "UNKNOWN_MUTATION"
    assert body["last_seq"] == 4 and count(Visit) == 2


# --- P5/P6 parallel and conflicting edits -------------------------------------------------------


def _case_version(case_id: uuid.UUID) -> int:
    db.session.expire_all()
    return db.session.get(Case, case_id).version


def test_edits_of_different_fields_from_the_same_base_both_win(phone, world):
    case_id = make_case(db.session, world)
    base = _case_version(case_id)
    a, c = phone("wa"), phone("wc")
    a.add("case.set_fields", {"case_id": str(case_id), "changes": {"title": "A"}}, base)
    c.add("case.set_fields", {"case_id": str(case_id), "changes": {"address": "C"}}, base)
    a.push()
    result = c.push()["results"][0]
    assert result["status"] == "applied" and result["result"]["parallel"] is True
    assert "conflict" not in result
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert (case.title, case.address) == ("A", "C")
    assert count(CaseConflict) == 0


def test_the_same_field_from_two_people_keeps_the_later_and_records_both(client, phone, world):
    case_id = make_case(db.session, world)
    base = _case_version(case_id)
    a, c = phone("wa"), phone("wc")
    a.add("case.set_fields", {"case_id": str(case_id), "changes": {"title": "A"}}, base)
    c.add("case.set_fields", {"case_id": str(case_id), "changes": {"title": "C"}}, base)
    a.push()
    result = c.push()["results"][0]
    assert result["conflict"][0]["field"] == "title"
    db.session.expire_all()
    assert db.session.get(Case, case_id).title == "C"
    conflict = db.session.scalars(select(CaseConflict)).one()
    assert (conflict.earlier_value, conflict.later_value) == ("A", "C")
    assert (conflict.earlier_author_id, conflict.later_author_id) == (
        world.users["wa"].id,
        world.users["wc"].id,
    )
    # Both authors see it in their next pull.
    a.pull()
    assert next(iter(a.table("conflicts").values()))["field"] == "title"
    # The office resolves it by putting the earlier value back; who chose what is kept.
    office = phone("office")
    listed = client.get("/api/v1/sync/conflicts", headers=office.headers).get_json()
    assert [c["id"] for c in listed["conflicts"]] == [conflict.id]
    assert client.get("/api/v1/sync/conflicts", headers=a.headers).status_code == 403
    resolved = client.post(
        f"/api/v1/sync/conflicts/{conflict.id}/resolve",
        json={"choice": "earlier"},
        headers=office.headers,
    ).get_json()
    assert resolved["resolution"] == "earlier"
    assert resolved["resolved_by_id"] == world.users["office"].id
    db.session.expire_all()
    assert db.session.get(Case, case_id).title == "A"
    again = client.post(
        f"/api/v1/sync/conflicts/{conflict.id}/resolve",
        json={"choice": "later"},
        headers=office.headers,
    )
    assert again.status_code == 409
    assert (
        client.get("/api/v1/sync/conflicts", headers=office.headers).get_json()["conflicts"] == []
    )


def test_one_person_editing_the_same_field_twice_offline_is_no_conflict(phone, world):
    case_id = make_case(db.session, world)
    base = _case_version(case_id)
    a = phone("wa")
    a.add("case.set_fields", {"case_id": str(case_id), "changes": {"title": "A1"}}, base)
    a.add("case.set_fields", {"case_id": str(case_id), "changes": {"title": "A2"}}, base)
    a.push()
    assert count(CaseConflict) == 0
    assert db.session.get(Case, case_id).title == "A2"


# --- P7 close while offline ------------------------------------------------------------------


def test_a_case_closed_while_offline_rejects_the_transition_and_keeps_note_and_photo(phone, world):
    case_id = make_case(db.session, world, status=CaseStatus.HANDLING)
    a = phone("wa")
    a.pull()
    assert str(case_id) in a.table("cases")
    office_close(db.session, world, case_id)
    a.add("case.note", {"id": str(uuid.uuid4()), "case_id": str(case_id), "text": "fixed it"})
    a.add("photo.attach", {"sha256": SHA, "case_id": str(case_id), "purpose": "result"})
    a.add(
        "case.transition",
        {"case_id": str(case_id), "from": "handling", "to": "handled", "note": "done"},
    )
    a.add("visit.create", visit_args(world.households["G1"][0]))
    body = a.push()
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["applied", "applied", "rejected", "applied"]
    assert body["results"][2]["reason"]["code"] == "STATUS_CONFLICT"
    assert body["results"][2]["reason"]["details"] == {"current": "closed"}
    assert body["last_seq"] == 4
    db.session.expire_all()
    note = db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "note")).one()
    link = db.session.scalars(select(PhotoLink)).one()
    assert note.after_close and link.after_close
    assert db.session.get(Case, case_id).status == CaseStatus.CLOSED
    a.pull()
    rejections = list(a.table("rejections").values())
    assert [(r["seq"], r["code"]) for r in rejections] == [(3, "STATUS_CONFLICT")]
    assert str(case_id) not in a.table("cases")  # closed: no longer an open case


# --- P8 clocks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "device_now",
    [
        dt.datetime.now(dt.UTC) + dt.timedelta(days=3),
        dt.datetime.now(dt.UTC) - dt.timedelta(days=3),
        dt.datetime(1970, 1, 1, 0, 0, 5, tzinfo=dt.UTC),
    ],
    ids=["plus-3-days", "minus-3-days", "1970"],
)
def test_a_wrong_device_clock_is_recorded_and_flagged_but_never_orders_anything(
    phone, world, device_now
):
    case_id = make_case(db.session, world)
    base = _case_version(case_id)
    good, skewed = phone("wc"), phone("wa")
    skewed.device_now = device_now.isoformat()
    skewed.add(
        "case.set_fields",
        {"case_id": str(case_id), "changes": {"title": "skewed"}},
        base,
        recorded_at=device_now,
    )
    good.add("case.set_fields", {"case_id": str(case_id), "changes": {"title": "good"}}, base)
    skewed.push()
    good.push()  # arrives later, so it wins whatever the phones' clocks say
    db.session.expire_all()
    assert db.session.get(Case, case_id).title == "good"
    state = db.session.get(DeviceState, skewed.device_id)
    expected_ms = (device_now - dt.datetime.now(dt.UTC)).total_seconds() * 1000
    assert abs(state.last_clock_offset_ms - expected_ms) < 60_000
    assert state.clock_suspect
    record = db.session.scalars(
        select(MutationRecord).where(MutationRecord.device_id == skewed.device_id)
    ).one()
    assert record.clock_suspect and record.recorded_at_device == device_now
    assert not db.session.get(DeviceState, good.device_id).clock_suspect


# --- P9 reset -------------------------------------------------------------------------------


def test_a_push_from_an_unknown_device_is_told_to_reset(phone, world):
    a = phone()
    body = a.push_raw([], device_id=str(uuid.uuid4())).get_json()
    assert body["reset"] == "unknown_device"


def test_a_cursor_older_than_the_kept_history_gets_a_reset_and_the_rebuild_converges(phone, world):
    a = phone()
    a.pull()
    old_cursor = a.cursor
    a.add("visit.create", visit_args(world.households["G1"][0]))
    a.push()
    db.session.add(SyncMark(name="history_horizon", value=10**6))
    db.session.commit()
    a.cursor = old_cursor
    first = a.pull_page()
    assert first["reset"] == "cursor_too_old"
    db.session.get(SyncMark, "history_horizon").value = 0
    db.session.commit()
    a.pull()
    assert len(a.table("visits")) == 1
    assert len(a.table("households")) == 3


def test_an_unsupported_schema_version_is_refused_with_409(phone):
    response = phone().push_raw([], schema_version=99)
    assert response.status_code == 409
    assert response.get_json()["code"] == "schema_version_unsupported"


# --- P10 scope ------------------------------------------------------------------------------


def test_pushing_with_another_users_device_id_is_refused(phone):
    a, b = phone("wa"), phone("wb")
    response = a.push_raw([], device_id=str(b.device_id))
    assert response.status_code == 403
    assert response.get_json()["code"] == "device_not_yours"


def test_a_worker_cannot_touch_a_case_outside_their_scope(phone, world):
    other = make_case(db.session, world, cell="G2", assignee="wb")
    a = phone("wa")
    a.add("case.note", {"id": str(uuid.uuid4()), "case_id": str(other), "text": "hi"})
    a.add("case.set_fields", {"case_id": str(other), "changes": {"title": "x"}}, 1)
    a.add("visit.create", visit_args(world.households["G2"][0]))
    body = a.push()
    assert [r["reason"]["code"] for r in body["results"]] == ["NOT_IN_SCOPE"] * 3


def test_a_case_reassigned_away_comes_as_a_deletion(phone, world):
    case_id = make_case(db.session, world, cell=None, assignee="wa")
    a = phone("wa")
    a.pull()
    assert str(case_id) in a.table("cases")
    office_assign(db.session, world, case_id, "wb")
    body = a.pull()[-1]
    assert {"table": "cases", "op": "delete", "id": str(case_id)}.items() <= body["changes"][
        0
    ].items()
    assert str(case_id) not in a.table("cases")
    b = phone("wb")
    b.pull()
    assert str(case_id) in b.table("cases")


# --- P11 pagination --------------------------------------------------------------------------


def test_pages_never_skip_or_repeat_a_change_with_pushes_between_them(phone, world):
    a, c = phone("wa"), phone("wc")
    for _ in range(40):
        c.add("visit.create", visit_args(world.households["G1"][0]))
    c.push()
    case_ids = [make_case(db.session, world, title=f"t{i}") for i in range(10)]
    seen: set[tuple[str, str, int]] = set()
    pages = 0
    while True:
        body = a.pull_page(limit=3)
        pages += 1
        for change in body["changes"]:
            key = (change["table"], change["id"], change["version"])
            assert key not in seen
            seen.add(key)
        # Between pages: the office edits a case and another worker logs visits.
        if pages < 6:
            office_edit(db.session, world, case_ids[pages], title=f"edited {pages}")
            a2 = a.add("visit.create", visit_args(world.households["G1"][1]))
            a.push_raw([a2])
            a.acknowledge(a2["seq"])
        if not body["has_more"]:
            break
    db.session.expire_all()
    cases = a.table("cases")
    assert set(cases) == {str(i) for i in case_ids}
    for case_id in case_ids:
        assert cases[str(case_id)]["title"] == db.session.get(Case, case_id).title
    assert len(a.table("visits")) == 5
    assert len(a.table("households")) == 3 and len(a.table("residents")) == 3


# --- photo reports --------------------------------------------------------------------------


def test_a_photo_report_creates_a_located_case_and_lists_its_missing_photo(phone, world):
    a = phone("wa")
    case_id = str(uuid.uuid4())
    lon, lat = INSIDE_G1
    a.add(
        "case.report",
        {"id": case_id, "description": "垃圾堆放", "lon": lon, "lat": lat, "photos": [SHA]},
    )
    result = a.push()["results"][0]
    assert result["result"]["cell_code"] == "G1" and result["result"]["placement"] == "in"
    case = db.session.get(Case, uuid.UUID(case_id))
    assert case.status == CaseStatus.REPORTED and case.channel.value == "patrol"
    # Assigned at once to a grid worker of its cell (geo issue: 格中定人).
    assert case.assignee_id in {world.users["wa"].id, world.users["wc"].id}
    assert db.session.get(Photo, SHA).status == PhotoStatus.MISSING
    body = a.pull()[-1]
    assert body["missing_photos"] == [SHA]
    assert a.table("cases")[case_id]["photos"] == [SHA]
    # The bytes arrive on the tus side from the phone that named them (docs/photos.md).
    db.session.get(Photo, SHA).status = PhotoStatus.AVAILABLE
    db.session.add(
        Upload(
            device_id=a.device_id,
            user_id=world.users["wa"].id,
            sha256=SHA,
            mime="image/jpeg",
            upload_length=1,
            upload_offset=1,
            status=UploadStatus.FINISHED,
            expires_at=dt.datetime.now(dt.UTC),
        )
    )
    access.prove_links(db.session, world.users["wa"].id, SHA, PhotoProof.UPLOAD)
    db.session.commit()
    a.cursor = None
    assert a.pull()[-1]["missing_photos"] == []


def test_a_report_outside_the_grid_goes_to_the_unplaced_queue(phone, world):
    a = phone("wa")
    lon, lat = OUTSIDE
    a.add("case.report", {"id": str(uuid.uuid4()), "description": "x", "lon": lon, "lat": lat})
    result = a.push()["results"][0]["result"]
    assert result["placement"] == "unplaced" and result["cell_code"] is None
    assert db.session.get(Case, uuid.UUID(result["case_id"])).assignee_id is None


def test_a_stored_photo_named_only_by_its_hash_links_pending_and_stays_missing(phone, world):
    """Bytes someone else sent: naming their hash proves nothing (server/photos/access.py)."""
    db.session.add(Photo(sha256=SHA, status=PhotoStatus.AVAILABLE))
    db.session.commit()
    a = phone("wa")
    v = visit_args(world.households["G1"][0])
    a.add("visit.create", v)
    a.add("photo.attach", {"sha256": SHA, "visit_id": v["id"]})
    result = a.push()["results"][1]
    assert result["status"] == "applied" and result["result"]["photo_status"] == "missing"
    assert a.pull()[-1]["missing_photos"] == [SHA]
    link = db.session.scalar(select(PhotoLink).where(PhotoLink.photo_sha256 == SHA))
    assert link.proof is None


def test_a_correction_is_a_new_visit_naming_the_old_one(phone, world):
    a = phone("wa")
    first = visit_args(world.households["G1"][0])
    a.add("visit.create", first)
    a.add(
        "visit.create",
        visit_args(world.households["G1"][0], corrects_visit_id=first["id"], situation="fixed"),
    )
    assert [r["status"] for r in a.push()["results"]] == ["applied", "applied"]
    assert count(Visit) == 2


def test_a_batch_meeting_a_used_op_id_and_a_stored_visit_id_is_run_again_whole(
    phone, world, caplog
):
    """A group's first try does not look its op ids and visit ids up (sync/engine.py
    `_Run.group`): the log's and the visits' unique keys refuse the rows, and the group runs
    again with every check, in one transaction, not one mutation at a time. The answers are
    those the checks give: OP_ID_REUSED, `existing`, the rest applied, under one version."""
    p = phone()
    household = world.households["G1"][0]
    stored = p.add("visit.create", visit_args(household))
    assert p.push()["last_seq"] == 1
    for _ in range(30):
        p.add("visit.create", visit_args(household))
    batch = list(p.outbox)
    batch[9] = {**batch[9], "op_id": stored["op_id"]}  # an op id already applied
    batch[19] = {**batch[19], "args": {**stored["args"]}}  # a visit already stored
    with caplog.at_level(logging.INFO, logger="sync.engine"):
        body = p.push_raw(batch).get_json()
    assert "first try failed" in caplog.text and "one by one" not in caplog.text
    assert body["last_seq"] == 31
    results = body["results"]
    assert results[9]["status"] == "rejected"
    assert results[9]["reason"]["code"] == "OP_ID_REUSED"
    assert results[19]["status"] == "applied" and results[19]["result"]["existing"] is True
    applied = [r for i, r in enumerate(results) if i != 9]
    assert {r["status"] for r in applied} == {"applied"}
    assert len({r["version"] for r in results}) == 1  # one transaction, not a replay
    assert count(Visit) == 1 + 28
    assert count(MutationRecord) == 31


def test_the_same_visit_id_twice_in_one_batch_is_stored_once(phone, world):
    a = phone("wa")
    v = visit_args(world.households["G1"][0])
    a.add("visit.create", v)
    a.add("visit.create", v)
    body = a.push()
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]
    assert body["results"][1]["result"]["existing"] is True
    assert count(Visit) == 1


# --- the narrow log row (docs/sync-protocol.md §Push) ------------------------------------------


def test_a_new_visit_is_logged_without_its_args_which_its_row_holds(phone, world):
    """An applied visit.create that wrote a new row logs empty args and names the row in its
    result; the row holds every argument sent. A repeated id (the row holds the first
    sending's) and a rejection keep their arguments. The duplicate answer is unchanged."""
    p = phone()
    household = world.households["G1"][0]
    sent = visit_args(household, needs="water", follow_up="call", lon=121.5, lat=31.2)
    p.add("visit.create", sent)
    again = p.add("visit.create", {**sent, "situation": "second sending"})
    bad = p.add("visit.create", visit_args(uuid.uuid4()))  # no such household
    first = p.push_raw(list(p.outbox)).get_json()
    assert [r["status"] for r in first["results"]] == ["applied", "applied", "rejected"]
    db.session.expire_all()
    log = {
        r.seq: r
        for r in db.session.scalars(
            select(MutationRecord).where(MutationRecord.device_id == p.device_id)
        )
    }
    assert log[1].args == {} and log[1].result == {"visit_id": sent["id"]}
    visit = db.session.get(Visit, uuid.UUID(sent["id"]))
    assert visit is not None
    assert (str(visit.household_id), visit.situation, visit.needs, visit.follow_up) == (
        sent["household_id"],
        sent["situation"],
        sent["needs"],
        sent["follow_up"],
    )
    assert (visit.lon, visit.lat) == (121.5, 31.2)
    assert visit.visited_at == dt.datetime.fromisoformat(sent["visited_at"])
    assert log[2].args == again["args"] and log[2].result["existing"] is True
    assert log[3].status == "rejected" and log[3].args == bad["args"]
    replay = p.push_raw(list(p.outbox)).get_json()
    assert [r["status"] for r in replay["results"]] == ["duplicate"] * 3
    for before, after in zip(first["results"], replay["results"], strict=True):
        assert after["original_status"] == before["status"]
        assert after.get("result") == before.get("result")
        assert after["version"] == before["version"]
