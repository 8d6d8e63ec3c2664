"""Visit forms by care tag on the phone, offline (issue 18 item 2): a manager gives 独居老人 a
visit form (a yes/no, a choice, a number); the worker at 360×640 with no signal opens a
household with a resident carrying the tag, sees the form, is refused while a required
question is empty, fills it, saves; back online one sync brings the server the visit and the
answer linked by visit_id on the right form version, and the household's history shows the
answer in words. A household without the tag shows no form."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.pwa.conftest import LiveServer, wait_outbox_empty

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("needs_sync")]

SYNC_ROUTES = "**/api/v1/sync/**"
WORKER = "wang.jing"
MANAGER = "li.qiang"
TAG = "living_alone"  # 独居老人

DEFINITION = {
    "format": 1,
    "title": {"zh": "独居老人走访表", "en": "Visit to an elder living alone"},
    "questions": [
        {
            "name": "safe_home",
            "type": "yes_no",
            "label": {"zh": "居住环境安全吗?"},
            "required": True,
        },
        {
            "name": "health",
            "type": "select_one",
            "label": {"zh": "身体状况"},
            "required": True,
            "choices": [
                {"value": "good", "label": {"zh": "良好"}},
                {"value": "fair", "label": {"zh": "一般"}},
                {"value": "poor", "label": {"zh": "较差"}},
            ],
        },
        {"name": "meals", "type": "integer", "label": {"zh": "每天吃几顿饭"}, "min": 0, "max": 6},
    ],
}


def publish_form(server: LiveServer) -> tuple[int, int]:
    """The office's own code on the server's database: the form, published. → (form id,
    version id)."""
    from sqlalchemy import select

    from server import create_app
    from server.extensions import db
    from server.forms.models import Form, FormVersion
    from server.forms.store import publish, save_draft

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{server.db}",
            "INSTANCE_PATH": str(server.root / "office-instance"),
            "SECRET_KEY": "office",
        }
    )
    with app.app_context():
        form = Form(code=f"elder_{uuid.uuid4().hex[:6]}", title_zh="独居老人走访表")
        db.session.add(form)
        db.session.flush()
        publish(db.session, save_draft(db.session, form, DEFINITION))
        db.session.commit()
        version = db.session.scalar(
            select(FormVersion.id).where(
                FormVersion.form_id == form.id, FormVersion.published_at.is_not(None)
            )
        )
        form_id = int(form.id)
        db.engine.dispose()
    assert version is not None
    return form_id, int(version)


def give_tag_the_form(server: LiveServer, form_id: int) -> None:
    """The manager, by the API (PATCH /api/v1/care-tags/{code})."""
    token = server.token(MANAGER, str(uuid.uuid4()))
    reply = requests.patch(
        f"{server.url}/api/v1/care-tags/{TAG}",
        json={"visit_form_id": form_id},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["visit_form_id"] == form_id


def shot(screenshot: Callable[..., Path], page: Any, name: str) -> None:
    """A screenshot at CSS size (small), after checking the screen holds no leftover."""
    text = page.inner_text("#main")
    assert not re.search(r"null|undefined|NaN|\[object|[0-9a-f]{8}-[0-9a-f]{4}-", text), text
    screenshot(page, f"visit-form-{name}", full_page=False, scale="css")


def open_household(page: Any, household_id: str) -> None:
    page.evaluate(f"location.hash = '#/visit/{household_id}'")
    page.wait_for_selector("#visit-form")


def tick_seen(page: Any, resident_ids: list[str] | None = None) -> None:
    """Tick residents under 见到了谁 (all of the household's when not told which)."""
    boxes = page.locator("#visit-form input[name=seen]")
    for n in range(boxes.count()):
        box = boxes.nth(n)
        if resident_ids is None or box.get_attribute("value") in resident_ids:
            box.check()


def test_worker_fills_a_care_tags_visit_form_offline(
    phone: Any, server: LiveServer, screenshot: Callable[..., Path]
) -> None:
    form_id, version_id = publish_form(server)
    give_tag_the_form(server, form_id)
    page = phone.login(WORKER)
    page.wait_for_selector("body[data-settled=true]")
    tags = {t["id"]: t for t in phone.idb("care_tags")}
    assert tags[TAG]["visit_form_id"] == form_id
    assert [v for v in phone.idb("form_versions") if v["id"] == str(version_id)]
    residents = phone.idb("residents")
    tagged = [r for r in residents if TAG in (r.get("tags") or [])]
    assert tagged, "the worker's cells have no resident living alone"
    home = tagged[0]["household_id"]
    carriers = [r for r in residents if r["household_id"] == home and TAG in r["tags"]]
    with_tag = {r["household_id"] for r in tagged}
    plain = next(r["household_id"] for r in residents if r["household_id"] not in with_tag)

    phone.expected_network_errors = True
    phone.context.route(SYNC_ROUTES, lambda route: route.abort("internetdisconnected"))

    open_household(page, plain)
    assert page.locator("#visit-forms").count() == 0
    assert page.locator(".wf-form").count() == 0

    open_household(page, home)
    sections = page.locator("section.visit-form")
    sections.first.wait_for(state="attached")
    assert sections.count() == len(carriers)  # one form per resident carrying the tag
    # A form is asked of a resident ticked as seen: none yet, a note says how.
    page.wait_for_selector("#visit-forms-tick", state="visible")
    assert not sections.first.is_visible()
    tick_seen(page, [c["id"] for c in carriers])
    first = sections.first
    first.wait_for(state="visible")
    assert page.locator("#visit-forms-tick").is_hidden()
    assert "独居老人走访表" in first.inner_text() and "独居老人" in first.inner_text()
    resident_id = first.get_attribute("data-resident")
    shot(screenshot, page, "offline")
    # Nobody met: no form asked (a note says so); met again: the forms are back.
    page.click("#visit-form label:has-text('不在家')")
    page.wait_for_selector("#visit-forms-not-met", state="visible")
    assert not first.is_visible()
    page.click("#visit-form label:has-text('见到本人')")
    first.wait_for(state="visible")

    # A required question left empty: refused, marked, nothing queued.
    for n in range(sections.count()):
        sections.nth(n).locator("[data-name=safe_home] button[data-value=yes]").click()
    page.fill("#v-situation", "老人精神不错,冰箱里有菜。")
    page.click("#visit-form button[type=submit]")
    page.wait_for_selector("[data-name=health].wf-has-problem")
    assert "走访表还有未完成的地方" in page.inner_text("#visit-error")
    assert "此题必答" in first.locator("[data-name=health] .wf-problem").inner_text()
    assert not [e for e in phone.idb("outbox") if e["name"] in ("visit.create", "form.answer")]
    first.locator("[data-name=health]").scroll_into_view_if_needed()
    shot(screenshot, page, "refused")

    for n in range(sections.count()):
        section = sections.nth(n)
        section.locator("[data-name=health] label:has-text('一般')").click()
        section.locator("[data-name=meals] input").fill("3")
    page.click("#visit-form button[type=submit]")
    page.wait_for_selector("body[data-screen=visits]")
    queued = sorted(phone.idb("outbox"), key=lambda e: e["seq"])
    names = [e["name"] for e in queued]
    assert names == ["visit.create"] + ["form.answer"] * len(carriers)
    visit_id = queued[0]["args"]["id"]
    answer = next(e["args"] for e in queued if e["args"].get("resident_id") == resident_id)
    assert answer["visit_id"] == visit_id and answer["household_id"] == home
    assert answer["form_version_id"] == version_id
    assert answer["values"] == {"safe_home": "yes", "health": "fair", "meals": 3}
    local = {a["id"]: a for a in phone.idb("form_answers")}
    assert local[answer["id"]]["pending"] is True

    phone.context.unroute(SYNC_ROUTES)
    # A sync started while the routes were cut may still be failing: wait on the outbox (it
    # syncs again until empty), not on the answer of the first sync.
    wait_outbox_empty(phone, timeout_s=60)
    visits = server.query("SELECT household_id FROM visits WHERE replace(id, '-', '') = ?",
                          (visit_id.replace("-", ""),))  # fmt: skip
    assert [v[0].replace("-", "") for v in visits] == [home.replace("-", "")]
    rows = server.query(
        'SELECT visit_id, form_version_id, resident_id, household_id, "values", campaign_id'
        " FROM form_answers WHERE replace(id, '-', '') = ?",
        (answer["id"].replace("-", ""),),
    )
    assert len(rows) == 1, rows
    kept_visit, kept_version, kept_resident, kept_home, values, campaign = rows[0]
    assert kept_visit.replace("-", "") == visit_id.replace("-", "")
    assert kept_version == version_id and campaign is None
    assert kept_resident.replace("-", "") == resident_id.replace("-", "")
    assert kept_home.replace("-", "") == home.replace("-", "")
    assert json.loads(values) == {"safe_home": "yes", "health": "fair", "meals": 3}
    count = server.query("SELECT count(*) FROM form_answers WHERE campaign_id IS NULL")
    assert count == [(len(carriers),)]

    # Pulled back: the answer shows on the household's history in words.
    page.wait_for_function(
        "(id) => new Promise((ok) => { const r = indexedDB.open('wangge'); r.onsuccess = () =>"
        " { const q = r.result.transaction('form_answers').objectStore('form_answers').get(id);"
        " q.onsuccess = () => { ok(Boolean(q.result && !q.result.pending)); r.result.close(); };"
        " }; })",
        arg=answer["id"],
    )
    open_household(page, home)
    history = page.locator(f"#visit-history [data-answer='{answer['id']}']")
    history.wait_for()
    text = history.inner_text()
    assert "身体状况" in text and "一般" in text and "是" in text and "3" in text
    assert "fair" not in text and "yes" not in text and "null" not in text
    history.scroll_into_view_if_needed()
    page.wait_for_selector("#toast", state="hidden")
    shot(screenshot, page, "history")


def test_a_resident_not_ticked_as_seen_is_not_asked(phone: Any, server: LiveServer) -> None:
    """Met someone else of the household (the tagged resident was out): the visit is kept and
    no form is asked or queued for the resident not seen."""
    form_id, _ = publish_form(server)
    give_tag_the_form(server, form_id)
    page = phone.login(WORKER)
    page.wait_for_selector("body[data-settled=true]")
    residents = phone.idb("residents")
    home = next(r["household_id"] for r in residents if TAG in (r.get("tags") or []))
    phone.expected_network_errors = True
    phone.context.route(SYNC_ROUTES, lambda route: route.abort("internetdisconnected"))
    open_household(page, home)
    page.wait_for_selector("#visit-forms-tick", state="visible")
    page.fill("#v-situation", "老人住院了,见到了邻居。")
    page.click("#visit-form button[type=submit]")
    page.wait_for_selector("body[data-screen=visits]")
    names = [e["name"] for e in phone.idb("outbox")]
    assert names == ["visit.create"]


def test_a_tag_whose_form_the_phone_lacks_says_so(
    phone: Any, server: LiveServer, screenshot: Callable[..., Path]
) -> None:
    """A care tag naming a form with no version on the phone: a notice, not nothing."""
    form_id, _ = publish_form(server)
    give_tag_the_form(server, form_id)
    page = phone.login(WORKER)
    page.wait_for_selector("body[data-settled=true]")
    residents = phone.idb("residents")
    home = next(r["household_id"] for r in residents if TAG in (r.get("tags") or []))
    # The version is gone from the phone (as if the pull had not brought it yet).
    page.evaluate(
        "() => new Promise((ok) => { const r = indexedDB.open('wangge'); r.onsuccess = () =>"
        " { const tx = r.result.transaction('form_versions', 'readwrite');"
        " tx.objectStore('form_versions').clear(); tx.oncomplete = () => { r.result.close();"
        " ok(); }; }; })"
    )
    open_household(page, home)
    notice = page.locator(".visit-form-missing")
    notice.wait_for()
    assert "独居老人" in notice.inner_text() and "同步" in notice.inner_text()
    assert page.locator("section.visit-form").count() == 0
    shot(screenshot, page, "missing")


def year_one(route: Any) -> None:
    """Pass a push on with its visits dated year 1 (as a phone with a dead clock sent)."""
    body = route.request.post_data_json
    for m in body.get("mutations", []):
        if m["name"] == "visit.create":
            m["args"]["visited_at"] = "0001-01-01T00:00:00+00:00"
    route.continue_(post_data=json.dumps(body))


def save_refused_visit(phone: Any, page: Any, home: str) -> list[str]:
    """Offline: a visit to `home` with its forms answered; online, the server refuses the
    visit (year 1) and so its answers (UNKNOWN_VISIT). → the answers' ids."""
    phone.expected_network_errors = True
    phone.context.route(SYNC_ROUTES, lambda route: route.abort("internetdisconnected"))
    open_household(page, home)
    tick_seen(page)
    sections = page.locator("section.visit-form")
    sections.first.wait_for()
    for n in range(sections.count()):
        sections.nth(n).locator("[data-name=safe_home] button[data-value=no]").click()
        sections.nth(n).locator("[data-name=health] label:has-text('较差')").click()
    page.click("#visit-form button[type=submit]")
    page.wait_for_selector("body[data-screen=visits]")
    answers = [e["args"]["id"] for e in phone.idb("outbox") if e["name"] == "form.answer"]
    assert answers
    phone.context.unroute(SYNC_ROUTES)
    phone.context.route("**/api/v1/sync/push", year_one)
    phone.sync()
    page.evaluate("location.hash = '#/sync'")
    page.wait_for_function(
        "(n) => document.querySelectorAll('#rejected-list > li').length === n",
        arg=1 + len(answers),
    )
    assert "服务器上没有这次走访" in page.inner_text("#rejected-list")
    phone.context.unroute("**/api/v1/sync/push")
    return answers


def test_a_refused_visits_answers_follow_it_when_corrected_or_discarded(
    phone: Any, server: LiveServer, screenshot: Callable[..., Path]
) -> None:
    """The server refuses the visit (here a clock at year 1, as an old phone sent), so its
    answer is refused too (UNKNOWN_VISIT). Correcting the visit on 同步 sends the answer again
    right after it; both are kept, linked. Discarding one gives its answers up with it."""
    form_id, _ = publish_form(server)
    give_tag_the_form(server, form_id)
    page = phone.login(WORKER)
    page.wait_for_selector("body[data-settled=true]")
    home = next(r["household_id"] for r in phone.idb("residents") if TAG in (r.get("tags") or []))
    answers = save_refused_visit(phone, page, home)
    seq = next(e["seq"] for e in phone.idb("journal") if e["name"] == "visit.create")
    page.wait_for_selector("#toast", state="hidden")
    page.locator("#rejected-list").scroll_into_view_if_needed()
    shot(screenshot, page, "refused-sync")
    page.locator(f"#rejected-list > li[data-seq='{seq}'] [data-action=edit]").click()
    form = page.wait_for_selector("form.fix")
    form.query_selector("button[type=submit]").click()
    page.wait_for_function("() => !document.querySelector('#rejected-list > li')")
    wait_outbox_empty(phone)
    states = sorted(e["state"] for e in phone.idb("journal"))
    assert states.count("resent") == 1 + len(answers), states
    for answer_id in answers:
        rows = server.query(
            "SELECT v.household_id FROM form_answers a JOIN visits v ON v.id = a.visit_id"
            " WHERE replace(a.id, '-', '') = ?",
            (answer_id.replace("-", ""),),
        )
        assert [r[0].replace("-", "") for r in rows] == [home.replace("-", "")]

    # Discarding a refused visit gives up its refused answers too (and their local rows).
    again = save_refused_visit(phone, page, home)
    refused = [e for e in phone.idb("journal") if e["state"] == "rejected"]
    seq = next(e["seq"] for e in refused if e["name"] == "visit.create")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#rejected-list > li[data-seq='{seq}'] [data-action=discard]").click()
    page.wait_for_selector("#rejected-list", state="detached")
    gone = {e["args"]["id"]: e["state"] for e in phone.idb("journal") if e["name"] == "form.answer"}
    assert all(gone[a] == "discarded" for a in again), gone
    assert not {a["id"] for a in phone.idb("form_answers")} & set(again)
