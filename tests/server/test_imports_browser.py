"""The office's import path in a real browser: upload, read the report, map a column, apply,
then place an unmatched household on the address check. Screenshots imports-*.png (1366×800
and 360×640) go to a temporary folder, or docs/screenshots/ with `--update-screenshots`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server import test_back_office_browser as back_office
from tests.server.import_world import csv_bytes

# The demo served by `flask run` and a watched tab ("server", "page"), shared with the back
# office's browser test.
server, page = back_office.server, back_office.page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROWS = [
    ["户号", "居民名", "性别", "出生日期", "联系电话", "与户主关系", "住址", "人员类别"],
    ["T1", "陈桂芳", "女", "1939-04-02", "13800005555", "户主", "新华路329弄2号601室", "孤老"],
    ["T1", "陈小明", "男", "1966-09-12", "139-0000-1111", "儿子", "新华路329弄2号601室", "残疾人"],
    ["T2", "林阿婆", "女", "1931-12-24", "12345", "户主", "新华路329弄77号101室", "外星人"],
]


def sign_in(tab: Any, server: str) -> None:
    tab.goto(f"{server}/login")
    tab.fill("#username", "admin")
    tab.fill("#password", "wangge-demo")
    tab.click("main button[type=submit]")
    tab.wait_for_url(f"{server}/")


def test_an_office_imports_its_register_and_places_what_did_not_match(
    server: str,
    page: Any,
    screenshot: Any,
    tmp_path: Path,
    browser: Any,
) -> None:
    register = tmp_path / "二居委登记表.csv"
    register.write_bytes(csv_bytes(ROWS))
    sign_in(page, server)
    page.set_viewport_size({"width": 1366, "height": 800})
    page.goto(f"{server}/imports/")
    screenshot(page, "imports-index")

    page.set_input_files("#file-register", str(register))
    page.click("form[action='/imports/register/upload'] button.primary")
    page.wait_for_selector("#mapping-title")
    assert "缺少必需的列“姓名”" in page.inner_text("main")
    page.select_option("#map-name", "居民名")
    page.click("#mapping-title ~ form button[type=submit]")
    page.wait_for_selector("text=已检查，尚未应用")
    report = page.inner_text("main")
    assert "“人员类别”“外星人”不在“人员类别对应表”中" in report and "不是电话号码" in report
    screenshot(page, "imports-report")

    page.click("text=应用此次导入")
    page.wait_for_selector(".flash")
    assert "已应用" in page.inner_text(".flash")

    page.goto(f"{server}/addresses/check")
    page.wait_for_selector("#map[data-ready]")
    assert "新华路329弄77号101室" in page.inner_text("main")
    screenshot(page, "imports-address-check")
    form = page.locator(".place-form").first
    form.locator("select").select_option(index=1)
    page.locator("button.place").first.click()
    page.wait_for_selector(".flash")
    assert "已落格" in page.inner_text(".flash")
    assert "登记的每一户都已落格" in page.inner_text("main")

    phone = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    small = phone.new_page()
    sign_in(small, server)
    small.goto(f"{server}/imports/")
    screenshot(small, "imports-index-phone")
    phone.close()
