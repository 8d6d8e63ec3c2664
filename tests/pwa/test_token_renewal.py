"""The app renews its device token during sync without the password, and when the server
refuses, it goes back to the sign-in screen with every record and the outbox kept."""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests

from tests.pwa.conftest import DEMO_PASSWORD, LiveServer, save_visit, wait_outbox_empty

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("needs_sync")]

KV = """([key, patch]) => new Promise((resolve, reject) => {
  const r = indexedDB.open('wangge');
  r.onsuccess = () => {
    const store = r.result.transaction('kv', 'readwrite').objectStore('kv');
    const q = store.get(key);
    q.onsuccess = () => {
      const value = patch ? { ...q.result, ...patch } : q.result;
      if (patch) store.put(value, key);
      store.transaction.oncomplete = () => { r.result.close(); resolve(value); };
    };
    q.onerror = () => reject(q.error);
  };
  r.onerror = () => reject(r.error);
})"""


def session(page: Any, patch: dict[str, Any] | None = None) -> dict[str, Any]:
    return dict(page.evaluate(KV, ["session", patch]))


def works(server: LiveServer, token: str) -> bool:
    answer = requests.get(
        f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code in (200, 401)
    return answer.status_code == 200


def test_the_sync_renews_a_token_past_half_its_life_without_the_password(
    phone: Any, server: LiveServer
) -> None:
    page = phone.login("wang.jing")
    phone.sync()
    before = session(page)
    assert before["renew_after"] > 0  # half a day from the sign-in, by the phone's clock
    session(page, {"renew_after": 0})  # as if twelve hours had passed
    assert phone.sync()
    after = session(page)
    assert after["token"] != before["token"] and after["renew_after"] > 0
    assert after["device_id"] == before["device_id"]
    assert not works(server, before["token"]) and works(server, after["token"])
    assert page.evaluate("document.body.dataset.screen") == "home"


def test_a_refused_renewal_asks_for_the_password_and_keeps_the_outbox(
    phone: Any, server: LiveServer, tmp_path: Any
) -> None:
    phone.expected_network_errors = True  # the 401s below are the point
    page = phone.login("wang.jing")
    phone.sync()
    phone.context.route("**/api/v1/sync/**", lambda route: route.abort("internetdisconnected"))
    save_visit(page, "门口有积水,已提醒物业")
    assert len(phone.idb("outbox")) == 1
    device = session(page)["device_id"]
    server.query(
        "UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP WHERE device_id IN (?, ?)",
        (device, device.replace("-", "")),
    )
    phone.context.unroute("**/api/v1/sync/**")
    assert not phone.sync()
    page.wait_for_selector("body[data-screen=login]")
    assert page.input_value("#username") == "wang.jing"
    page.wait_for_selector("#expired-banner")  # says the records are kept
    assert page.is_visible("#login-hint")
    assert len(phone.idb("outbox")) == 1  # nothing lost
    page.screenshot(path=str(tmp_path / "sign-in-again.png"))
    if os.environ.get("WANGGE_SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["WANGGE_SCREENSHOT_DIR"], "sign-in-again.png"))
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-screen=home]")
    wait_outbox_empty(phone)
    assert session(page)["device_id"] == device  # the same device: its numbering goes on
    assert not page.is_visible("#expired-banner")
