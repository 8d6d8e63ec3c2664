"""A resident's day in a real browser, in Chinese, at 360×640 and 1366×800 (issue 15).

Report a matter (pick the kind by category, a damaged photo named and left out, a too-quick
press told to wait), keep the follow link (copy it, save it), then find a service point and
book a time on one of its opening days. Every step fails on a console error, an English word
outside the allow-list, a raw None/null/undefined, or anything wider than the viewport.
Screenshots resident-day-<width>-<step>.png go to a temporary folder, or to docs/screenshots/
with `--update-screenshots` (tests/browser.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import URLSafeSerializer

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.demo_server import demo_server
from tests.server.photo_samples import jpeg

Shot = Callable[..., Path]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

#: Latin words a Chinese page may show: the language switch, formats, brands, the licence,
#: the search hint's pinyin initials, units.
ALLOWED = {"English", "OpenStreetMap", "ODbL", "AGPL", "JPEG", "PNG", "WebP", "ljdf", "jpg", "MB"}
SECRET = "browser-test"  # the demo server's WANGGE_SECRET_KEY (tests/demo_server.py)
VIEWPORTS = [(360, 640), (1366, 800)]

CHECK_PAGE = """() => {
  let text = document.body.innerText;
  // The map's own attribution belongs to the map (another part of the page, see the report).
  for (const map of document.querySelectorAll('.leaflet-container')) {
    text = text.replace(map.innerText, ' ');
  }
  text = text
    .replace(/https?:\\/\\/\\S+/g, ' ')               // links (the follow link) are addresses
    .replace(/\\d+\\.\\d+\\.\\d+\\S*/g, ' ')           // the version in the footer
    .replace(/\\b[A-Z]{1,4}-\\d[\\d-]*/g, ' ');        // case numbers (XH-2026-…), codes
  const words = [...new Set(text.match(/[A-Za-z]{2,}/g) || [])];
  const raw = (text.match(/\\b(None|null|undefined|NaN)\\b/g) || []);
  const limit = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter((el) => !el.closest('.leaflet-container, template, .hp'))
    .filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width && r.right > limit + 1;
    })
    .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className}`);
  return { words, raw, wide, scroll: document.documentElement.scrollWidth, limit };
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("resident-day")
    with demo_server(base, env={"WANGGE_REPORT_MIN_FILL_SECONDS": "1"}) as url:
        yield url


class Day:
    """One browser page and the checks every step of the day passes."""

    def __init__(self, page: Any, width: int, shot: Shot) -> None:
        self.page, self.width, self.shot = page, width, shot
        self.console: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.console.append(m.text))
        page.on("pageerror", lambda e: self.console.append(str(e)))

    def step(self, name: str, *, answered: int | None = None) -> None:
        """Check the page as it is now; `answered`: the status the step's form was meant to
        get (Chromium logs every 4xx of a fetch as a console error: that one is expected)."""
        expected = f"status of {answered}" if answered else None
        self.console = [c for c in self.console if not (expected and expected in c)]
        found = self.page.evaluate(CHECK_PAGE)
        self.shot(self.page, f"resident-day-{self.width}-{name}")
        english = sorted(set(found["words"]) - ALLOWED)
        assert not english, f"{name}: English words {english}"
        assert not found["raw"], f"{name}: raw values {found['raw']}"
        assert not found["wide"], f"{name}: wider than the viewport: {found['wide'][:5]}"
        assert found["scroll"] <= found["limit"], f"{name}: page wider than the viewport"
        assert not self.console, f"{name}: console errors {self.console}"


def in_browser(width: int, height: int, scenario: Callable[[Any, Any], None]) -> None:
    """Run `scenario(context, page)` in a fresh zh-CN Chromium, in its own thread (the worker
    app's tests keep a session-wide Playwright in the main thread)."""
    playwright_api = pytest.importorskip("playwright.sync_api")

    def run() -> None:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            mobile = width < 600
            context = browser.new_context(
                viewport={"width": width, "height": height},
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
                is_mobile=mobile,
                has_touch=mobile,
                accept_downloads=True,
            )
            context.grant_permissions(["clipboard-read", "clipboard-write"])
            page = context.new_page()
            page.set_default_timeout(20_000)
            try:
                scenario(context, page)
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["360x640", "1366x800"])
def test_a_residents_day(
    server: str, tmp_path: Path, screenshot: Shot, width: int, height: int
) -> None:
    in_browser(
        width,
        height,
        lambda context, page: _day(server, tmp_path, Day(page, width, screenshot), width),
    )


def _day(server: str, tmp_path: Path, day: Day, width: int) -> None:
    page = day.page
    page.goto(f"{server}/report/")
    day.step("1-report")

    # The kind of matter: affairs come first, by category; the search still finds by initials.
    first_group = page.eval_on_selector("#category-pick optgroup", "g => g.label")
    assert first_group == "反映问题"
    page.select_option("#category-pick", label="小区环境")
    options = page.eval_on_selector_all("#catalogue_item_id option", "os => os.length")
    assert 2 <= options <= 30, "one category's items, not the whole catalogue"
    page.select_option("#catalogue_item_id", index=1)
    page.fill("#item-search", "ljdf")
    page.wait_for_function("() => !document.getElementById('search-state').hidden")
    assert page.input_value("#catalogue_item_id") != ""
    page.fill("#address", "新华路329弄")

    # A 200-character unbroken text and the counter that shows the limit before it is hit.
    assert page.inner_text("#description + .counter") == "0/2000"
    page.fill("#description", "弄口垃圾堆了三天。" + "_" * 200)  # no break opportunity
    assert page.inner_text("#description + .counter") == f"{9 + 200}/2000"
    page.fill("#phone", f"139{width:08d}")

    # A damaged photo is named and left out; the good one is kept.
    bad, good = tmp_path / "损坏的照片.jpg", tmp_path / "good.jpg"
    bad.write_bytes(b"\xff\xd8 not really a picture")
    good.write_bytes(jpeg())
    page.set_input_files("#photos", [str(bad), str(good)])
    page.wait_for_selector("#photo-previews img")
    assert "损坏的照片.jpg" in page.inner_text("#photo-state")
    assert page.eval_on_selector_all("#photo-previews img", "i => i.length") == 1
    day.step("2-filled")

    # Pressed at once: a form served a moment ago (its signed time two seconds ahead, so
    # the press is too quick however slow this machine is) is told to wait, nothing lost,
    # and the button rests for the seconds the message names.
    stamp = URLSafeSerializer(SECRET, salt="resident-form").dumps(int(time.time()) + 2)
    page.eval_on_selector("input[name=form_ts]", "(el, v) => { el.value = v; }", stamp)
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#report-form button[type=submit]:disabled")
    assert "秒后再按一次" in page.inner_text("#queue-state")
    assert "表单无法受理" not in page.inner_text("#queue-state")
    assert page.input_value("#address") == "新华路329弄"
    day.step("3-too-quick", answered=422)
    page.wait_for_selector("#report-form button[type=submit]:enabled")
    page.click("#report-form button[type=submit]")
    page.wait_for_url("**/report/f/**")

    # The follow page: keep the link, copy it, save it.
    page.wait_for_function("() => !location.search.includes('new=')")
    follow = page.get_attribute("#follow-link", "href")
    assert (
        follow and follow.startswith(server) and "请保存这个链接" in page.inner_text(".keep-link")
    )
    assert "短信" not in page.inner_text(".keep-link")  # no SMS sender in the demo
    page.click("#copy-link")
    page.wait_for_selector("#keep-state:not([hidden])")
    assert page.evaluate("() => navigator.clipboard.readText()") == follow
    with page.expect_download() as saving:
        page.click("#save-link")
    saved = Path(saving.value.path()).read_text(encoding="utf-8")
    assert follow in saved and "XH-" in saved
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日周.", page.inner_text(".facts"))
    assert "_" * 200 in page.inner_text(".description")  # shown whole, wrapped (step checks)
    day.step("4-keep-the-link")

    # Services: the directory, a point open on weekdays only, book a time.
    page.goto(f"{server}/services/")
    page.wait_for_selector("#points-map path.leaflet-interactive")
    day.step("5-directory")
    page.goto(f"{server}/services/p/MU-01")
    days = page.eval_on_selector_all("h3.slot-day", "hs => hs.map((h) => h.textContent)")
    assert days and not [d for d in days if "周六" in d or "周日" in d], days
    page.click(".slots details summary >> nth=0")
    page.fill(".slots details[open] input[name=name]", "王阿姨")
    page.fill(".slots details[open] input[name=phone]", f"138{width:08d}")
    # The resident took ten seconds over it (a signed time, so a fast machine is no "bot").
    taken = URLSafeSerializer(SECRET, salt="resident-form").dumps(int(time.time()) - 10)
    page.eval_on_selector(
        ".slots details[open] input[name=form_ts]", "(el, v) => { el.value = v; }", taken
    )
    day.step("6-point")
    page.click(".slots details[open] button[type=submit]")
    page.wait_for_url("**/services/b/**")
    assert "待确认" in page.inner_text("main")
    assert page.is_visible("#copy-link") and page.is_visible("#save-link")  # keep this link too
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日周.", page.inner_text(".facts"))
    day.step("7-booked")
