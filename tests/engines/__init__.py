"""The worker app's phones in three engines, and the scenario steps every engine shares.

`launch(engine, profile_dir, …)` starts one phone (see base.py for the contract); the
driver module is imported only then, so a machine without WebKitGTK or Firefox still runs
the Chromium scenarios: a missing engine skips, and fails under CI=true.

The steps below (`login`, `idb`, `sync`, `save_report`, …) are tests/pwa/conftest.py's,
written against `EnginePhone` instead of a Playwright page.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.engines.base import DEFAULT_FIX, EngineMissing, EnginePhone

ENGINES = ("chromium", "webkit", "firefox")
DRIVERS = {
    "chromium": ("tests.engines.chromium", "ChromiumPhone"),
    "webkit": ("tests.engines.webkit", "WebKitPhone"),
    "firefox": ("tests.engines.firefox", "FirefoxPhone"),
}
IN_CI = os.environ.get("CI", "").lower() == "true"
DEMO_PASSWORD = "wangge-demo"


def missing(message: str) -> None:
    """A tool the test needs is not there: fail under CI=true, skip otherwise."""
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def launch(
    engine: str,
    profile_dir: Path,
    *,
    geolocation: tuple[float, float, float] | None = DEFAULT_FIX,
    **options: Any,
) -> EnginePhone:
    """A phone of `engine` on the profile in `profile_dir` (made if missing)."""
    module_name, class_name = DRIVERS[engine]
    try:
        driver = getattr(importlib.import_module(module_name), class_name)
        phone: EnginePhone = driver(Path(profile_dir), geolocation=geolocation, **options)
    except (ImportError, AttributeError, EngineMissing) as error:
        missing(f"{engine} is not available: {error}")
        raise  # unreachable: missing() always raises
    return phone


# --- steps shared by the scenarios ---------------------------------------------------------


def dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)


def wait_ready(phone: EnginePhone) -> None:
    phone.wait_for("body[data-ready=true]", state="attached", timeout=30)


def wait_settled(phone: EnginePhone) -> None:
    """The session's first sync is over and its screen drawn again (app.js `startSession`),
    whether the sync worked or not. A list tapped before that can be redrawn under the tap
    (a stale element in WebDriver) or a screen opened before it replaced by the redraw."""
    phone.wait_for("body[data-settled=true]", state="attached", timeout=60)


def screen(phone: EnginePhone) -> str:
    return str(phone.evaluate("return document.body.dataset.screen;"))


def go(phone: EnginePhone, hash_: str) -> None:
    """Move within the app (`#/report`, …) without a navigation."""
    phone.evaluate("location.hash = args[0];", hash_)


def login(phone: EnginePhone, server_url: str, username: str) -> None:
    """Open /app/, sign in, and wait until the service worker controls the page and the
    session's first sync has settled."""
    phone.goto(f"{server_url}/app/")
    wait_ready(phone)
    phone.fill("#username", username)
    phone.fill("#password", DEMO_PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for("body[data-screen=home]", state="attached", timeout=30)
    phone.wait_until("navigator.serviceWorker.controller !== null", timeout=30)
    wait_settled(phone)


def sync(phone: EnginePhone) -> bool:
    return bool(phone.evaluate("return await window.wangge.syncNow();"))


IDB_DUMP = """
const [name, store] = args;
return await new Promise((resolve, reject) => {
  const r = indexedDB.open(name);
  r.onsuccess = () => {
    const q = r.result.transaction(store).objectStore(store).getAll();
    q.onsuccess = () => {
      resolve(JSON.parse(JSON.stringify(q.result,
        (k, v) => v instanceof ArrayBuffer ? v.byteLength : v)));
      r.result.close();
    };
    q.onerror = () => reject(q.error);
  };
  r.onerror = () => reject(r.error);
});
"""


def idb(phone: EnginePhone, store: str, database: str = "wangge") -> list[dict[str, Any]]:
    """The records of one IndexedDB store as JSON (an ArrayBuffer as its byteLength)."""
    return list(phone.evaluate(IDB_DUMP, database, store))


def tap_clear(phone: EnginePhone, css: str) -> None:
    """Click once no toast is up. The toast (3.5 s, fixed above the tabs) covers a form's
    last button when the page cannot scroll it higher: Playwright's click waits for it to
    go, WebDriver's fails at once ("element click intercepted"). Wait as a person would."""
    phone.wait_for("#toast", state="hidden", timeout=10)
    phone.click(css)


def save_report(phone: EnginePhone, description: str, photo: Path | None = None) -> None:
    go(phone, "#/report")
    phone.wait_for("#report-form")
    if photo is not None:
        phone.set_files("#photo-album", photo)
        phone.wait_for("#report-thumbs img", timeout=30)
    phone.fill("#r-desc", description)
    tap_clear(phone, "#report-form button[type=submit]")
    phone.wait_for("body[data-screen=cases]", state="attached")


def save_visit(phone: EnginePhone, situation: str) -> str:
    """Log a visit to the first household listed (the most overdue); returns its id."""
    go(phone, "#/visits")
    phone.wait_for("[data-household]")
    household = str(
        phone.evaluate("return document.querySelector('[data-household]').dataset.household;")
    )
    phone.click("[data-household]")
    phone.wait_for("#visit-form")
    phone.fill("#v-situation", situation)
    tap_clear(phone, "#visit-form button[type=submit]")
    phone.wait_for("body[data-screen=visits]", state="attached")
    return household


def wait_outbox_empty(phone: EnginePhone, timeout_s: float = 30) -> None:
    """Sync until the outbox is empty (each round waits for the app's own sync to end)."""
    deadline = time.monotonic() + timeout_s
    while idb(phone, "outbox"):
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox not empty: {dump(idb(phone, 'outbox'))}")
        sync(phone)


def sync_idle(phone: EnginePhone) -> None:
    """The sync button is enabled again: no sync is running."""
    phone.wait_until("!document.querySelector('#sync-now').disabled", timeout=30)
