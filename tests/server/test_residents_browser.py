"""The residents' pages in a real browser at 360×640: report (also offline), follow, book.

Debian's Chromium through Playwright. The report is sent while the browser is offline: it is
queued in IndexedDB and sent when the connection is back. Screenshots (residents-*.png) go
to a temporary folder, or to docs/screenshots/ with `--update-screenshots` (tests/browser.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.demo_server import demo_server
from tests.server.photo_samples import jpeg

CHROMIUM = Path("/usr/bin/chromium")
Shot = Callable[..., Path]  # the `screenshot` fixture (tests/browser.py)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo on a fresh SQLite file, served by `flask run` in its own process."""
    base = tmp_path_factory.mktemp("residents-browser")
    with demo_server(base, env={"WANGGE_REPORT_MIN_FILL_SECONDS": "1"}) as url:
        yield url


def in_browser(scenario: Callable[[Any, Any, list[str]], None]) -> None:
    """Run `scenario(context, page, problems)` in a fresh Chromium, in its own thread.

    Its own thread: the worker-app tests keep a session-wide Playwright open in the main
    thread, and the sync API refuses to start a second one beside its running loop.
    """
    playwright_api = pytest.importorskip("playwright.sync_api")

    def run() -> None:
        problems: list[str] = []
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                ],
            )
            context = browser.new_context(
                viewport={"width": 360, "height": 640},
                locale="zh-CN",
                is_mobile=True,
                has_touch=True,
            )
            page = context.new_page()
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.set_default_timeout(15_000)
            try:
                scenario(context, page, problems)
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def test_report_offline_then_follow(server: str, tmp_path: Path, screenshot: Shot) -> None:
    in_browser(
        lambda context, page, problems: _report_offline(
            server, tmp_path, screenshot, context, page, problems
        )
    )


def _report_offline(
    server: str, tmp_path: Path, screenshot: Shot, context: Any, page: Any, problems: list[str]
) -> None:
    page.goto(f"{server}/report/")
    page.wait_for_selector("#report-map path.leaflet-interactive")
    page.fill("#item-search", "shljdj")
    page.wait_for_function("() => document.getElementById('catalogue_item_id').value !== ''")
    page.fill("#address", "新华路329弄")
    page.click("#report-map", position={"x": 180, "y": 120})
    page.wait_for_function("() => document.getElementById('lat').value !== ''")
    page.fill("#description", "弄口垃圾堆了三天,有异味。")
    page.fill("#phone", "13900000329")
    # Who may see it: kind, progress and rough place (the default) unless the resident says.
    assert page.is_checked("input[name=disclosure][value=listed]")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg())
    page.set_input_files("#photos", str(photo))
    page.wait_for_selector("#photo-previews img")
    screenshot(page, "residents-report")
    time.sleep(1.2)  # the form's minimum fill time

    context.set_offline(True)  # type: ignore[attr-defined]
    page.click("#report-form button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('queue-state').textContent.includes('已保存')"
    )
    queued = page.evaluate(
        """() => new Promise((resolve) => {
             const r = indexedDB.open('wangge-residents', 1);
             r.onsuccess = () => {
               const q = r.result.transaction('queue').objectStore('queue').count();
               q.onsuccess = () => resolve(q.result);
             };
           })"""
    )
    assert queued == 1
    context.set_offline(False)  # type: ignore[attr-defined]
    page.wait_for_url("**/report/f/**")
    assert "XH-" in page.inner_text("h1")
    assert "13900000329" not in page.content()
    assert "公开概况" in page.inner_text(".facts")
    screenshot(page, "residents-follow")
    assert [
        p for p in problems if "Failed to fetch" not in p and "ERR_INTERNET_DISCONNECTED" not in p
    ] == []


def test_directory_and_booking(server: str, screenshot: Shot) -> None:
    in_browser(
        lambda _context, page, problems: _directory_and_booking(server, screenshot, page, problems)
    )


def _directory_and_booking(server: str, screenshot: Shot, page: Any, problems: list[str]) -> None:
    page.goto(f"{server}/services/")
    page.wait_for_selector("#points-map path.leaflet-interactive")
    screenshot(page, "residents-directory")
    page.goto(f"{server}/services/p/CO-01")
    page.click(".slots details summary >> nth=0")
    page.fill(".slots details[open] input[name=name]", "王阿姨")
    page.fill(".slots details[open] input[name=phone]", "13900001234")
    time.sleep(1.2)
    page.click(".slots details[open] button[type=submit]")
    page.wait_for_url("**/services/b/**")
    assert "待确认" in page.content()
    screenshot(page, "residents-booking")
    assert problems == []
