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


def in_browser(
    scenario: Callable[[Any, Any, list[str]], None],
    *,
    user_agent: str | None = None,
    init_script: str | None = None,
) -> None:
    """Run `scenario(context, page, problems)` in a fresh Chromium, in its own thread
    (optionally with another browser's user agent and a script run before the page's own).

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
                **({"user_agent": user_agent} if user_agent else {}),
            )
            if init_script:
                context.add_init_script(init_script)
            context.on(
                "console",
                lambda m: (
                    problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
                ),
            )

            def watch(page: Any) -> None:
                page.set_default_timeout(15_000)
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

            context.on("page", watch)
            page = context.new_page()
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
    # The photo waits as an ArrayBuffer, never a Blob (WebKit refuses Blobs in IndexedDB).
    kinds = page.evaluate(
        """() => new Promise((resolve) => {
             const r = indexedDB.open('wangge-residents', 1);
             r.onsuccess = () => {
               const q = r.result.transaction('queue').objectStore('queue').getAll();
               q.onsuccess = () => resolve(q.result[0].photos.map(
                 (p) => Object.prototype.toString.call(p)));
             };
           })"""
    )
    assert kinds == ["[object ArrayBuffer]"]
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


def test_report_photos_from_the_camera_or_the_album(server: str, screenshot: Shot) -> None:
    in_browser(
        lambda _context, page, problems: _camera_and_album(server, screenshot, page, problems)
    )


def _camera_and_album(server: str, screenshot: Shot, page: Any, problems: list[str]) -> None:
    page.goto(f"{server}/report/")
    camera, album = page.locator("#photos-camera"), page.locator("#photos")
    assert camera.get_attribute("accept") == "image/*"
    assert camera.get_attribute("capture") == "environment"
    assert album.get_attribute("accept") == "image/*"
    assert album.get_attribute("capture") is None and album.get_attribute("multiple") is not None
    assert page.inner_text("#camera-button") == "拍照"
    assert page.inner_text("#photo-button") == "从相册选"
    page.set_input_files("#photos-camera", files=[photo_file("camera.jpg", 1)])
    page.wait_for_selector("#photo-previews img")
    page.set_input_files("#photos", files=[photo_file("album.jpg", 2)])
    page.wait_for_function("() => document.querySelectorAll('#photo-previews img').length === 2")
    page.locator("#photos-label").scroll_into_view_if_needed()
    screenshot(page, "residents-report-photos", full_page=False)
    assert problems == []


def photo_file(name: str, seed: int) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": jpeg(seed=seed)}


WECHAT_ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 "
    "MMWEBSDK/20231202 MMWEBID/2308 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 "
    "Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)
# An in-app browser at its worst: no service worker, no IndexedDB.
NO_STORAGE = """
Object.defineProperty(window, 'indexedDB', { get: () => undefined, configurable: true });
delete Navigator.prototype.serviceWorker;
"""


def test_report_in_an_in_app_browser_without_storage(server: str, screenshot: Shot) -> None:
    """Online it is sent as anywhere; offline the page says it was not sent, keeps every word,
    sends it when back online, and gives the words back if the page was closed meanwhile."""
    in_browser(
        lambda context, page, problems: _in_app_report(server, screenshot, context, page, problems),
        user_agent=WECHAT_ANDROID,
        init_script=NO_STORAGE,
    )


def _fill(page: Any, description: str, phone: str) -> None:
    page.fill("#description", description)
    page.fill("#phone", phone)
    time.sleep(1.2)  # the form's minimum fill time


def _in_app_report(
    server: str, screenshot: Shot, context: Any, page: Any, problems: list[str]
) -> None:
    page.goto(f"{server}/report/")
    assert page.evaluate("typeof indexedDB === 'undefined' && !('serviceWorker' in navigator)")
    assert page.is_hidden("#queue-state")
    page.wait_for_function(
        "() => document.getElementById('offline-hint').textContent.includes('无法把报告保存')"
    )
    # 1. offline, the page open: not sent, said so, every word still there; online: sent.
    _fill(page, "楼道灯坏了一周(微信里提交)", "13900000771")
    context.set_offline(True)
    page.set_input_files("#photos", files=[photo_file("hall.jpg", 3)])
    page.wait_for_selector("#photo-previews img")
    page.click("#report-form button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('queue-state').textContent.includes('没有发出')"
    )
    said = page.inner_text("#queue-state")
    assert "无法把它保存在手机上" in said and "不要关闭本页" in said
    assert page.input_value("#description") == "楼道灯坏了一周(微信里提交)"
    screenshot(page, "residents-report-not-kept", full_page=False)
    context.set_offline(False)
    page.wait_for_url("**/report/f/**")
    assert "XH-" in page.inner_text("h1")
    assert page.evaluate("localStorage.getItem('wangge-report-draft')") is None
    # 2. offline and the page closed: the words come back on the next visit, then sent online.
    page = context.new_page()
    page.goto(f"{server}/report/")
    assert page.is_hidden("#queue-state")  # nothing left over from the first report
    _fill(page, "垃圾桶满了没人清(页面被关掉)", "13900000772")
    context.set_offline(True)
    page.click("#report-form button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('queue-state').textContent.includes('没有发出')"
    )
    page.close()
    context.set_offline(False)
    page = context.new_page()
    page.goto(f"{server}/report/")
    page.wait_for_function(
        "() => document.getElementById('queue-state').textContent.includes('填回')"
    )
    assert page.input_value("#description") == "垃圾桶满了没人清(页面被关掉)"
    assert page.input_value("#phone") == "13900000772"
    screenshot(page, "residents-report-draft-back", full_page=False)
    time.sleep(1.2)  # a new form stamp: its minimum fill time again
    page.click("#report-form button[type=submit]")
    page.wait_for_url("**/report/f/**")
    assert [
        p for p in problems if "Failed to fetch" not in p and "ERR_INTERNET_DISCONNECTED" not in p
    ] == []
