"""E8–E10: a new version waits for the worker; location granted or denied; storage banner."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from tests.pwa.conftest import LiveServer, save_report

pytestmark = pytest.mark.browser


def served_version(server: LiveServer) -> str:
    """The cache version the server writes into sw.js (a hash of the shell files)."""
    text = requests.get(f"{server.url}/app/sw.js", timeout=5).text
    found = re.search(r"^const VERSION = '([0-9a-f]+)';$", text, re.M)
    assert found, "sw.js carries no hashed VERSION"
    return found.group(1)


def block_sync(phone: Any) -> None:
    """Keep the outbox full: every sync request fails as if there were no signal."""
    phone.expected_network_errors = True
    phone.context.route("**/api/v1/sync/**", lambda route: route.abort("internetdisconnected"))


def test_a_new_version_waits_for_the_worker_and_keeps_the_outbox(
    phone: Any, server: LiveServer
) -> None:
    page = phone.login("chen.xia")
    block_sync(phone)
    save_report(page, "版本更新前的记录")
    assert len(phone.idb("outbox")) == 1
    old_version = served_version(server)
    assert page.evaluate("caches.keys()") == [f"wangge-shell-{old_version}"]
    # A release touches a shell file and nothing else: the server's hash is the new version.
    css = server.pwa / "app.css"
    original = css.read_text()
    try:
        css.write_text(original + "\n/* next release */\n")
        new_version = served_version(server)
        assert new_version != old_version
        page.evaluate("window.__before_update = true")
        page.evaluate("location.hash = '#/report'")
        page.wait_for_selector("#report-form")
        page.fill("#r-desc", "写了一半")  # a dirty form
        page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
        page.wait_for_selector("#update-banner", timeout=15000)
        page.click("#update-button")
        page.wait_for_timeout(1000)
        assert page.evaluate("window.__before_update === true"), "reloaded under a dirty form"
        assert page.input_value("#r-desc") == "写了一半"
        page.evaluate("location.hash = '#/sync'")  # the form is gone: now it may reload
        page.wait_for_selector("#pending-count")
        with page.expect_navigation():
            page.click("#update-button")
        page.wait_for_selector("body[data-ready=true]")
        assert page.evaluate("window.__before_update === undefined")
        caches = page.evaluate("caches.keys()")
        assert caches == [f"wangge-shell-{new_version}"]
        assert [e["args"]["description"] for e in phone.idb("outbox")] == ["版本更新前的记录"]
    finally:
        css.write_text(original)


def test_location_is_stored_with_its_accuracy_when_granted(phone: Any) -> None:
    page = phone.login("wei.lan")
    block_sync(phone)
    page.wait_for_selector("#where-detail:has-text('31.20880')")
    save_report(page, "有定位的上报")
    args = phone.idb("outbox")[0]["args"]
    assert (args["lon"], args["lat"], args["accuracy_m"]) == (121.4266, 31.2088, 12)


def test_location_denied_never_blocks_saving(make_phone: Any) -> None:
    phone = make_phone(geolocation=False)
    page = phone.login("chu.ming")
    block_sync(phone)
    page.wait_for_selector("#where:has-text('未获定位权限')")
    save_report(page, "没有定位的上报")
    args = phone.idb("outbox")[0]["args"]
    assert (args["lon"], args["lat"], args["accuracy_m"]) == (None, None, None)


def test_storage_not_persisted_shows_a_banner_and_the_app_still_works(phone: Any) -> None:
    phone.context.add_init_script(
        "navigator.storage.persist = async () => false;"
        "navigator.storage.persisted = async () => false;"
    )
    page = phone.login("zheng.hao")
    block_sync(phone)
    save_report(page, "存储未受保护时的上报")
    assert page.is_visible("#persist-banner")
    assert len(phone.idb("outbox")) == 1
    page.evaluate("location.hash = '#/settings'")
    page.wait_for_selector("#storage-usage")
    assert "未受保护" in page.inner_text("#storage-persisted")


def test_english_switch_and_back(phone: Any) -> None:
    page = phone.login("zheng.hao")
    page.evaluate("location.hash = '#/settings'")
    # The AGPL's offer of the source, in the worker's language, downloads the program.
    assert "GNU AGPL-3.0" in page.inner_text("#license")
    with page.expect_download() as download:
        page.click("#license a:has-text('下载源代码')")
    assert download.value.suggested_filename.endswith("-source.tar.gz")
    page.click("text=English")
    page.wait_for_selector("h2:has-text('Settings')")
    assert page.inner_text("#tabs").count("Visits") == 1
    assert "Download the source code" in page.inner_text("#license")
    page.click("text=简体中文")
    page.wait_for_selector("h2:has-text('设置')")


def test_a_toast_never_takes_a_tap(phone: Any) -> None:
    """A toast shows for 3.5 s near the bottom, where the forms' buttons are: a tap on it
    reaches what is under it (the 登录 button here), never the toast."""
    page = phone.open()
    page.evaluate("import('/app/js/ui.js').then((ui) => ui.toast('已保存,等待同步'))")
    toast = page.wait_for_selector("#toast", state="visible")
    box = toast.bounding_box()
    assert box is not None
    under = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.id ?? ''",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert under != "toast"
    # Placed right over the sign-in button, the button still takes the tap.
    button = page.query_selector("button[type=submit]")
    rect = button.bounding_box()
    page.evaluate(
        "(top) => { const t = document.getElementById('toast');"
        " t.style.bottom = 'auto'; t.style.top = top + 'px'; }",
        rect["y"],
    )
    phone.expected_network_errors = True  # Chromium logs the 401 of a wrong password
    page.fill("#username", "chen.xia")
    page.fill("#password", "wrong password")
    page.mouse.click(rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2)
    page.wait_for_function("() => document.getElementById('login-error').textContent !== ''")
