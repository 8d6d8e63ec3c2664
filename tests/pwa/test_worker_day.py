"""A grid worker's working day on the phone, in Chinese, at 360×640 (issue 15, items 10–11
and the 'Everyone' items 2, 3 and 5 for the worker app).

Sign in; where am I inside one's own cell (named by its path, code on hover) and in another
worker's cell (named, with its worker); dismiss the storage banner; log a visit and a photo
report with long unbroken text; open the case; sync; two records an older app saved past the
server's limits are refused: one corrected and sent again, one discarded after a
confirmation; the save-time checks stop a record the server would refuse. After every step
the screen is checked: no console error (the phone fixture), no English word outside the
allow-list, no raw None/null/undefined/NaN, no element wider than the viewport; and a
screenshot is taken (docs/screenshots/worker-day-*.png with --update-screenshots).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely

from tests.pwa.conftest import LiveServer, wait_outbox_empty

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("needs_sync")]

WORKER = "chen.xia"
#: Latin words allowed on a Chinese screen: units, the language's own name in Settings, and
#: the pinyin initials the catalogue search hint gives as an example (垃圾堆放 → ljdf), and the
#: map credit the licence requires ("© OpenStreetMap contributors, ODbL").
ALLOWED_WORDS = {"KB", "MB", "GB", "English", "ljdf", "OpenStreetMap", "contributors", "ODbL"}
#: The licence's name on 设置 (本程序是自由软件,按 GNU AGPL-3.0 许可发布).
ALLOWED_WORDS |= {"GNU", "AGPL"}
#: A case number ("XH-20261203-0001") is a code the office reads out, not a word.
CASE_NUMBER = re.compile(r"\b[A-Z]{1,6}-\d{8}-\d{3,}\b")
RAW = re.compile(r"\b(None|null|undefined|NaN|\[object Object\])\b")
UNBROKEN = "1234567890" * 40  # 400 digits, no space: must wrap, never widen the screen

# Records the server refuses whatever the phone knows (what an older app let through).
_WIDE = """() => {
  const w = innerWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.sr-only, .skip, [hidden]')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    if (r.right > w + 0.5 || r.left < -0.5) {
      out.push(`${el.tagName}#${el.id}.${el.className} ${r.left | 0}..${r.right | 0}`);
    }
  }
  const whole = document.documentElement.scrollWidth;
  if (whole > w) out.push(`document ${whole} > ${w}`);
  return out;
}"""

# Text marked translate="no" (a username, a device number) is a name, not a word to translate.
_TEXTS = """() => {
  const names = [...document.querySelectorAll('[translate=no]')].map((el) => el.innerText);
  const shown = names.reduce((text, name) => text.split(name).join(' '), document.body.innerText);
  const attrs = [...document.querySelectorAll('[placeholder], [aria-label]')]
    .filter((el) => !el.closest('[hidden]'))
    .map((el) => `${el.getAttribute('placeholder') || ''} ${el.getAttribute('aria-label') || ''}`);
  return [shown, ...attrs].join('\\n');
}"""

# Every text "#where" ever shows, from the first paint: the "no cells yet" flash is caught.
_WATCH_WHERE = """
window.__where = [];
new MutationObserver(() => {
  const el = document.getElementById('where');
  const seen = window.__where;
  if (el && el.textContent && seen[seen.length - 1] !== el.textContent) seen.push(el.textContent);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


def audit(page: Any, shot: Callable[..., Path], step: str) -> None:
    """The checks every screen of the day must pass, then its screenshot."""
    # the last action's toast (3.5 s) would cover the screen in the screenshot
    page.wait_for_selector("#toast", state="hidden", timeout=6000)
    text = page.evaluate(_TEXTS)
    words = set(re.findall(r"[A-Za-z]{2,}", CASE_NUMBER.sub("", text))) - ALLOWED_WORDS
    assert not words, f"{step}: English on a Chinese screen: {sorted(words)}\n{text}"
    assert not RAW.search(text), f"{step}: raw value on screen: {RAW.search(text)}\n{text}"
    assert page.evaluate(_WIDE) == [], f"{step}: wider than the viewport"
    slashed = re.search(r"\b\d{1,2}/\d{1,2}\s+\d{1,2}:\d{2}\b", text)
    assert not slashed, f"{step}: a date like 12/3 05:58: {slashed}"
    shot(page, f"worker-day-{step}", full_page=False)


def _cells(server: LiveServer) -> dict[str, tuple[str, str | None, str, Any]]:
    rows = server.query(
        "SELECT c.code, c.parent_code, c.name, c.level, c.geometry_wkb FROM cells c "
        "JOIN grid_versions g ON g.id = c.grid_version_id WHERE g.status = 'published'"
    )
    return {
        code: (name, parent, level, shapely.from_wkb(wkb))
        for code, parent, name, level, wkb in rows
    }


def _places(server: LiveServer) -> dict[str, Any]:
    """A point in one of the worker's building groups, and one in another worker's."""
    cells = _cells(server)
    duties = server.query(
        "SELECT d.cell_code, u.username, u.display_name FROM duties d "
        "JOIN users u ON u.id = d.user_id "
        "WHERE d.role = 'grid_worker' AND (d.ends_on IS NULL OR d.ends_on >= date('now'))"
    )
    mine = {code for code, user, _ in duties if user == WORKER}
    workers: dict[str, list[str]] = {}
    for code, user, name in duties:
        if user != WORKER:
            workers.setdefault(code, []).append(name)

    def chain(code: str | None) -> list[str]:
        out = []
        while code:
            out.append(code)
            code = cells[code][1]
        return out

    groups = [c for c, v in cells.items() if v[2] == "building_group"]
    own = next(c for c in sorted(groups) if set(chain(c)) & mine)
    other = next(
        c for c in sorted(groups)
        if not set(chain(c)) & mine and any(a in workers for a in chain(c))
    )  # fmt: skip
    other_workers = next(workers[a] for a in chain(other) if a in workers)

    def point(code: str) -> dict[str, float]:
        p = cells[code][3].point_on_surface()
        return {"latitude": p.y, "longitude": p.x, "accuracy": 8}

    return {
        "own": own, "own_point": point(own), "own_name": cells[own][0],
        "other": other, "other_point": point(other), "other_name": cells[other][0],
        "other_workers": other_workers,
    }  # fmt: skip


def _inject(page: Any, name: str, args: dict[str, Any], summary: str) -> None:
    """Queue a record the way an older app did, without the save-time checks."""
    page.evaluate(
        """([name, args, summary]) => import('/app/js/outbox.js')
             .then((m) => m.enqueue(name, args, { summary }))""",
        [name, args, summary],
    )


def test_a_working_day(
    make_phone: Any, server: LiveServer, screenshot: Callable[..., Path]
) -> None:
    places = _places(server)
    phone = make_phone()
    phone.context.set_geolocation(places["own_point"])
    page = phone.page
    page.add_init_script(_WATCH_WHERE)

    page = phone.open()
    audit(page, screenshot, "01-login")

    page.fill("#username", WORKER)
    page.fill("#password", "wangge-demo")
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-screen=home]")
    phone.wait_for_service_worker()

    # --- where am I: my own cell, by its path; the code only on hover ------------------------
    where = page.wait_for_selector("#where[data-own=true]", timeout=30000)
    assert where.get_attribute("data-cell") == places["own"]
    text = where.inner_text()
    assert " › " in text and text.endswith(places["own_name"]), text
    assert places["own"] not in text and where.get_attribute("title") == places["own"]
    shown = page.evaluate("window.__where")
    # never "no cells yet" while the first sync runs
    assert not any("尚未同步" in s for s in shown), shown
    # the storage banner: compact, and dismissible
    banner = page.wait_for_selector("#persist-banner")
    assert banner.bounding_box()["height"] <= 60
    audit(page, screenshot, "02-home-own-cell")
    page.click("#persist-dismiss")
    page.wait_for_selector("#persist-banner", state="detached")

    # --- where am I: another worker's cell, named with its worker -------------------------------
    phone.context.set_geolocation(places["other_point"])
    where = page.wait_for_selector("#where[data-own=false]", timeout=15000)
    assert where.get_attribute("data-cell") == places["other"]
    assert places["other_name"] in where.inner_text()
    worker_line = page.inner_text("#where-worker")
    assert any(name in worker_line for name in places["other_workers"]), worker_line
    audit(page, screenshot, "03-home-other-cell")
    phone.context.set_geolocation(places["own_point"])
    page.wait_for_selector("#where[data-own=true]", timeout=15000)

    # --- a visit: limits shown before they are reached; long text wraps -------------------------
    page.evaluate("location.hash = '#/visits'")
    page.wait_for_selector("[data-household]")
    audit(page, screenshot, "04-visits")
    page.click("[data-household]")
    page.wait_for_selector("#visit-form")
    assert page.inner_text("#v-situation-count") == "0/4000 字"
    assert page.get_attribute("#v-situation", "maxlength") == "4000"
    assert page.query_selector("#back[href='#/visits']")
    page.fill("#v-situation", "老人身体尚可 " + UNBROKEN)
    assert page.inner_text("#v-situation-count") == f"{len('老人身体尚可 ' + UNBROKEN)}/4000 字"
    audit(page, screenshot, "05-visit-form")
    page.click("#visit-form button[type=submit]")
    page.wait_for_selector("body[data-screen=visits]")

    # --- a photo report ------------------------------------------------------------------------
    page.evaluate("location.hash = '#/report'")
    page.wait_for_selector("#report-form")
    assert page.inner_text("#r-addr-count") == "0/200 字"
    page.fill("#r-desc", "楼道堆物 " + UNBROKEN)
    page.fill("#r-addr", "3号楼" + "9" * 150)
    audit(page, screenshot, "06-report")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("body[data-screen=cases]")
    wait_outbox_empty(phone)
    page.evaluate("location.hash = '#/home'")
    page.evaluate("location.hash = '#/cases'")
    page.wait_for_selector("#case-list [data-case]")
    audit(page, screenshot, "07-cases")

    # --- the case: back action, counters, dates in Chinese ---------------------------------------
    page.click("#case-list [data-case]")
    page.wait_for_selector("#note-form")
    assert page.query_selector("#back[href='#/cases']")
    assert page.inner_text("#note-text-count") == "0/4000 字"
    assert re.search(r"(\d{1,2}月\d{1,2}日|今天) \d{2}:\d{2}", page.inner_text("#timeline"))
    audit(page, screenshot, "08-case-detail")
    page.click("#back")
    page.wait_for_selector("body[data-screen=cases]")

    # --- refused records: corrected and sent again, or discarded -------------------------------
    bad_report = str(uuid.uuid4())
    too_long = {"id": bad_report, "title": "井盖松动", "description": "井盖" * 2001, "address": "",
                "priority": "normal", "photos": [], "lon": None, "lat": None}  # fmt: skip
    _inject(page, "case.report", too_long, "上报:井盖松动")
    case_id = str(server.query("SELECT id FROM cases ORDER BY id DESC LIMIT 1")[0][0])
    some_case = page.get_attribute("[data-case]", "data-case") or case_id
    _inject(page, "case.note", {"id": str(uuid.uuid4()), "case_id": some_case, "text": "说" * 4001},
            "案件的说明")  # fmt: skip
    phone.sync()
    page.evaluate("location.hash = '#/sync'")
    page.wait_for_selector("#rejected-list [data-seq]")
    assert len(page.query_selector_all("#rejected-list > li")) == 2
    last = page.inner_text("#last-sync")
    assert "上次成功同步" not in last and "2 条记录被服务器拒绝" in last, last
    assert page.inner_text("#rejected-badge") == "2"
    assert "“描述”最多 4000 字,现在 4002 字" in page.inner_text("#rejected-list")
    audit(page, screenshot, "09-sync-rejected")

    report_row = page.locator("#rejected-list > li", has_text="井盖松动")
    report_row.locator("[data-action=edit]").click()
    form = page.wait_for_selector("form.fix")
    desc = form.query_selector("textarea[name=description]")
    assert desc.get_attribute("maxlength") == "4000"
    desc.fill("井盖松动,有人差点绊倒")
    audit(page, screenshot, "10-sync-correct")
    form.query_selector("button[type=submit]").click()
    # queued again (the old entry marked resent) before the outbox is waited on
    page.wait_for_function("() => document.querySelectorAll('#rejected-list > li').length === 1")
    wait_outbox_empty(phone)
    stored = server.query(
        "SELECT description FROM cases WHERE id IN (?, ?)", (bad_report, uuid.UUID(bad_report).hex)
    )
    assert stored == [("井盖松动,有人差点绊倒",)], (stored, phone.idb("journal")[-3:])

    page.once("dialog", lambda dialog: dialog.accept())
    note_row = page.locator("#rejected-list > li", has_text="案件的说明")
    note_row.locator("[data-action=discard]").click()
    page.wait_for_selector("#rejected-list", state="detached")
    states = sorted(e["state"] for e in phone.idb("journal") if e["state"] != "synced")
    assert states == ["discarded", "resent"], states
    phone.sync()
    page.wait_for_selector("#last-sync:has-text('上次成功同步')")
    assert page.is_hidden("#rejected-badge")
    page.evaluate("scrollTo(0, 0)")
    audit(page, screenshot, "11-sync-clean")

    # --- the save-time check: what the server would refuse is never "saved" -------------------
    page.evaluate("location.hash = '#/report'")
    page.wait_for_selector("#report-form")
    before = len(phone.idb("outbox")) + len(phone.idb("journal"))
    # a paste longer than maxlength cannot be typed; a script or an old autofill can set it
    page.evaluate(
        """() => { const el = document.getElementById('r-addr');
                   el.value = '路'.repeat(201); el.dispatchEvent(new Event('input')); }"""
    )
    assert page.inner_text("#r-addr-count") == "201/200 字"
    page.fill("#r-desc", "路灯不亮")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#report-error:has-text('最多 200 字')")
    assert page.get_attribute("#r-addr", "aria-invalid") == "true"
    assert page.is_hidden("#toast") or "上报已保存" not in page.inner_text("#toast")
    assert len(phone.idb("outbox")) + len(phone.idb("journal")) == before
    audit(page, screenshot, "12-report-checked")

    page.evaluate("location.hash = '#/settings'")
    page.wait_for_selector("#logout")
    audit(page, screenshot, "13-settings")
