"""The Gecko driver (tests/engines/firefox.py) keeps the EnginePhone contract with the worker
app: Firefox ESR on a profile directory of its own, against the demo server of tests/pwa.

What the cross-engine scenarios rely on is proven here once, in Firefox: sign-in, the service
worker in control, storage surviving a browser restart, the mocked fix and a denied
permission, error capture, the 360×640 @2 phone viewport, zh-CN, screenshots and an offline
reload after the server process is gone."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser import IN_CI
from tests.engines import wait_settled
from tests.engines.base import DEFAULT_FIX, PIXEL_RATIO, VIEWPORT, EngineMissing
from tests.engines.firefox import FirefoxPhone
from tests.pwa.conftest import DEMO_PASSWORD, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MakePhone = Callable[..., FirefoxPhone]

# The screens a worker opens in a day (hash routes of pwa/js/app.js), visited once so that
# anything the app logs in Firefox on them shows up in `errors`.
SCREENS = ("visits", "report", "cases", "sync", "settings", "home")


@pytest.fixture
def make_phone(tmp_path: Path) -> Iterator[MakePhone]:
    """Firefox phones on their own profiles; the test fails on any error they logged."""
    phones: list[FirefoxPhone] = []

    def make(name: str = "phone", **kwargs: object) -> FirefoxPhone:
        try:
            phone = FirefoxPhone(tmp_path / name, **kwargs)  # type: ignore[arg-type]
        except EngineMissing as missing:
            if IN_CI:
                pytest.fail(str(missing))
            pytest.skip(str(missing))
        phones.append(phone)
        return phone

    yield make
    errors = [error for phone in phones for error in phone.errors]
    for phone in phones:
        phone.close()
    assert not errors, "errors logged in Firefox:\n" + "\n".join(errors)


def sign_in(phone: FirefoxPhone, server: LiveServer) -> None:
    phone.goto(f"{server.url}/app/")
    phone.wait_for("body[data-ready=true]", state="attached")
    phone.fill("#username", "zhou.jie")
    phone.fill("#password", DEMO_PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for("body[data-screen=home]", state="attached")
    phone.wait_until("navigator.serviceWorker.controller !== null")
    wait_settled(phone)  # the first sync's redraw comes before any tap on a list


POSITION = """
return await new Promise((resolve) => navigator.geolocation.getCurrentPosition(
  (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, acc: p.coords.accuracy }),
  (e) => resolve({ code: e.code, denied: e.code === e.PERMISSION_DENIED }),
  { timeout: 10000 },
));
"""


def test_phone_signs_in_and_looks_like_a_phone(
    server: LiveServer, make_phone: MakePhone, tmp_path: Path
) -> None:
    phone = make_phone(geolocation=DEFAULT_FIX)
    assert phone.engine == "firefox"
    sign_in(phone, server)
    controller = phone.evaluate("return navigator.serviceWorker.controller.scriptURL")
    assert controller.startswith(f"{server.url}/app/"), controller

    metrics = phone.evaluate(
        "return { w: innerWidth, h: innerHeight, dpr: devicePixelRatio,"
        " cw: document.documentElement.clientWidth,"
        " lang: navigator.language, langs: navigator.languages }"
    )
    assert (metrics["w"], metrics["h"]) == VIEWPORT, metrics
    assert metrics["cw"] == VIEWPORT[0], "a scrollbar takes room from the page"
    assert metrics["dpr"] == PIXEL_RATIO, metrics
    assert metrics["lang"].startswith("zh"), metrics
    assert "Firefox/" in phone.user_agent()
    assert phone.text("#tabs").strip(), "the tab bar has no words"
    assert phone.count("#tabs a") >= 3

    fix = phone.evaluate(POSITION)
    assert (fix["lat"], fix["lon"], fix["acc"]) == pytest.approx(DEFAULT_FIX), fix
    assert phone.evaluate("return args[0] + args[1].n", 2, {"n": 3}) == 5

    for screen in SCREENS:
        phone.goto(f"{server.url}/app/#/{screen}")
        phone.wait_for(f"body[data-screen={screen}]", state="attached")

    shot = phone.screenshot(tmp_path / "firefox-home.png")
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert struct.unpack(">II", head[16:24]) == (720, 1280)


def test_errors_are_collected(server: LiveServer, make_phone: MakePhone) -> None:
    phone = make_phone()
    phone.goto(f"{server.url}/app/")
    phone.wait_for("body[data-ready=true]", state="attached")
    phone.evaluate("console.error('x'); setTimeout(() => { throw new Error('thrown later'); }, 0);")
    deadline = time.monotonic() + 10
    while len(phone.errors) < 2 and time.monotonic() < deadline:
        phone.wait_until("true")  # a round trip, so the BiDi events can arrive
    assert any(e.startswith("console: x") for e in phone.errors), phone.errors
    assert any(e.startswith("pageerror:") and "thrown later" in e for e in phone.errors)
    phone.errors.clear()


def test_denied_geolocation(server: LiveServer, make_phone: MakePhone) -> None:
    phone = make_phone(geolocation=None)
    phone.goto(f"{server.url}/app/")
    phone.wait_for("body[data-ready=true]", state="attached")
    state = "return (await navigator.permissions.query({name: 'geolocation'})).state"
    assert phone.evaluate(state) == "denied"
    answer = phone.evaluate(POSITION)
    assert answer == {"code": 1, "denied": True}, answer


STORE_BUFFER = """
const db = await new Promise((resolve, reject) => {
  const open = indexedDB.open('firefox-driver-probe', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('blobs');
  open.onsuccess = () => resolve(open.result);
  open.onerror = () => reject(open.error);
});
const bytes = new Uint8Array(args[0]).map((_, i) => (i * 7) % 256);
await new Promise((resolve, reject) => {
  const tx = db.transaction('blobs', 'readwrite');
  tx.objectStore('blobs').put(bytes.buffer, 'photo');
  tx.oncomplete = resolve;
  tx.onerror = () => reject(tx.error);
});
db.close();
"""

READ_BUFFER = """
const db = await new Promise((resolve, reject) => {
  const open = indexedDB.open('firefox-driver-probe', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('blobs');
  open.onsuccess = () => resolve(open.result);
  open.onerror = () => reject(open.error);
});
const value = await new Promise((resolve, reject) => {
  const get = db.transaction('blobs').objectStore('blobs').get('photo');
  get.onsuccess = () => resolve(get.result);
  get.onerror = () => reject(get.error);
});
db.close();
if (!(value instanceof ArrayBuffer)) return { kind: String(value) };
const bytes = new Uint8Array(value);
const ok = bytes.every((b, i) => b === (i * 7) % 256);
return { kind: 'ArrayBuffer', length: bytes.length, ok };
"""


def test_restart_keeps_the_app_and_it_runs_offline(
    server: LiveServer, make_phone: MakePhone, tmp_path: Path
) -> None:
    phone = make_phone("restarted")
    sign_in(phone, server)
    assert Path(phone.driver.capabilities["moz:profile"]) == tmp_path / "restarted"
    phone.evaluate(STORE_BUFFER, 300_000)

    phone.restart()
    assert len(phone.launch_seconds) == 2
    phone.wait_for("body[data-screen=home]", state="attached")
    stored = phone.evaluate(READ_BUFFER)
    assert stored == {"kind": "ArrayBuffer", "length": 300_000, "ok": True}, stored
    phone.wait_until("navigator.serviceWorker.controller !== null")

    server.stop()
    phone.expected_network_errors = True
    phone.reload()
    phone.wait_for("body[data-screen=home]", state="attached")
    assert phone.evaluate("return navigator.serviceWorker.controller !== null")
    assert phone.count("#tabs a") >= 3
    phone.restart()  # a cold start with no server: everything comes from the profile
    phone.wait_for("body[data-screen=home]", state="attached")
    assert phone.current_url().startswith(f"{server.url}/app/")
    print("firefox launches (s):", phone.launch_seconds, "ignored offline:", phone.ignored_errors)
