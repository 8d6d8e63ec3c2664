"""One real browser run through the administrators' pages on the demo district.

A new account (its one-time link), a duty picked by searching a cell's name, a unit's items
and a catalogue item's limits with its history; any console error or unexpected HTTP error
fails the test. Screenshots (admin-*.png, 1366×800) go to a temporary folder, or to
docs/screenshots/ with `--update-screenshots` (tests/browser.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.demo_server import demo_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo on a fresh SQLite file, served by `flask run` in its own process."""
    with demo_server(tmp_path_factory.mktemp("admin-browser")) as url:
        yield url


@pytest.fixture
def page(server: str, browser: Any) -> Iterator[Any]:
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    tab = context.new_page()
    tab.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" and "status of 422" not in m.text
            else None
        ),
    )
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on(
        "requestfailed",
        lambda r: (
            None
            if "ERR_ABORTED" in (r.failure or "")
            else problems.append(f"failed: {r.url} {r.failure}")
        ),
    )
    # One 422 is expected: the refused time limit below.
    tab.on(
        "response",
        lambda r: (
            problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and r.status != 422
            else None
        ),
    )
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
    assert problems == []


def test_staff_units_and_catalogue_in_a_real_browser(server: str, page: Any, screenshot) -> None:
    page.goto(f"{server}/login")
    page.fill("#username", "admin")
    page.fill("#password", "wangge-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server}/")

    # Staff: a new grid worker without a password gets a one-time link.
    page.click("nav.main-nav >> text=工作人员")
    page.wait_for_selector("h1:has-text('工作人员')")
    page.fill("#display_name", "陈晨")
    page.fill("#username", "chen.chen")
    page.fill("#phone", "13800000099")
    screenshot(page, "admin-staff", full_page=False)
    page.click("text=创建账号")
    page.wait_for_selector("h1:has-text('账号已创建')")
    assert "/password-reset/" in page.input_value("#link")
    page.click("text=返回 陈晨")

    # A duty: search the cell by its name, pick it, assign.
    page.fill("#cell-q", "1号楼组")
    page.click("button:has-text('搜索')")
    page.wait_for_selector(".cell-choice")
    first = page.locator(".cell-choice label").first
    path = first.inner_text()
    assert " › " in path
    first.click()
    page.locator("#assign-title").scroll_into_view_if_needed()
    screenshot(page, "admin-duty-search", full_page=False)
    page.click("form[action*='/duties'] button.primary")
    page.wait_for_selector("text=职责已指派")
    duty_cell = page.locator("section[aria-labelledby=duties-title] td").first.inner_text()
    assert duty_cell in path
    screenshot(page, "admin-person", full_page=False)

    # Units: kind, phone and the items a unit handles.
    page.click("nav.main-nav >> text=单位")
    page.locator("table a").first.click()
    page.wait_for_selector("h2:has-text('负责的事项')")
    page.fill("#phone", "021-6283 0000")
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=已保存")
    screenshot(page, "admin-unit", full_page=False)

    # Catalogue: a refused limit says why in Chinese; a good one shows in the history.
    page.click("nav.main-nav >> text=事项目录")
    page.locator("table a").first.click()
    page.wait_for_selector("h2:has-text('时限与派遣')")
    page.fill("#limit_urgent_hours", "9999")
    page.click("button:has-text('保存')")
    page.wait_for_selector("#limit_urgent_hours-error")
    assert "时限须在" in page.inner_text("#limit_urgent_hours-error")
    page.fill("#limit_urgent_hours", "1.5")
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=已保存")
    assert "紧急时限" in page.inner_text("section[aria-labelledby=history-title]")
    screenshot(page, "admin-catalogue-item", full_page=False)
