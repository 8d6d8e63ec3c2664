"""The dispatcher's day and the manager's dashboard in a real browser, in Chinese, at a desk
(1366×800) and a phone (360×640) size (issue 15, items 6–9).

Every page visited fails the test on a console error or failed request, an English word outside
the allow-list (brand names, units, the language switch), a raw None/null/undefined, or an
element wider than the viewport that no scrolling box holds. Screenshots: dispatch-day-*.png
(tests/browser.py decides where they go; `--update-screenshots` writes docs/screenshots/).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.demo_server import demo_server
from tests.page_checks import SIZES, Day

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("dispatch-day")) as url:
        yield url


@pytest.fixture(params=list(SIZES))
def day(request: pytest.FixtureRequest, browser: Any, screenshot: Any) -> Iterator[Day]:
    d = Day(browser, request.param, screenshot, "dispatch-day")
    yield d
    d.context.close()


def test_the_dispatchers_day(server: str, day: Day) -> None:
    page = day.page
    day.login(server, "zhao.min")

    # An urgent hotline call: catalogue by pinyin initials found inside a keyword, Enter
    # takes the first match; register, open and dispatch in one form.
    page.goto(f"{server}/cases/new")
    page.wait_for_selector("#intake-map path.leaflet-interactive")
    page.fill("#caller_name", "王阿姨")
    page.fill("#caller_phone", "13900000329")
    page.type("#catalogue-search", "ljdf", delay=30)
    page.wait_for_selector("#catalogue-list li")
    first = page.inner_text("#catalogue-list li >> nth=0")
    page.keyboard.press("Enter")
    assert page.input_value("#catalogue_item_id") != ""
    assert page.input_value("#catalogue-search") in first
    page.select_option("#priority", "urgent")
    page.fill("#description", "弄口垃圾堆放两天无人清运,天热发臭。")
    page.type("#address", "新华路329", delay=30)
    page.wait_for_selector("#place-list li")
    page.click("#place-list li >> nth=0")
    page.wait_for_function("() => document.getElementById('placement').textContent.includes('→')")
    page.check("#then-dispatch")
    page.select_option("#unit_id", "")
    page.select_option("#assignee_id", "")
    day.look("intake")

    # Dispatching to nobody is refused before the form leaves.
    page.click("#intake-form button[type=submit].primary")
    message = page.evaluate("() => document.getElementById('unit_id').validationMessage")
    assert "请派遣给单位或人员" in message
    assert page.url.endswith("/cases/new")

    # The person list shows only the chosen unit's people.
    units = page.eval_on_selector_all("#unit_id option", "os => os.map(o => o.value)")
    unit = units[1]
    page.select_option("#unit_id", unit)
    visible = page.eval_on_selector_all(
        "#assignee_id option", "os => os.filter(o => o.value && !o.hidden).map(o => o.dataset.unit)"
    )
    assert all(u == unit for u in visible)
    page.fill("#dispatch_note", "请即派人清运")
    page.click("#intake-form button[type=submit].primary")
    page.wait_for_selector(".flash")
    flashes = page.eval_on_selector_all(".flash", "ps => ps.map(p => p.textContent)")
    assert len(flashes) == 3, flashes
    assert "已分派给" in flashes[0] and "已立案" in flashes[1] and "已派遣给" in flashes[2]
    assert page.query_selector(".status-dispatched")
    day.look("case")

    # 待核实: open, merge or cancel with a reason, on the card itself.
    page.goto(f"{server}/cases/?view=review")
    page.wait_for_selector(".review-card .review-open")
    before = page.locator(".review-card").count()
    day.look("review")
    card = page.locator(".review-card").first
    card.locator(".review-cancel input[name=note]").fill("重复来电,已电话核实")
    card.locator(".review-cancel button").click()
    page.wait_for_selector(".flash")
    assert "已注销" in page.inner_text(".flash")
    assert page.locator(".review-card").count() == before - 1
    page.locator(".review-card").first.locator(".review-open button").click()
    page.wait_for_selector(".flash")
    assert "已立案" in page.inner_text(".flash")
    day.look("review-after")

    # The queue, and no API link for the desk.
    page.goto(f"{server}/cases/")
    page.wait_for_selector("table.queue")
    assert page.query_selector("a[href='/api/v1/docs']") is None
    day.look("queue")


def test_the_managers_dashboard(server: str, day: Day) -> None:
    page = day.page
    day.login(server, "li.qiang")
    page.goto(f"{server}/dashboard/?group=area")
    page.wait_for_selector("svg.chart")
    ticks = page.eval_on_selector_all(
        "#trend-h ~ svg text[text-anchor=end]", "ts => ts.map(t => t.textContent)"
    )
    assert ticks and all(t.isdigit() for t in ticks), ticks
    says = page.eval_on_selector_all(".chart-says", "ps => ps.map(p => p.textContent)")
    assert len(says) == 3 and all("件" in s for s in says)
    assert page.inner_text("#weights-h") == "权重"
    day.look("dashboard")

    # A reversed range is refused, and says so.
    page.goto(f"{server}/dashboard/?from=2026-11-20&to=2026-11-01")
    page.wait_for_selector("#range-error")
    assert "开始日期晚于结束日期" in page.inner_text("#range-error")
    day.expect(422)  # the page's own status
    day.look("dashboard-reversed")


def test_api_docs_for_the_admin_load_cleanly_and_lead_back(server: str, day: Day) -> None:
    page = day.page
    day.login(server, "admin")
    page.click("a[href='/api/v1/docs']")
    page.wait_for_selector(".swagger-ui .info")
    day.look("api-docs", english=False)  # Swagger UI and the API are in English
    page.click("#docs-back")
    page.wait_for_url(f"{server}/")
