"""The register in a real browser at 1366×800: a grid worker searches their cells, opens a
household card and records that someone moved out. Screenshots register-*.png go to a
temporary folder, or docs/screenshots/ with `--update-screenshots` (tests/browser.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server import test_back_office_browser as back_office

# The demo served by `flask run` and a watched tab, shared with the back office's test.
server, page = back_office.server, back_office.page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_worker_finds_a_household_reads_its_card_and_records_a_move_out(
    server: str, page: Any, screenshot: Any
) -> None:
    page.set_viewport_size({"width": 1366, "height": 800})
    page.goto(f"{server}/login")
    page.fill("#username", "zhou.jie")
    page.fill("#password", "wangge-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server}/")
    page.click("nav >> text=人口登记")
    page.fill("#q", "延安西路989弄")
    page.click("form[role=search] button")
    page.wait_for_selector("#hits")
    screenshot(page, "register-search")
    page.click("#hits a >> text=延安西路989弄1号501室")
    page.wait_for_selector("#residents")
    assert "家庭成员" in page.inner_text("main") and "变更记录" in page.inner_text("main")
    first = page.locator("#residents tbody tr.row-forms").first
    name = page.locator("#residents tbody tr:not(.row-forms) th").first.inner_text()
    first.locator("summary", has_text="迁出或已故").click()
    status = first.locator("form[action$='/status']")
    status.locator("input[value=moved_out]").check()
    status.locator("input[name=reason]").fill("搬去外区居住")
    status.locator("button").click()
    page.wait_for_selector(".flash")
    assert "已保存" in page.inner_text(".flash")
    assert "已迁出" in page.inner_text("#residents")
    assert "搬去外区居住" in page.inner_text("#history") and name in page.inner_text("#history")
    screenshot(page, "register-household")
