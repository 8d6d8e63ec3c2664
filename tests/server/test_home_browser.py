"""Each role signs in and lands on its to-do list: in Chinese, nothing wider than the screen.

Debian's Chromium through Playwright at 1366×800 and 360×640 (locale zh-CN) against the demo
district served by a real process. Fails on any console error, an English word outside the
allow-list, a raw None/null/undefined, or an element wider than the viewport. Screenshots
home-<role>.png (and home-<role>-phone.png) go to docs/screenshots/ with
`--update-screenshots` (tests/browser.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.demo_server import demo_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

USERS = {
    "dispatcher": "zhao.min",
    "worker": "zhou.jie",
    "manager": "li.qiang",
    "gis": "sun.li",
    "admin": "admin",
}
#: Latin words a Chinese page may show: the language switch, the API link, the OSM credit.
ALLOWED = {"English", "API", "OpenStreetMap", "ODbL", "GIS", "AGPL"}
#: Case numbers (XH-20261203-0001) are identifiers people read out, not English.
CASE_NUMBER = re.compile(r"\b[A-Z]{2,}-\d{8}-\d+\b")
SIZES = {"": (1366, 800), "-phone": (360, 640)}

#: Elements sticking out to the right of the viewport, unless a scrolling box holds them.
WIDER_THAN_VIEWPORT = """() => {
  const width = document.documentElement.clientWidth, out = [];
  const scrolls = (el) => { for (let a = el.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return true; }
    return false; };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 1 && !scrolls(el))
      out.push(`${el.tagName}.${el.className} ${Math.round(r.right)} > ${width}`);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("home")) as url:
        yield url


def watched(browser: Any, size: tuple[int, int], problems: list[str]) -> Any:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN")
    tab = context.new_page()
    tab.on(
        "console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None
    )
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    tab.set_default_timeout(30_000)
    return tab


@pytest.mark.parametrize("role", list(USERS))
def test_each_role_lands_on_its_to_do_list_in_chinese(server, browser, screenshot, role):
    for suffix, size in SIZES.items():
        problems: list[str] = []
        tab = watched(browser, size, problems)
        tab.goto(f"{server}/login")
        tab.fill("#username", USERS[role])
        tab.fill("#password", "wangge-demo")
        tab.click("main button[type=submit]")
        tab.wait_for_url(f"{server}/")
        tab.wait_for_selector("section.todo")
        assert tab.inner_text("h1") == "我的待办"
        # Every count on the page is a number and each section is there for this role.
        counts = tab.eval_on_selector_all(".todo-count", "els => els.map(e => e.textContent)")
        assert counts and all(c.strip().isdigit() for c in counts), counts
        # The header names who is signed in and their role, once; no greeting repeats it.
        assert tab.locator(".who").count() == 1 and " · " in tab.inner_text(".who")
        assert tab.locator("main .flash").count() == 0
        text = tab.inner_text("header") + "\n" + tab.inner_text("main")
        words = re.findall(r"[A-Za-z]{2,}", CASE_NUMBER.sub("", text))
        english = set(words) - ALLOWED
        assert not english, f"{role}{suffix}: English on the page: {sorted(english)}"
        assert not re.search(r"\b(None|null|undefined|NaN)\b", text), text
        wide = tab.evaluate(WIDER_THAN_VIEWPORT)
        assert not wide, f"{role}{suffix}: wider than the viewport: {wide[:5]}"
        screenshot(tab, f"home-{role}{suffix}")
        tab.context.close()
        assert problems == [], problems
