"""One real browser run: intake, dispatch and the dashboard against a real server process.

Debian's Chromium through Playwright (never `playwright install`); any console error or failed
request fails the test. Screenshots (backoffice-*.png) go to a temporary folder, or to
docs/screenshots/ with `--update-screenshots` (tests/browser.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.demo_server import demo_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo on a fresh SQLite file, served by `flask run` in its own process."""
    with demo_server(tmp_path_factory.mktemp("browser")) as url:
        yield url


@pytest.fixture
def page(server: str, browser: Any) -> Iterator[object]:
    problems: list[str] = []
    # One shared browser for the session (tests/browser.py); a fresh context per test.
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    tab.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    # ERR_ABORTED is the browser dropping a request because the page navigated on (e.g.
    # the favicon of a page left at once); anything else that fails is a real failure.
    tab.on(
        "requestfailed",
        lambda r: (
            None
            if "ERR_ABORTED" in (r.failure or "")
            else problems.append(f"failed: {r.url} {r.failure}")
        ),
    )
    tab.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
    assert problems == []


def test_intake_dispatch_and_dashboard_in_a_real_browser(server: str, page, screenshot) -> None:
    page.goto(f"{server}/login")
    page.fill("#username", "zhao.min")
    page.fill("#password", "wangge-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server}/")

    # Intake: catalogue by pinyin initials, place by address search, the map says who.
    page.goto(f"{server}/cases/new")
    page.wait_for_selector("#intake-map path.leaflet-interactive")
    page.fill("#caller_name", "王阿姨")
    page.fill("#caller_phone", "13900000329")
    page.type("#catalogue-search", "dxps", delay=30)
    page.wait_for_selector("#catalogue-list li")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.select_option("#priority", "urgent")
    page.fill("#description", "弄口地面电线外皮破损裸露,天气预报有强降雨。")
    page.type("#address", "新华路329", delay=30)
    page.wait_for_selector("#place-list li")
    page.click("#place-list li >> nth=0")
    page.wait_for_function("() => document.getElementById('placement').textContent.includes('→')")
    screenshot(page, "backoffice-intake")
    page.click("main button[type=submit].primary")
    page.wait_for_selector(".flash")
    assert "已分派给" in page.inner_text(".flash")

    # Open (立案) and dispatch (派遣) from the case page.
    page.click(".step-open button[type=submit]")
    page.wait_for_selector(".step-dispatch")
    page.fill(".step-dispatch textarea", "紧急:调动工程抢修队")
    page.click(".step-dispatch button[type=submit]")
    page.wait_for_selector(".status-dispatched")
    assert "剩余时间" in page.inner_text("body") or page.query_selector(".left")
    screenshot(page, "backoffice-case")

    page.goto(f"{server}/cases/")
    page.wait_for_selector("table.queue")
    screenshot(page, "backoffice-queue")

    page.goto(f"{server}/cases/?view=review")
    page.wait_for_selector(".review-list")
    screenshot(page, "backoffice-review")

    page.goto(f"{server}/visits/")
    page.wait_for_selector("#coverage-total")
    screenshot(page, "backoffice-visits")

    page.goto(f"{server}/map/")
    page.wait_for_selector("#big-map path.leaflet-interactive")
    page.wait_for_timeout(500)
    screenshot(page, "backoffice-map")

    page.goto(f"{server}/dashboard/?group=area")
    page.wait_for_selector("svg.chart")
    assert page.inner_text("#kpi-received").strip().isdigit()
    screenshot(page, "backoffice-dashboard")
