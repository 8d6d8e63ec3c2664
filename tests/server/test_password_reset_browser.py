"""One real browser run through "forgot password", the mailed link and the admin's user list.

gunicorn serves the app, a real SMTP server (aiosmtpd) takes the mail, Debian's Chromium
drives the pages; any console error (a CSP violation is one) or unexpected HTTP error fails
the test. Screenshots (password-reset*.png, admin-users*.png) go to a temporary folder, or
to docs/screenshots/ with `--update-screenshots` (tests/browser.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from server.extensions import db
from tests.live import LiveServer, free_port
from tests.server.test_password_reset import SENDER, Inbox, link_in

NEW_PASSWORD = "lantern river 2026"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # One backend is enough for what a browser sees; the logic runs on both elsewhere.
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def server(app: Any, database_url: str, tmp_path: Path, smtp: Any) -> Iterator[LiveServer]:
    _, port = smtp
    db.session.remove()  # the live server writes to this database too
    live = LiveServer(
        database_url,
        tmp_path / "live",
        workers=1,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(port),
        MAIL_SECURITY="none",
        MAIL_SENDER=SENDER,
    )
    live.env["WANGGE_PUBLIC_URL"] = live.url
    live.start()
    yield live
    live.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    tab = context.new_page()
    problems: list[str] = []
    expected: set[int] = set()

    def on_console(message: Any) -> None:
        # Chromium logs every 4xx page as a console error; the expected ones are no problem.
        if message.type == "error" and not any(
            f"status of {status} " in message.text for status in expected
        ):
            problems.append(f"console {message.type}: {message.text}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on(
        "response",
        lambda r: (
            problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and r.status not in expected
            else None
        ),
    )
    tab.set_default_timeout(15_000)
    tab.expected_statuses = expected  # a test may allow e.g. the 410 of a used link
    yield tab
    context.close()
    assert problems == []


def test_forgot_password_mail_and_the_reset_page_in_a_real_browser(
    make_user, server, smtp, page, screenshot
):
    inbox, _ = smtp
    worker = make_user("worker", username="zhou.jie", display_name="周杰", email="zj@example.cn")
    admin = make_user("admin", username="admin", display_name="系统管理员")
    url = server.url

    page.goto(f"{url}/login")
    page.click("text=忘记密码")
    page.wait_for_url(f"{url}/forgot-password")
    page.fill("#username", worker.username)
    screenshot(page, "password-reset-forgot")
    page.click("main button[type=submit]")
    page.wait_for_selector("main .flash")
    assert "链接已发往该邮箱" in page.inner_text("main")
    screenshot(page, "password-reset-sent")

    (message,) = inbox.wait_for(1)
    link = link_in(message)
    assert link.startswith(f"{url}/password-reset/")
    page.goto(link)
    assert "周杰" in page.inner_text("main")
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    screenshot(page, "password-reset")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/login")
    assert "密码已修改" in page.inner_text("main .flash")
    screenshot(page, "password-reset-done")

    page.fill("#username", worker.username)
    page.fill("#password", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/")

    page.expected_statuses.add(410)
    page.goto(link)
    assert "已被使用" in page.inner_text("main")
    screenshot(page, "password-reset-used")

    # The administrator's side: the user list and a link issued from it.
    page.click("header button:has-text('退出登录')")
    page.wait_for_url(f"{url}/login")
    page.fill("#username", admin.username)
    page.fill("#password", "correct horse battery")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.click("nav >> text=工作人员")
    page.click("main a:has-text('全部账号的重置链接')")
    page.wait_for_selector("main table")
    screenshot(page, "admin-users")
    page.click(f"button[aria-label='为 {worker.username} 签发重置链接']")
    page.wait_for_selector("#link")
    assert page.input_value("#link").startswith(f"{url}/password-reset/")
    screenshot(page, "admin-users-link-issued")
