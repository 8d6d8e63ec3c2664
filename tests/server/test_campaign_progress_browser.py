"""A campaign's progress map and report in Chromium (issue 18), in Chinese, at a desk.

The demo district gets a campaign of 300 targets and 900 answers (tests/server/
campaign_demo_seed.py). The progress map draws a polygon per responsible cell and a pin per
located finding, switches to residential areas, and the report draws its charts; no console
error, no raw code or None on the pages. Screenshots campaign-progress.png and
campaign-report.png (tests/browser.py decides where they go).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.demo_server import REPO, demo_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    seeded: dict[str, Any] = {}

    def seed(env: dict[str, str]) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "tests.server.campaign_demo_seed", "300", "900"],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        seeded.update(json.loads(done.stdout.strip().splitlines()[-1]))

    with demo_server(tmp_path_factory.mktemp("campaign"), prepare=seed) as url:
        yield url, seeded["id"]


def test_the_progress_map_and_the_report_draw_in_chinese(
    server: tuple[str, int], browser: Any, screenshot: Any
) -> None:
    url, campaign_id = server
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.set_default_timeout(20_000)
    page.goto(f"{url}/login")
    page.fill("#username", "zhao.min")
    page.fill("#password", "wangge-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/campaigns/{campaign_id}/progress")
    page.wait_for_selector("#progress-map[data-findings-drawn]", state="attached")
    drawn = page.eval_on_selector(
        "#progress-map", "e => [e.dataset.cellsDrawn, e.dataset.findingsDrawn]"
    )
    cells = page.locator("#by-cell tbody tr").count()
    assert int(drawn[0]) == cells > 10
    assert int(drawn[1]) == 9  # one case per 100 answers, all located
    assert page.locator("#progress-map path.progress-cell").count() == cells
    assert page.locator("#kpi-targets").inner_text() == "300"
    page.select_option("#level", "areas")
    areas = page.locator("#by-area tbody tr").count()
    page.wait_for_function(
        f"document.querySelectorAll('#progress-map path.progress-cell').length === {areas}"
    )
    text = page.inner_text("main")
    assert "None" not in text and "campaign_" not in text and "完成率" in text
    screenshot(page, "campaign-progress", full_page=False)
    page.goto(f"{url}/campaigns/{campaign_id}/report")
    assert page.locator("main svg.chart").count() == 3
    text = page.inner_text("main")
    assert "楼内配有灭火器吗？" in text and "消防通道堵塞" in text and "None" not in text
    screenshot(page, "campaign-report", full_page=False)
    # the exports: the progress alone, or (the box ticked, audited) every answer
    headers = {}
    for ticked in (False, True):
        page.set_checked("#campaign-export input[name=include_personal]", ticked)
        with page.expect_download() as download:
            page.click("#campaign-export button:has-text('XLSX')")
        book = load_workbook(io.BytesIO(download.value.path().read_bytes()), read_only=True)
        headers[ticked] = [c for c in next(book.active.iter_rows(values_only=True)) if c]
    assert "楼内配有灭火器吗？" in headers[True] and "填报时间" in headers[True]
    assert headers[False] == [
        "居民区",
        "网格",
        "对象",
        "已完成",
        "网格员",
        "逾期",
        "案件",
        "表单版本",
    ]
    assert problems == []
    context.close()
