"""A manager drafts, previews, publishes and closes a campaign in Chromium (issue 18), zh-CN.

The demo district gets a published form through tests/server/campaign_demo_seed.py (one
seeded campaign beside it). Screenshot campaign-draft-preview.png (tests/browser.py decides
where it goes).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.demo_server import REPO, demo_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    def seed(env: dict[str, str]) -> None:
        subprocess.run(
            [sys.executable, "-m", "tests.server.campaign_demo_seed", "100", "200"],
            cwd=REPO, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip

    with demo_server(tmp_path_factory.mktemp("campaignplan"), prepare=seed) as url:
        yield url


def test_a_manager_drafts_previews_publishes_and_closes(
    server: str, browser: Any, screenshot: Any
) -> None:
    url = server
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: d.accept())
    page.set_default_timeout(20_000)
    page.goto(f"{url}/login")
    page.fill("#username", "li.qiang")
    page.fill("#password", "wangge-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/campaigns/new")
    page.fill("#code", "winter_check")
    page.fill("#title_zh", "冬季安全走访")
    page.select_option("#form_id", index=1)
    page.fill("#starts_on", "2026-01-01")
    page.fill("#ends_on", "2099-12-31")
    page.check("input[name=target_kind][value=household]")
    first = page.eval_on_selector("#responsible", "s => s.options[0].value")
    page.select_option("#responsible", [first])
    page.click("main button[type=submit].primary")
    page.wait_for_selector("#preview")
    rows = page.locator("#preview tbody tr").count()
    assert rows >= 1
    text = page.inner_text("main")
    assert "冬季安全走访" in text and "None" not in text and "campaign_" not in text
    screenshot(page, "campaign-draft-preview", full_page=False)
    page.click("#preview button.primary")
    page.wait_for_selector(".flash-info")
    assert "已发布" in page.inner_text("main")
    page.fill("#ends_on", "2100-01-31")  # the deadline pushed back
    page.click("#end-date button[type=submit]")
    page.wait_for_selector(".flash-info")
    assert "截止日期已改为 2100-01-31" in page.inner_text("main")
    assert "2026-01-01 – 2100-01-31" in page.inner_text("main")
    screenshot(page, "campaign-published", full_page=False)
    page.click("button.danger")
    page.wait_for_selector(".flash-info")
    assert "已结束" in page.inner_text("main")
    assert problems == []
    context.close()
