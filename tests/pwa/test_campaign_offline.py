"""专项行动 on the phone, offline (issue 18): a published campaign reaches the worker by the
pull; with no signal the worker answers five targets (one "no" that opens a fire-safety case,
with the gauge photo); back online one sync brings the server five answers and the case, and
the office's progress shows five done."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.pwa.conftest import DEMO_PASSWORD, LiveServer, wait_outbox_empty

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("needs_sync")]

SYNC_ROUTES = "**/api/v1/sync/**"
WORKER = "wang.jing"


def definition(item: str) -> dict[str, Any]:
    return {
        "format": 1,
        "title": {"zh": "冬季消防检查", "en": "Winter fire check"},
        "questions": [
            {"name": "gauge", "type": "photo", "label": {"zh": "拍摄灭火器压力表"}},
            {
                "name": "extinguisher_ok",
                "type": "yes_no",
                "label": {"zh": "灭火器在有效期内?"},
                "required": True,
                "opens_case": {"catalogue_item": item, "when": ["no"], "photo": "gauge"},
            },
            {"name": "floors", "type": "integer", "label": {"zh": "楼层数"}, "min": 1, "max": 40},
        ],
    }


def publish_campaign(server: LiveServer) -> int:
    """The office's own code on the server's database: a form, published; a campaign over
    one of the worker's building groups (≥ 5 households), published."""
    from sqlalchemy import select

    from server import create_app
    from server.accounts.models import User
    from server.campaigns import operations as ops
    from server.cases.grid_access import cell_tree
    from server.catalogue.models import CatalogueItem
    from server.extensions import db
    from server.fieldsync.scope import scope_for
    from server.forms.models import Form
    from server.forms.store import publish, save_draft

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{server.db}",
            "INSTANCE_PATH": str(server.root / "office-instance"),
            "SECRET_KEY": "office",
        }
    )
    with app.app_context():
        session = db.session
        item = session.scalar(select(CatalogueItem.code).order_by(CatalogueItem.code))
        assert item is not None
        form = Form(code=f"fire_{uuid.uuid4().hex[:6]}", title_zh="冬季消防检查")
        session.add(form)
        session.flush()
        publish(session, save_draft(session, form, definition(item)))
        session.commit()
        worker = session.scalar(select(User).where(User.username == WORKER))
        assert worker is not None
        cells = cell_tree(session)
        mine = sorted(scope_for(session, worker).cell_codes)
        today = dt.date.today()
        for code in mine:
            if cells[code].level != "building_group":
                continue
            fields = ops.CampaignFields(
                code=f"fire_{uuid.uuid4().hex[:6]}",
                title_zh="冬季消防专项检查",
                description_zh="检查每户灭火器是否在有效期内。",
                form_id=form.id,
                responsible=[code],
                starts_on=today - dt.timedelta(days=1),
                ends_on=today + dt.timedelta(days=30),
            )
            campaign = ops.save_draft(session, fields, cells, actor_id=None)
            if len(ops.preview(session, campaign, cells).targets) >= 5:
                ops.publish(session, campaign, cells, today=today)
                session.commit()
                campaign_id = int(campaign.id)
                db.engine.dispose()
                return campaign_id
            session.rollback()
        raise AssertionError(f"no building group of {WORKER} has 5 households")


def dispatcher_session(server: LiveServer) -> requests.Session:
    web = requests.Session()
    html = web.get(f"{server.url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token
    reply = web.post(
        f"{server.url}/login",
        data={"username": "zhao.min", "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
        timeout=10,
    )
    reply.raise_for_status()
    return web


def test_worker_answers_a_campaign_offline(
    phone: Any, server: LiveServer, photo_jpeg: Path, screenshot: Callable[..., Path]
) -> None:
    def shot(page: Any, name: str) -> None:
        screenshot(page, f"campaign-phone-{name}", full_page=False, scale="css")

    campaign_id = publish_campaign(server)
    page = phone.login(WORKER)
    page.wait_for_selector("body[data-settled=true]")
    assert [c for c in phone.idb("campaigns") if c["id"] == str(campaign_id)]
    targets = [t for t in phone.idb("campaign_targets") if t["campaign_id"] == campaign_id]
    assert len(targets) >= 5
    assert phone.idb("form_versions")
    assert all("visit_form_id" in tag for tag in phone.idb("care_tags"))

    phone.expected_network_errors = True
    phone.context.route(SYNC_ROUTES, lambda route: route.abort("internetdisconnected"))
    page.wait_for_selector("#home-campaigns")
    shot(page, "home")
    page.click("#home-campaigns")
    row = page.locator(f"[data-campaign='{campaign_id}']")
    row.wait_for()
    assert f"已完成 0 / {len(targets)}" in row.inner_text()
    shot(page, "campaigns")
    row.click()
    page.wait_for_selector("#target-list")
    shot(page, "targets")

    for n in range(5):
        page.locator("#target-list a[data-done=false]").first.click()
        page.wait_for_selector("#answer-form [data-name=extinguisher_ok]")
        if n == 0:
            shot(page, "form-top")
            photos = len(phone.idb("photos"))
            page.set_input_files("[data-name=gauge] input[type=file]", str(photo_jpeg))
            page.wait_for_function(
                "(n) => new Promise((ok) => { const r = indexedDB.open('wangge'); r.onsuccess ="
                " () => { const q = r.result.transaction('photos').objectStore('photos').count();"
                " q.onsuccess = () => { ok(q.result > n); r.result.close(); }; }; })",
                arg=photos,
            )
            page.click("[data-name=extinguisher_ok] button[data-value=no]")
            page.fill("[data-name=floors] input", "6")
            shot(page, "form")
        else:
            page.click("[data-name=extinguisher_ok] button[data-value=yes]")
        page.click("#answer-save")
        page.wait_for_selector("#target-list")
        assert page.locator("#target-list a[data-done=true]").count() == n + 1
    assert f"已完成 5 / {len(targets)}" in page.inner_text("#campaign-progress")
    shot(page, "targets-done")
    queued = [e for e in phone.idb("outbox") if e["name"] == "form.answer"]
    assert len(queued) == 5
    no = [e for e in queued if e["args"]["values"]["extinguisher_ok"] == "no"]
    assert len(no) == 1 and re.fullmatch(r"[0-9a-f]{64}", no[0]["args"]["values"]["gauge"])
    assert all(e["args"]["household_id"] for e in queued)

    phone.context.unroute(SYNC_ROUTES)
    # A sync started while the routes were cut may still be failing: wait on the outbox (it
    # syncs again until empty), not on the answer of the first sync.
    wait_outbox_empty(phone, timeout_s=60)
    rows = server.query(
        "SELECT id, case_ids FROM form_answers WHERE campaign_id = ?", (campaign_id,)
    )
    assert len(rows) == 5, rows
    with_case = [r for r in rows if r[1] and r[1] != "[]"]
    assert len(with_case) == 1, rows
    case_id = re.search(r"[0-9a-f-]{32,36}", with_case[0][1])
    assert case_id
    found = server.query(
        "SELECT count(*) FROM cases WHERE id IN (?, ?)",
        (case_id.group(0), case_id.group(0).replace("-", "")),
    )
    assert found == [(1,)]

    progress = dispatcher_session(server).get(
        f"{server.url}/campaigns/{campaign_id}/progress.json", timeout=10
    )
    progress.raise_for_status()
    cells = progress.json()["cells"]["features"]
    assert sum(f["properties"]["done"] for f in cells) == 5


# A phone still holding the first schema (v1): its records, made before campaigns existed.
_V1_PHONE = """
if (!sessionStorage.getItem('v1-made')) {
  sessionStorage.setItem('v1-made', '1');
  const r = indexedDB.open('wangge', 1);
  r.onupgradeneeded = () => {
    const db = r.result;
    db.createObjectStore('kv');
    db.createObjectStore('outbox', { keyPath: 'seq' });
    db.createObjectStore('journal', { keyPath: 'seq' });
    db.createObjectStore('photos', { keyPath: 'sha256' });
    for (const name of ['cells', 'catalogue_items', 'households', 'residents', 'cases',
      'visits', 'conflicts', 'rejections']) db.createObjectStore(name, { keyPath: 'id' });
    const tx = r.transaction;
    tx.objectStore('households').put({ id: 'h-old', building: '9', room: '101', version: 7 });
    tx.objectStore('outbox').put({ seq: 1, op_id: 'op-old', name: 'visit.create', args: {} });
    tx.objectStore('kv').put(2, 'next_seq');
  };
  r.onsuccess = () => r.result.close();
}
"""


def test_the_upgrade_to_v2_keeps_what_the_phone_held(make_phone: Any) -> None:
    phone = make_phone(init_script=_V1_PHONE)
    page = phone.open()
    page.wait_for_function(
        "() => new Promise((ok) => { const r = indexedDB.open('wangge'); r.onsuccess = () =>"
        " { const v = r.result.version; r.result.close(); ok(v === 2); }; })"
    )
    assert [h["id"] for h in phone.idb("households")] == ["h-old"]
    assert [e["op_id"] for e in phone.idb("outbox")] == ["op-old"]
    for store in ("campaigns", "campaign_targets", "form_versions", "form_answers", "care_tags"):
        assert phone.idb(store) == []


def _change_store(page: Any, name: str, change: str) -> None:
    """Run the JavaScript `change` (with `store` in scope) in one readwrite transaction on the
    app's IndexedDB store `name`, and wait for it to commit."""
    script = """(name) => new Promise((ok, fail) => {
          const r = indexedDB.open('wangge');
          r.onsuccess = () => {
            const tx = r.result.transaction(name, 'readwrite');
            const store = tx.objectStore(name);
            CHANGE
            tx.oncomplete = () => { r.result.close(); ok(); };
            tx.onerror = () => fail(tx.error);
          };
        })"""
    page.evaluate(script.replace("CHANGE", change), name)


def _refused_answer(phone: Any, server: LiveServer) -> tuple[Any, int, str]:
    """(page, campaign id, answer id) once the server has refused an answer the phone let
    through (an older app checked the form differently: the queued answer says 99 floors, the
    form allows 1–40); nothing of it is stored."""
    campaign_id = publish_campaign(server)
    page = phone.login(WORKER)
    page.wait_for_selector("body[data-settled=true]")
    phone.expected_network_errors = True
    phone.context.route(SYNC_ROUTES, lambda route: route.abort("internetdisconnected"))
    page.evaluate(f"location.hash = '#/campaigns/{campaign_id}'")
    page.locator("#target-list a[data-done=false]").first.click()
    page.wait_for_selector("#answer-form [data-name=extinguisher_ok]")
    page.click("[data-name=extinguisher_ok] button[data-value=yes]")
    page.fill("[data-name=floors] input", "6")
    page.click("#answer-save")
    page.wait_for_selector("#target-list")
    # What an older app would have queued: an answer this form version does not allow.
    _change_store(
        page,
        "outbox",
        """store.getAll().onsuccess = (ev) => {
             const entry = ev.target.result.find((e) => e.name === 'form.answer');
             entry.args.values.floors = 99;
             store.put(entry);
           };""",
    )
    answer_id = next(e for e in phone.idb("outbox") if e["name"] == "form.answer")["args"]["id"]
    phone.context.unroute(SYNC_ROUTES)
    wait_outbox_empty(phone, timeout_s=60)
    refused = [e for e in phone.idb("journal") if e["state"] == "rejected"]
    assert [(e["result"].get("reason") or e["result"])["code"] for e in refused] == [
        "ANSWERS_INVALID"
    ], refused
    assert server.query(
        "SELECT count(*) FROM form_answers WHERE campaign_id = ?", (campaign_id,)
    ) == [(0,)]
    return page, campaign_id, answer_id


def test_a_refused_answer_is_corrected_in_its_form_and_sent_again(
    phone: Any, server: LiveServer, screenshot: Callable[..., Path]
) -> None:
    """The server refuses an answer the phone let through (`_refused_answer`). The worker
    opens it on 同步, finds the form filled in as sent with the wrong answer marked, corrects
    it, and sends it again: the same answer id reaches the server, once, with the new value."""
    page, campaign_id, answer_id = _refused_answer(phone, server)
    page.evaluate("location.hash = '#/sync'")
    row = page.locator("#rejected-list li[data-state=rejected]")
    row.wait_for()
    row.locator("[data-action=edit]").click()
    fix = page.locator("form.fix")
    fix.wait_for()
    # Filled in as it was sent, the wrong answer marked before anything is touched.
    assert (
        fix.locator("[data-name=extinguisher_ok] button[data-value=yes]").get_attribute(
            "aria-pressed"
        )
        == "true"
    )
    assert fix.locator("[data-name=floors] input").input_value() == "99"
    assert "99 大于最大值 40" in fix.locator("[data-name=floors]").inner_text()
    fix.locator("[data-name=floors]").scroll_into_view_if_needed()
    screenshot(page, "sync-fix-answer", full_page=False, scale="css")
    fix.locator("[data-name=floors] input").fill("7")
    fix.locator("button[type=submit]").click()
    # The correction is queued once its save has run (the list of refused records then empties);
    # only then may an empty outbox mean it went.
    page.wait_for_selector("#rejected-list", state="detached")
    wait_outbox_empty(phone, timeout_s=60)
    rows = server.query(
        'SELECT id, "values" FROM form_answers WHERE campaign_id = ?', (campaign_id,)
    )
    assert len(rows) == 1, rows
    assert str(rows[0][0]).replace("-", "") == answer_id.replace("-", "")
    assert '"floors": 7' in rows[0][1] or '"floors":7' in rows[0][1]
    assert not [e for e in phone.idb("journal") if e["state"] == "rejected"]
    assert page.locator("#rejected-list").count() == 0


def test_a_refused_answer_whose_form_the_phone_no_longer_holds_can_only_be_discarded(
    phone: Any, server: LiveServer, screenshot: Callable[..., Path]
) -> None:
    """The form version of a refused answer is gone from the phone (a reinstall kept the
    journal, a pruned store): 修改 says so in Chinese and offers to discard the record, or
    取消; discarded (after the confirmation), it leaves the list and the phone."""
    page, _campaign_id, _answer_id = _refused_answer(phone, server)
    # Offline, and no sync running: nothing can bring the form back once it is removed.
    phone.context.route(SYNC_ROUTES, lambda route: route.abort("internetdisconnected"))
    page.evaluate("location.hash = '#/sync'")
    page.wait_for_selector("#sync-button:not([disabled])")
    _change_store(page, "form_versions", "store.clear();")
    row = page.locator("#rejected-list li[data-state=rejected]")
    row.wait_for()
    row.locator("[data-action=edit]").click()
    gone = page.locator("div.fix")
    gone.wait_for()
    assert gone.locator("p.meta").inner_text() == "手机上已没有这份表单,无法修改;可以放弃这条记录。"
    assert gone.locator("form, input, [type=submit]").count() == 0
    assert gone.locator("button").all_inner_texts() == ["放弃这条记录", "取消"]
    page.wait_for_selector("#toast", state="hidden")  # the answer's "saved" toast, 3.5 s
    gone.locator("[data-action=cancel]").evaluate("b => b.scrollIntoView({block: 'center'})")
    screenshot(page, "sync-fix-answer-no-form", full_page=False, scale="css")
    gone.locator("[data-action=cancel]").click()
    page.wait_for_selector("div.fix", state="detached")
    # The screen is drawn again: the record is still there, to open again or to discard.
    row.locator("[data-action=edit]").click()
    page.once("dialog", lambda dialog: dialog.accept())
    gone.locator("[data-action=discard]").click()
    page.wait_for_selector("#rejected-list", state="detached")
    assert not [e for e in phone.idb("journal") if e["state"] == "rejected"]
