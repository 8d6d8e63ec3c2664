"""A real browser picks a care tag's visit form on /admin/care-tags/ (issue 18 §2), zh-CN.

The demo district plus one published form; the screenshot (care-tags.png, 1366×800) goes to a
temporary folder, or to docs/screenshots/ with `--update-screenshots` (tests/browser.py).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.demo_server import FLASK, REPO, demo_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAKE_FORM = """
from server import create_app
from server.extensions import db
from server.forms.models import Form
from server.forms.store import publish, save_draft
app = create_app()
with app.app_context():
    form = Form(code="elder_visit", title_zh="独居老人走访表")
    db.session.add(form)
    db.session.flush()
    publish(db.session, save_draft(db.session, form, {"format": 1,
        "title": {"zh": "独居老人走访表"},
        "questions": [{"name": "well", "type": "yes_no", "label": {"zh": "身体状况良好?"}}]}))
    db.session.commit()
"""


def _with_a_form(env: dict[str, str]) -> None:
    python = FLASK[0]
    subprocess.run([python, "-c", MAKE_FORM], cwd=REPO, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("care-tags"), prepare=_with_a_form) as url:
        yield url


def test_an_administrator_picks_a_care_tags_visit_form(server: str, browser: Any, screenshot):
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{server}/login")
    page.fill("#username", "admin")
    page.fill("#password", "wangge-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{server}/")
    page.goto(f"{server}/admin/care-tags/")
    assert page.locator("h1").inner_text() == "关爱标签的走访表单"
    first = page.locator("tbody tr").first
    first.locator("select").select_option(label="独居老人走访表")
    first.locator("button").click()
    page.wait_for_selector("text=已保存")
    assert page.locator("tbody tr").first.locator("select option:checked").inner_text() == (
        "独居老人走访表"
    )
    shot = screenshot(page, "care-tags", full_page=False)
    assert shot.exists() and not errors, errors
    context.close()
