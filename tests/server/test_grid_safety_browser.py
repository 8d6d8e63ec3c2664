"""The displaced-draft flow in a real browser: upload WGS-84 as GCJ-02, see the warning over
the published grid, re-import in one click, confirm the publication with its numbers.

Screenshots (grid-displaced, grid-reimported, grid-publish-confirm, grid-publish-acknowledge)
at 1366×800 go to a temporary folder, or to docs/screenshots/ with `--update-screenshots`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.test_back_office_browser import server  # noqa: F401  (the demo, served)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(server: str, browser: Any) -> Iterator[Any]:  # noqa: F811
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    tab = context.new_page()
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    tab.set_default_timeout(30_000)
    yield tab
    context.close()
    assert problems == []


def wait_for_version_page(page: Any) -> int:
    page.wait_for_url(re.compile(r"/grids/\d+$"), timeout=60_000)
    page.wait_for_selector("#map[data-drawn=true]")
    return int(page.url.rsplit("/", 1)[1])


def test_a_displaced_upload_is_caught_fixed_in_one_click_and_published_after_confirming(
    server: str,  # noqa: F811
    page: Any,
    screenshot: Any,
    tmp_path: Path,
) -> None:
    page.goto(f"{server}/login")
    page.fill("#username", "sun.li")
    page.fill("#password", "wangge-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server}/")
    versions = page.request.get(f"{server}/api/v1/grids").json()
    live = next(v["id"] for v in versions if v["status"] == "published")
    export = page.request.get(f"{server}/api/v1/grids/{live}/export").body()
    source = tmp_path / "新华路街道网格-WGS84.geojson"
    source.write_bytes(export)

    # The reproduction: a WGS-84 file uploaded with GCJ-02 chosen in the form.
    page.goto(f"{server}/grids/")
    page.set_input_files("#file", str(source))
    page.check("input[name=datum][value=gcj02]")
    page.fill("#name", "2026 年第四季度网格")
    page.click("form.grid-upload button[type=submit]")
    displaced = wait_for_version_page(page)
    banner = page.inner_text("section.blocking")
    assert "网格发生了整体偏移" in banner and "看起来是把 WGS-84 坐标声明成了 GCJ-02" in banner
    assert "约 488 米" in banner
    screenshot(page, "grid-displaced", full_page=False)
    toggle = page.locator("#show-published")  # the published version, drawn under the draft
    assert toggle.is_checked() and "已发布版本 1（对照）" in page.inner_text("ul.legend")
    page.evaluate("document.getElementById('map-title').scrollIntoView()")
    screenshot(page, "grid-displaced-map", full_page=False)
    toggle.uncheck()
    toggle.check()
    page.evaluate("document.getElementById('diff-title').scrollIntoView()")
    assert "中位偏移(米)" in page.inner_text("body")
    screenshot(page, "grid-displaced-diff", full_page=False)

    # One click: the stored file is read again as WGS-84.
    page.click("section.blocking form.fix-form button")
    fixed = wait_for_version_page(page)
    assert fixed != displaced
    assert page.query_selector("section.blocking") is None
    assert "没有变化。" in page.inner_text("body")
    screenshot(page, "grid-reimported", full_page=False)

    # Publishing asks first, with what it moves.
    page.click("text=发布此版本…")
    page.wait_for_url(f"{server}/grids/{fixed}/publish")
    numbers = page.locator("dl.impact dd").all_inner_texts()
    assert len(numbers) == 8 and all(n.strip().isdigit() for n in numbers)
    assert numbers[0] == "0"  # the same grid: no open case changes cell
    screenshot(page, "grid-publish-confirm")
    page.click("form.publish-form button[type=submit]")
    page.wait_for_url(f"{server}/grids/{fixed}")
    assert "已发布" in page.inner_text(".flash")

    # The displaced draft still needs the acknowledgement, with real numbers of what moves.
    page.goto(f"{server}/grids/{displaced}/publish")
    assert page.is_visible("input[name=acknowledge_displacement]")
    moving = int(page.locator("dl.impact dd").first.inner_text())
    households = int(page.locator("dl.impact dd").nth(6).inner_text())
    assert moving > 0 and households > 100
    screenshot(page, "grid-publish-acknowledge")
