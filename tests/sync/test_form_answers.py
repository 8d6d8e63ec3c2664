"""`form.answer` (issue 18 §4): append-only answers with phone-minted ids, kept on the form
version they name, late after a close, rejected alone when wrong, cases filed exactly once.
Both backends (the app fixture's parameter)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from server.cases.models import Case, PhotoLink
from server.enums import CaseStatus, Channel
from server.extensions import db
from server.forms.answering import case_id_for
from server.forms.models import FormAnswer
from sync.db import utcnow
from tests.sync.campaign_world import (
    answer_args,
    close_campaign,
    make_campaign,
    make_form,
    publish_next_version,
    targets_of,
    version_of,
)
from tests.sync.conftest import count, visit_args

GAUGE = "ab" * 32


def stored(answer_id: str) -> FormAnswer:
    db.session.expire_all()
    found = db.session.get(FormAnswer, uuid.UUID(answer_id))
    assert found is not None
    return found


def statuses(body: dict[str, Any]) -> list[str]:
    return [r["status"] for r in body["results"]]


def test_an_answer_is_kept_with_its_target_cell_and_version(phone, world):
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    target = targets_of(db.session, campaign, "G1")[0]
    a = phone("wa")
    args = answer_args(campaign, target, version_of(db.session, form, 1))
    a.add("form.answer", args)
    body = a.push()
    assert statuses(body) == ["applied"]
    assert body["results"][0]["result"] == {"answer_id": args["id"], "case_ids": []}
    answer = stored(args["id"])
    assert (answer.cell_code, answer.household_id, answer.late) == (
        "G1",
        target.household_id,
        False,
    )
    assert answer.values == {"extinguisher_ok": "yes", "floors": 6}
    assert answer.worker_id == world.users["wa"].id and answer.version > 0


def test_a_replayed_answer_is_the_stored_one_and_another_authors_id_is_taken(phone, world):
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    target = targets_of(db.session, campaign, "G1")[0]
    args = answer_args(campaign, target, version_of(db.session, form, 1))
    a, again, c = phone("wa"), phone("wa"), phone("wc")  # wc works in G1 too
    a.add("form.answer", args)
    assert statuses(a.push()) == ["applied"]
    again.add("form.answer", args)  # the same answer from a reinstalled app: a new device
    body = again.push()
    assert body["results"][0]["result"]["existing"] is True
    c.add("form.answer", args)
    assert c.push()["results"][0]["reason"]["code"] == "ID_TAKEN"
    assert count(FormAnswer) == 1


def test_answers_pushed_out_of_order_and_twice_in_one_batch_are_kept_once(phone, world):
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    targets = targets_of(db.session, campaign, "G1")
    version = version_of(db.session, form, 1)
    answers = [answer_args(campaign, t, version) for t in targets]
    a = phone("wa")
    for args in reversed(answers):
        a.add("form.answer", args)
    a.add("form.answer", answers[0])  # the same record twice (an app retried before the ack)
    body = a.push()
    assert statuses(body) == ["applied"] * 4
    assert body["results"][3]["result"]["existing"] is True
    assert count(FormAnswer) == 3


def test_an_answer_on_version_1_after_version_2_is_published_is_kept(phone, world):
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    target = targets_of(db.session, campaign, "G1")[0]
    v1 = version_of(db.session, form, 1)
    publish_next_version(db.session, form)  # the office adds a question; the phone is offline
    v2 = version_of(db.session, form, 2)
    old = answer_args(campaign, target, v1)
    new = answer_args(campaign, target, v2, extinguisher_ok="yes", exits_clear="no")
    on_v1_with_v2_question = answer_args(
        campaign, target, v1, extinguisher_ok="yes", exits_clear="no"
    )
    a = phone("wa")
    for args in (old, new, on_v1_with_v2_question):
        a.add("form.answer", args)
    body = a.push()
    assert statuses(body) == ["applied", "applied", "rejected"]
    assert stored(old["id"]).form_version_id == v1
    assert stored(new["id"]).form_version_id == v2
    reason = body["results"][2]["reason"]
    assert reason["code"] == "ANSWERS_INVALID"
    assert reason["details"]["problems"][0]["code"] == "unknown_question"
    assert "exits_clear" in reason["details"]["problems"][0]["message_zh"]


def test_wrong_types_are_rejected_alone_and_the_neighbours_applied(phone, world):
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    t1, t2, t3 = targets_of(db.session, campaign, "G1")
    version = version_of(db.session, form, 1)
    a = phone("wa")
    good1 = answer_args(campaign, t1, version)
    bad = answer_args(campaign, t2, version, extinguisher_ok=True, floors="6")  # an old app
    good2 = answer_args(campaign, t3, version)
    for args in (good1, bad, good2):
        a.add("form.answer", args)
    body = a.push()
    assert statuses(body) == ["applied", "rejected", "applied"]
    reason = body["results"][1]["reason"]
    assert reason["code"] == "ANSWERS_INVALID"
    assert reason["text"].startswith("表单答案与表单不符")
    assert [p["code"] for p in reason["details"]["problems"]] == ["wrong_type", "wrong_type"]
    assert count(FormAnswer) == 2
    assert db.session.get(FormAnswer, uuid.UUID(bad["id"])) is None


def test_unknown_unpublished_and_foreign_forms_are_rejected(phone, world):
    form = make_form(db.session)
    other = make_form(db.session, "other_form")
    campaign = make_campaign(db.session, world, form)
    target = targets_of(db.session, campaign, "G1")[0]
    from server.forms.store import save_draft
    from tests.sync.campaign_world import fire_definition

    draft = save_draft(db.session, form, fire_definition(extra=True))
    db.session.commit()
    a = phone("wa")
    for version in (999_999, draft.id, version_of(db.session, other, 1)):
        a.add("form.answer", answer_args(campaign, target, version))
    codes = [r["reason"]["code"] for r in a.push()["results"]]
    assert codes == ["UNKNOWN_FORM_VERSION", "UNKNOWN_FORM_VERSION", "WRONG_FORM"]


def test_another_cells_target_and_a_draft_campaign_are_rejected(phone, world):
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    draft = make_campaign(db.session, world, form, status="draft")
    version = version_of(db.session, form, 1)
    a = phone("wa")
    foreign = answer_args(campaign, targets_of(db.session, campaign, "G2")[0], version)
    drafted = answer_args(draft, targets_of(db.session, draft, "G1")[0], version)
    mismatched = answer_args(campaign, targets_of(db.session, draft, "G1")[0], version)
    good = answer_args(campaign, targets_of(db.session, campaign, "G1")[0], version)
    for args in (foreign, drafted, mismatched, good):
        a.add("form.answer", args)
    body = a.push()
    assert [(r.get("reason") or {}).get("code") for r in body["results"]] == [
        "NOT_IN_SCOPE",
        "CAMPAIGN_NOT_PUBLISHED",
        "UNKNOWN_TARGET",
        None,
    ]
    assert body["results"][0]["reason"]["text"] == "不在您负责的范围内。"
    assert count(FormAnswer) == 1
    office = phone("office")  # office roles may answer anywhere from a phone
    office.add(
        "form.answer", answer_args(campaign, targets_of(db.session, campaign, "G2")[0], version)
    )
    assert statuses(office.push()) == ["applied"]


def test_a_closed_campaign_keeps_earlier_answers_late_and_refuses_later_ones(phone, world):
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    t1, t2, _ = targets_of(db.session, campaign, "G1")
    version = version_of(db.session, form, 1)
    closed_at = utcnow()
    before = answer_args(campaign, t1, version)
    before["answered_at"] = (closed_at - dt.timedelta(hours=2)).isoformat()
    after = answer_args(campaign, t2, version)
    after["answered_at"] = (closed_at + dt.timedelta(hours=1)).isoformat()
    close_campaign(db.session, campaign, closed_at)
    a = phone("wa")
    a.add("form.answer", before)
    a.add("form.answer", after)
    body = a.push()
    assert statuses(body) == ["applied", "rejected"]
    assert body["results"][0]["result"]["late"] is True
    assert stored(before["id"]).late is True
    assert body["results"][1]["reason"]["code"] == "CAMPAIGN_CLOSED"


def test_the_device_clock_offset_decides_whether_an_answer_came_after_the_close(phone, world):
    """A phone three hours fast answered before the close though its clock says after."""
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    target = targets_of(db.session, campaign, "G1")[0]
    closed_at = utcnow() - dt.timedelta(hours=1)
    close_campaign(db.session, campaign, closed_at)
    args = answer_args(campaign, target, version_of(db.session, form, 1))
    fast = dt.timedelta(hours=3)
    args["answered_at"] = (closed_at - dt.timedelta(minutes=30) + fast).isoformat()
    a = phone("wa")
    a.device_now = (utcnow() + fast).isoformat()
    a.add("form.answer", args)
    assert statuses(a.push()) == ["applied"]
    assert stored(args["id"]).late is True


def test_a_no_files_one_case_with_its_photo_even_when_replayed(phone, world):
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    target = targets_of(db.session, campaign, "G1")[0]
    args = answer_args(
        campaign, target, version_of(db.session, form, 1), extinguisher_ok="no", gauge=GAUGE
    )
    a = phone("wa")
    a.add("form.answer", args)
    first = a.push()
    assert statuses(first) == ["applied"]
    case_id = case_id_for(uuid.UUID(args["id"]), "extinguisher_ok")
    assert first["results"][0]["result"]["case_ids"] == [str(case_id)]
    case = db.session.get(Case, case_id)
    assert case is not None and case.status == CaseStatus.REPORTED
    assert case.channel == Channel.PATROL and case.catalogue_item.code == "A01-01"
    assert case.title == "冬季消防检查:灭火器在有效期内?——否"
    assert "G1 room 0" in case.description and case.reporter_id == world.users["wa"].id
    links = db.session.scalars(select(PhotoLink).where(PhotoLink.case_id == case_id)).all()
    assert [link.photo_sha256 for link in links] == [GAUGE]
    # The reply was lost: the app sends the answer again (new op id), then from a new device.
    a.outbox.clear()
    a.add("form.answer", args)
    second = a.push()
    assert second["results"][0]["result"] == {
        "answer_id": args["id"],
        "case_ids": [str(case_id)],
        "existing": True,
    }
    b = phone("wa")
    b.add("form.answer", args)
    b.push()
    assert count(Case, Case.id == case_id) == 1
    assert count(Case) == 1
    assert stored(args["id"]).case_ids == [str(case_id)]


def test_a_visit_answer_names_a_visit_of_the_same_push(phone, world):
    form = make_form(db.session, "elder_visit")
    version = version_of(db.session, form, 1)
    home = world.households["G1"][0]
    visit = visit_args(home)
    answer = {
        "id": str(uuid.uuid4()),
        "form_version_id": version,
        "visit_id": visit["id"],
        "household_id": str(home),
        "values": {"extinguisher_ok": "no"},
        "answered_at": utcnow().isoformat(),
    }
    unknown = {**answer, "id": str(uuid.uuid4()), "visit_id": str(uuid.uuid4())}
    a = phone("wa")
    a.add("visit.create", visit)
    a.add("form.answer", answer)
    a.add("form.answer", unknown)
    body = a.push()
    assert statuses(body) == ["applied", "applied", "rejected"]
    assert body["results"][2]["reason"]["code"] == "UNKNOWN_VISIT"
    kept = stored(answer["id"])
    assert (kept.visit_id, kept.household_id, kept.cell_code) == (
        uuid.UUID(visit["id"]),
        home,
        "G1",
    )
    case = db.session.get(Case, uuid.UUID(kept.case_ids[0]))
    assert case is not None and case.channel == Channel.VISIT


def test_a_visit_answer_in_another_cell_is_rejected(phone, world):
    form = make_form(db.session, "elder_visit")
    b = phone("wb")
    visit = visit_args(world.households["G2"][0])
    b.add("visit.create", visit)
    assert statuses(b.push()) == ["applied"]
    a = phone("wa")
    a.add(
        "form.answer",
        {
            "id": str(uuid.uuid4()),
            "form_version_id": version_of(db.session, form, 1),
            "visit_id": visit["id"],
            "values": {"extinguisher_ok": "yes"},
            "answered_at": utcnow().isoformat(),
        },
    )
    assert a.push()["results"][0]["reason"]["code"] == "NOT_IN_SCOPE"


def visit_answer(version: int, visit: dict[str, Any], **values: Any) -> dict[str, Any]:
    """A visit answer that opens no case (append-only unless its visit is not committed)."""
    return {
        "id": str(uuid.uuid4()),
        "form_version_id": version,
        "visit_id": visit["id"],
        "household_id": visit["household_id"],
        "values": values or {"extinguisher_ok": "yes", "floors": 3},
        "answered_at": utcnow().isoformat(),
    }


def test_an_append_only_visit_answer_finds_its_visit_of_the_same_push_and_replays(phone, world):
    """The phone queues visit.create then its form.answer (one IndexedDB transaction): both
    append-only, in one group. The answer must find the visit queued just before it."""
    version = version_of(db.session, make_form(db.session, "elder_visit"), 1)
    visits = [visit_args(home) for home in world.households["G1"][:2]]
    answers = [visit_answer(version, v) for v in visits]
    a = phone("wa")
    for visit, answer in zip(visits, answers, strict=True):
        a.add("visit.create", visit)
        a.add("form.answer", answer)
    sent = list(a.outbox)
    body = a.push()
    assert statuses(body) == ["applied"] * 4, body
    for visit, answer in zip(visits, answers, strict=True):
        kept = stored(answer["id"])
        assert (kept.visit_id, kept.household_id, kept.form_version_id, kept.case_ids) == (
            uuid.UUID(visit["id"]),
            uuid.UUID(visit["household_id"]),
            version,
            [],
        )
    # The reply was lost: the phone sends the same batch again.
    again = a.push_raw(sent).get_json()
    assert statuses(again) == ["duplicate"] * 4
    assert [r["original_status"] for r in again["results"]] == ["applied"] * 4
    # The same records queued again under new seqs (a restored outbox): kept once.
    for visit, answer in zip(visits, answers, strict=True):
        a.add("visit.create", visit)
        a.add("form.answer", answer)
    resent = a.push()
    assert statuses(resent) == ["applied"] * 4
    assert [r["result"].get("existing") for r in resent["results"][1::2]] == [True, True]
    assert count(FormAnswer) == 2


def test_a_visit_answer_in_a_later_push_than_its_visit_is_kept(phone, world):
    version = version_of(db.session, make_form(db.session, "elder_visit"), 1)
    visit = visit_args(world.households["G1"][0])
    a = phone("wa")
    a.add("visit.create", visit)
    assert statuses(a.push()) == ["applied"]
    answer = visit_answer(version, visit)
    a.add("form.answer", answer)
    assert statuses(a.push()) == ["applied"]
    assert stored(answer["id"]).visit_id == uuid.UUID(visit["id"])


def test_a_visit_answer_before_its_visit_is_refused_and_kept_when_sent_again(phone, world):
    """Seq order is the phone's order: an answer queued before its visit (never by the app)
    names an unknown visit; sent again after it, under the same id, it is kept."""
    version = version_of(db.session, make_form(db.session, "elder_visit"), 1)
    visit = visit_args(world.households["G1"][0])
    answer = visit_answer(version, visit)
    a = phone("wa")
    a.add("form.answer", answer)
    a.add("visit.create", visit)
    a.add("form.answer", answer)
    body = a.push()
    assert statuses(body) == ["rejected", "applied", "applied"]
    assert body["results"][0]["reason"]["code"] == "UNKNOWN_VISIT"
    assert stored(answer["id"]).visit_id == uuid.UUID(visit["id"])


def test_a_visit_answer_naming_another_household_or_resident_is_rejected(phone, world):
    version = version_of(db.session, make_form(db.session, "elder_visit"), 1)
    home, other = world.households["G1"][:2]
    visit = visit_args(home)
    a = phone("wa")
    a.add("visit.create", visit)
    a.add("form.answer", {**visit_answer(version, visit), "household_id": str(other)})
    a.add("form.answer", {**visit_answer(version, visit), "resident_id": str(uuid.uuid4())})
    body = a.push()
    assert statuses(body) == ["applied", "rejected", "rejected"]
    assert [r["reason"]["code"] for r in body["results"][1:]] == [
        "UNKNOWN_VISIT",
        "RESIDENT_NOT_IN_HOUSEHOLD",
    ]
    assert count(FormAnswer) == 0


def test_an_append_only_answer_to_another_cells_visit_is_rejected(phone, world):
    version = version_of(db.session, make_form(db.session, "elder_visit"), 1)
    b = phone("wb")
    visit = visit_args(world.households["G2"][0])
    b.add("visit.create", visit)
    assert statuses(b.push()) == ["applied"]
    a = phone("wa")
    a.add("form.answer", {**visit_answer(version, visit), "household_id": None})
    body = a.push()
    assert body["results"][0]["reason"]["code"] == "NOT_IN_SCOPE"
    assert count(FormAnswer) == 0


def test_arguments_naming_neither_or_both_subjects_are_invalid(phone, world):
    a = phone("wa")
    base = {
        "id": str(uuid.uuid4()),
        "form_version_id": 1,
        "values": {},
        "answered_at": utcnow().isoformat(),
    }
    a.add("form.answer", base)
    a.add("form.answer", {**base, "campaign_id": 1})
    a.add(
        "form.answer",
        {**base, "campaign_id": 1, "target_id": str(uuid.uuid4()), "visit_id": str(uuid.uuid4())},
    )
    assert [r["reason"]["code"] for r in a.push()["results"]] == ["INVALID_ARGS"] * 3


def test_a_refused_answer_sent_again_corrected_under_the_same_id_is_kept(phone, world):
    """The app fixes an answer the server refused and resends it (same id, same batch)."""
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    target = targets_of(db.session, campaign, "G1")[0]
    bad = answer_args(campaign, target, version_of(db.session, form, 1), extinguisher_ok=True)
    fixed = {**bad, "values": {"extinguisher_ok": "yes"}}
    a = phone("wa")
    a.add("form.answer", bad)
    a.add("form.answer", fixed)
    body = a.push()
    assert statuses(body) == ["rejected", "applied"]
    assert stored(bad["id"]).values == {"extinguisher_ok": "yes"}


def test_only_answers_that_file_cases_run_under_the_version_clock(app, phone, world):
    """An answer that opens no case only adds its row (append-only, before the clock); one
    that files a case, or that the prefetch could not check, runs under it."""
    from server.fieldsync.form_answers import answer_is_append_only
    from server.fieldsync.operations import Settings, build_handlers
    from server.fieldsync.phone_actor import PhoneActor
    from sync.handlers import DeviceContext

    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    target = targets_of(db.session, campaign, "G1")[0]
    version = version_of(db.session, form, 1)
    handler = build_handlers(Settings())["form.answer"]
    raw = [
        answer_args(campaign, target, version),
        answer_args(campaign, target, version, extinguisher_ok="no"),
        answer_args(campaign, target, 999_999),
    ]
    loaded = [handler.validate(r) for r in raw]
    user = world.users["wa"]
    assert handler.prefetch is not None
    handler.prefetch(db.session, DeviceContext(uuid.uuid4(), user.id, PhoneActor(user)), loaded)
    assert [answer_is_append_only(args) for args in loaded] == [True, False, False]
    # A visit answer: append-only when its visit is committed, under the clock when it is not
    # (queued by a visit.create of the same group, which only the clock's flush writes).
    a = phone("wa")
    visit = visit_args(world.households["G1"][0])
    a.add("visit.create", visit)
    a.push()
    fresh = visit_args(world.households["G1"][1])
    visit_loaded = [
        handler.validate(visit_answer(version, visit)),
        handler.validate(visit_answer(version, fresh)),
        handler.validate(visit_answer(version, visit, extinguisher_ok="no")),
    ]
    handler.prefetch(
        db.session, DeviceContext(uuid.uuid4(), user.id, PhoneActor(user)), visit_loaded
    )
    assert [answer_is_append_only(args) for args in visit_loaded] == [True, False, False]


def test_reports_and_an_answer_that_files_a_case_in_one_push_get_distinct_numbers(phone, world):
    """case.report builds its case before the version clock and numbers it under it; an
    answer that opens a case files it at once under the clock: in one group, in either order,
    no number is given twice and none is skipped."""
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    first, second = targets_of(db.session, campaign, "G1")[:2]
    version = version_of(db.session, form, 1)
    a = phone("wa")

    def report(text: str) -> None:
        a.add("case.report", {"id": str(uuid.uuid4()), "description": text, "photos": []})

    report("井盖缺失 1")
    a.add("form.answer", answer_args(campaign, first, version, extinguisher_ok="no"))
    report("井盖缺失 2")
    a.add("form.answer", answer_args(campaign, second, version, extinguisher_ok="no"))
    report("井盖缺失 3")
    assert statuses(a.push()) == ["applied"] * 5
    numbers = sorted(db.session.scalars(select(Case.number)))
    assert len(numbers) == 5 and len(set(numbers)) == 5
    tails = [int(n[-4:]) for n in numbers]
    assert tails == list(range(tails[0], tails[0] + 5))
