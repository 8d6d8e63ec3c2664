"""The office edits a form in a real browser against a real server: two questions, a condition
("ask B only if A is yes") that the phone-size preview obeys as it is answered, a case rule,
save, publish, then the version is read-only. Screenshots forms-editor.png (1280×800) and
forms-preview.png (the 360×640 preview) go to a temporary folder, or docs/screenshots/ with
`--update-screenshots`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.forms.forms_world import fire_choices, fire_settings, fire_survey, xlsx
from tests.server import test_back_office_browser as back_office
from tests.server.test_imports_browser import sign_in

# The demo served in its own process and a watched tab (console errors and 4xx fail the test).
server, page = back_office.server, back_office.page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


WIDE = """() => [...document.querySelectorAll('main *')]
  .filter((e) => e.getBoundingClientRect().right > 361)
  .map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
  .slice(0, 12)"""


def card(tab: Any, index: int) -> Any:
    return tab.locator(".question-card").nth(index)


def preview(tab: Any, name: str) -> Any:
    return tab.locator(f"#preview-root .wf-q[data-name='{name}']")


def test_an_office_edits_a_form_sees_the_preview_react_and_publishes(
    server: str, page: Any, screenshot: Any, screenshot_dir: Any
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, server)
    page.goto(f"{server}/forms/")
    page.fill("#title", "冬季消防安全检查")
    page.fill("#code", "fire_check_2026")
    page.click("form[action='/forms/'] button.primary")
    page.wait_for_selector("#preview-root .wf-form")

    first = card(page, 0)
    first.locator(".q-label").fill("楼内配有灭火器吗？")
    first.locator(".q-required").check()
    assert preview(page, "q1").locator("legend").inner_text().startswith("楼内配有灭火器吗？")
    assert preview(page, "q1").locator(".wf-required").is_visible()

    page.click("#add-question")
    second = card(page, 1)
    second.locator(".q-label").fill("灭火器在有效期内？")
    second.locator(".q-relevant").fill("${q1} = 'yes'")
    assert preview(page, "q2").is_hidden()
    preview(page, "q1").get_by_role("button", name="是").click()
    assert preview(page, "q2").is_visible()
    preview(page, "q1").get_by_role("button", name="否").click()
    assert preview(page, "q2").is_hidden()

    # a condition outside the subset is named at once, before any save
    second.locator(".q-relevant").fill("count-selected(${q1}) > 0")
    assert "不支持函数“count-selected()”" in second.locator(".condition-problem").inner_text()
    second.locator(".q-relevant").fill("${q1} = 'yes'")
    assert second.locator(".condition-problem").is_hidden()

    # a "no" to the second question files a fire-safety case
    second.locator(".case-editor select").first.select_option(index=1)
    second.locator(".case-editor .when label", has_text="否").locator("input").check()

    page.click("#add-question")
    card(page, 2).locator("select").first.select_option("integer")
    third = card(page, 2)
    third.locator(".q-label").fill("灭火器数量")
    third.locator(".field", has_text="最大值").locator("input").fill("50")
    third.locator(".field", has_text="单位").locator("input").fill("个")
    third.locator(".q-relevant").fill("${q1} = 'yes'")

    page.click("#save-draft")
    page.wait_for_selector(".editor-status.ok")
    assert page.inner_text("#editor-status") == "已保存。"
    preview(page, "q1").get_by_role("button", name="是").click()
    preview(page, "q3").locator("input").fill("60")
    assert preview(page, "q3").locator(".wf-problem").inner_text() == "60 大于最大值 50。"
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "forms-editor", full_page=False)
    page.locator("#phone-frame").screenshot(path=str(screenshot_dir / "forms-preview.png"))

    page.click("#publish-form button")
    page.wait_for_selector(".flash")
    assert "版本 1 已发布" in page.inner_text(".flash")
    page.click("text=查看")
    page.wait_for_selector("#preview-root .wf-form")
    assert page.inner_text("#editor-status") == "只读"
    assert page.locator("#save-draft").count() == 0
    assert card(page, 0).locator(".q-label").is_disabled()
    page.goto(f"{server}/forms/")
    screenshot(page, "forms-index")
    page.click("text=冬季消防安全检查")
    page.wait_for_selector("#versions-title")
    screenshot(page, "forms-versions")


def test_the_servers_problems_show_beside_the_question_at_fault(
    server: str, browser: Any, screenshot: Any, tmp_path: Path
) -> None:
    # Its own tab: the refused save is a 422 on purpose (the watched tab fails on any 4xx).
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(tab, server)
        tab.goto(f"{server}/forms/")
        tab.fill("#title", "电动车充电检查")
        tab.fill("#code", "ebike_check")
        tab.click("form[action='/forms/'] button.primary")
        tab.wait_for_selector("#preview-root .wf-form")
        editor_path = tab.url.removeprefix(server)
        first = card(tab, 0)
        first.locator("select").first.select_option("select_one")
        first = card(tab, 0)
        first.locator(".q-label").fill("充电地点")
        values = first.locator(".choice-value")
        values.nth(0).fill("indoor")
        values.nth(1).fill("indoor")  # a duplicate choice value
        tab.click("#add-question")
        card(tab, 1).locator(".q-label").fill("拍照")
        card(tab, 1).locator(".q-relevant").fill("${q2} = 'yes'")  # reads itself: a cycle
        tab.click("#save-draft")
        tab.wait_for_selector(".editor-status.error")
        assert "未保存" in tab.inner_text("#editor-status")
        assert "选项值“indoor”重复" in card(tab, 0).locator(".problems").inner_text()
        assert "循环" in card(tab, 1).locator(".problems").inner_text()
        screenshot(tab, "forms-editor-problems", full_page=False)
        tab.reload()
        tab.wait_for_selector("#preview-root .wf-form")
        assert card(tab, 0).locator("select").first.input_value() == "yes_no"  # nothing stored

        # an XLSForm with a group and a calculation: refused, each named in the report
        survey = fire_survey()
        survey.insert(3, ["begin group", "g1", "分组", None, None, None, None, None, None])
        survey.append(["end group", None, None, None, None, None, None, None, None])
        survey.append(["calculate", "total", None, None, None, None, None, None, None])
        path = tmp_path / "消防检查.xlsx"
        path.write_bytes(
            xlsx({"survey": survey, "choices": fire_choices(), "settings": fire_settings()})
        )
        tab.goto(f"{server}/forms/")
        tab.set_input_files("#import-file", str(path))
        tab.fill("#import-code", "odk_fire")
        tab.click("form[action='/forms/import'] button.primary")
        tab.wait_for_selector("#report-title")
        report = tab.inner_text("main")
        assert "文件没有导入" in report and "begin group" in report and "calculate" in report
        screenshot(tab, "forms-import-report")

        # the office pages on a phone: nothing wider than the screen
        tab.set_viewport_size({"width": 360, "height": 640})
        for path in ("/forms/", editor_path):
            tab.goto(f"{server}{path}")
            wide = tab.evaluate(WIDE)
            assert tab.evaluate("document.documentElement.scrollWidth") <= 360, (path, wide)
        screenshot(tab, "forms-editor-phone", full_page=False)
        assert errors == []
    finally:
        context.close()
