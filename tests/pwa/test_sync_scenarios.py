"""E4, E5 and refused records in Chromium, with Playwright routes. E3 (a cut upload) and E6
(a case closed meanwhile) run in three engines in test_engine_scenarios.py."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from tests.pwa.conftest import (
    LiveServer,
    save_visit,
    wait_outbox_empty,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("needs_sync")]

SYNC_ROUTES = "**/api/v1/sync/**"


def go_offline(phone: Any) -> None:
    """Abort every sync request (the page's own fetches; the service worker never sees API)."""
    phone.expected_network_errors = True
    phone.context.route(SYNC_ROUTES, lambda route: route.abort("internetdisconnected"))


def go_online(phone: Any) -> None:
    phone.context.unroute(SYNC_ROUTES)


def mutation_rows(server: LiveServer, op_id: str) -> list[tuple[Any, ...]]:
    return server.query(
        "SELECT status FROM sync_mutations WHERE op_id IN (?, ?)", (op_id, op_id.replace("-", ""))
    )


def test_reload_during_a_push_makes_no_duplicates(phone: Any, server: LiveServer) -> None:
    page = phone.login("wang.jing")
    assert phone.sync()
    held: list[Any] = []

    def apply_but_lose_the_reply(route: Any) -> None:
        route.fetch()  # the server commits; the phone never hears back
        held.append(route)

    phone.context.route("**/api/v1/sync/push", apply_but_lose_the_reply)
    save_visit(page, "推送途中刷新")
    page.wait_for_function("() => true")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the push never left"
    entry = phone.idb("outbox")[0]
    assert mutation_rows(server, entry["op_id"]) == [("applied",)]
    phone.context.unroute("**/api/v1/sync/push")
    phone.expected_network_errors = True  # the held request is cancelled by the reload
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    wait_outbox_empty(phone)
    assert mutation_rows(server, entry["op_id"]) == [("applied",)]
    assert server.query(
        "SELECT count(*) FROM visits WHERE id IN (?, ?)",
        (entry["args"]["id"], entry["args"]["id"].replace("-", "")),
    ) == [(1,)]
    assert [j["state"] for j in phone.idb("journal") if j["seq"] == entry["seq"]] == ["synced"]


def office_token(server: LiveServer) -> str:
    return server.token("zhao.min", str(uuid.uuid4()))


def test_two_phones_editing_one_case_give_the_office_a_conflict(
    make_phone: Any, server: LiveServer
) -> None:
    a, b = make_phone(), make_phone()
    a.login("zhou.jie")
    b.login("wu.fang")
    assert a.sync() and b.sync()
    open_status = {"reported", "opened", "dispatched", "handling", "handled"}
    shared = sorted(
        {c["id"] for c in a.idb("cases") if c["status"] in open_status}
        & {c["id"] for c in b.idb("cases")}
    )
    assert shared, "the demo gives the AB pair no common open case"
    case_id = shared[0]
    for phone, title in ((a, "甲改的标题"), (b, "乙改的标题")):
        go_offline(phone)
        phone.page.evaluate(f"location.hash = '#/case/{case_id}'")
        phone.page.wait_for_selector("#edit-form", state="attached")
        phone.page.click("details summary")
        phone.page.fill("#e-title", title)
        phone.page.click("#edit-form button[type=submit]")
        phone.page.wait_for_selector("[data-pending]")
    for phone in (a, b):
        go_online(phone)
        assert phone.sync()
        wait_outbox_empty(phone)
    answer = requests.get(
        f"{server.url}/api/v1/sync/conflicts",
        headers={"Authorization": f"Bearer {office_token(server)}"},
        timeout=10,
    )
    answer.raise_for_status()
    found = [c for c in answer.json()["conflicts"] if str(c["case_id"]) == case_id]
    assert len(found) == 1 and found[0]["field"] == "title"
    seen = json.dumps(found[0], ensure_ascii=False)
    assert "甲改的标题" in seen and "乙改的标题" in seen, seen  # both values, both authors
    b.page.evaluate(f"location.hash = '#/cases'; location.hash = '#/case/{case_id}'")
    b.page.wait_for_selector("[data-conflict=title]")


def office_closes(server: LiveServer, case_id: str) -> None:
    """The back office closes the case (its own operations, on the server's database)."""
    from server import create_app
    from server.cases.models import Case
    from server.cases.operations import change_status
    from server.enums import CaseStatus
    from server.extensions import db
    from sync.versions import next_version

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{server.db}",
            "INSTANCE_PATH": str(server.root / "office-instance"),
            "SECRET_KEY": "office",
        }
    )
    with app.app_context():
        case = db.session.get(Case, uuid.UUID(case_id))
        change_status(
            db.session, case, CaseStatus.CLOSED, actor_id=None, version=next_version(db.session)
        )
        db.session.commit()
        db.engine.dispose()


def test_a_record_the_server_refuses_is_shown_in_chinese_and_the_records_around_it_go_through(
    phone: Any, server: LiveServer, screenshot: Any
) -> None:
    """Issue 12: a visit from a phone whose clock said year 1, between two good visits. The
    outbox empties, the two are on the server, the bad one says why in Chinese."""
    page = phone.login("wang.jing")
    assert phone.sync()
    go_offline(phone)
    household = save_visit(page, "老人在家,一切正常")
    page.evaluate(
        """async (household) => {
          const { enqueue } = await import('/app/js/outbox.js');
          await enqueue('visit.create', { id: crypto.randomUUID(), household_id: household,
            visited_at: '0001-01-01T00:00:00+08:00', situation: '手机时钟错乱' },
            { summary: '走访(手机时钟错乱)' });
        }""",
        household,
    )
    save_visit(page, "已提醒注意用电安全")
    go_online(phone)
    assert phone.sync()
    wait_outbox_empty(phone)
    journal = sorted(phone.idb("journal"), key=lambda j: j["seq"])[-3:]
    assert [j["state"] for j in journal] == ["synced", "rejected", "synced"]
    for entry in (journal[0], journal[2]):
        visit_id = entry["args"]["id"]
        assert server.query(
            "SELECT count(*) FROM visits WHERE id IN (?, ?)", (visit_id, visit_id.replace("-", ""))
        ) == [(1,)]
    page.evaluate("location.hash = '#/sync'")
    # refused records are listed first, with the reason and the field, to correct or discard
    refused = page.wait_for_selector(f"#rejected-list [data-seq='{journal[1]['seq']}']")
    assert "数据格式不对。" in refused.inner_text() and "走访时间" in refused.inner_text()
    assert "拒绝" in page.inner_text("#last-sync")
    page.wait_for_selector("#toast", state="hidden")
    refused.evaluate("node => node.scrollIntoView({ block: 'center' })")
    screenshot(page, "pwa-sync-refused", full_page=False)
    # corrected: the worker says when the visit was; sent again, it is applied
    refused.query_selector("[data-action=edit]").click()
    when = page.wait_for_selector("form.fix input[name=visited_at]")
    assert when.input_value()  # prefilled with now, Shanghai time
    page.click("form.fix button[type=submit]")
    page.wait_for_selector("#rejected-list", state="detached")
    wait_outbox_empty(phone)
    visit_id = journal[1]["args"]["id"]
    assert server.query(
        "SELECT count(*) FROM visits WHERE id IN (?, ?)", (visit_id, visit_id.replace("-", ""))
    ) == [(1,)]
