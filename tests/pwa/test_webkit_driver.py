"""The WebKit driver (tests/engines/webkit.py) keeps the EnginePhone contract with the worker app.

WebKitGTK through WebKitWebDriver, our PyGObject browser and one Xvfb for the session. Each
test says which part of tests/engines/base.py's rules it proves. `make webkit` installs the
engine; without it the tests skip (fail under CI=true).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engines import wait_settled
from tests.engines.base import DEFAULT_FIX, PIXEL_RATIO, VIEWPORT, EngineMissing
from tests.pwa.conftest import DEMO_PASSWORD, IN_CI, LiveServer

# `webkit` first: a machine without WebKit skips before the demo server is built.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("webkit")]

IDB_PUT = """
const [bytes] = args;
const db = await new Promise((resolve, reject) => {
  const open = indexedDB.open('webkit-driver-test', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('blobs');
  open.onsuccess = () => resolve(open.result);
  open.onerror = () => reject(open.error);
});
const buffer = new Uint8Array(bytes).buffer;
await new Promise((resolve, reject) => {
  const tx = db.transaction('blobs', 'readwrite');
  tx.objectStore('blobs').put(buffer, 'photo');
  tx.oncomplete = resolve;
  tx.onerror = () => reject(tx.error);
});
db.close();
"""

IDB_GET = """
const db = await new Promise((resolve, reject) => {
  const open = indexedDB.open('webkit-driver-test', 1);
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
return value instanceof ArrayBuffer ? Array.from(new Uint8Array(value)) : String(value);
"""

POSITION = """
const [state, result] = await Promise.all([
  navigator.permissions.query({name: 'geolocation'}).then((s) => s.state),
  new Promise((resolve) => navigator.geolocation.getCurrentPosition(
    (p) => resolve({lat: p.coords.latitude, lon: p.coords.longitude, acc: p.coords.accuracy}),
    (e) => resolve({code: e.code, denied: e.code === e.PERMISSION_DENIED}),
    {timeout: 10000},
  )),
]);
return {state, ...result};
"""


@pytest.fixture(scope="session")
def webkit() -> Any:
    """The driver module, with the session's one Xvfb started (skips when not installed)."""
    from tests.engines import webkit

    try:
        webkit.shared_display()
    except EngineMissing as missing:
        if IN_CI:
            pytest.fail(str(missing))
        pytest.skip(str(missing))
    return webkit


@pytest.fixture
def make_phone(webkit: Any, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    phones: list[Any] = []

    def make(name: str = "phone", **kwargs: Any) -> Any:
        kwargs.setdefault("geolocation", DEFAULT_FIX)
        phone = webkit.WebKitPhone(tmp_path / name, **kwargs)
        phones.append(phone)
        print(f"webkit launch {phone.launch_seconds:.2f} s")
        return phone

    yield make
    for phone in phones:
        phone.close()


def sign_in(phone: Any, server: LiveServer, username: str = "zhou.jie") -> None:
    phone.goto(f"{server.url}/app/")
    phone.wait_for("body[data-ready=true]", state="attached")
    phone.fill("#username", username)
    phone.fill("#password", DEMO_PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for("body[data-screen=home]", state="attached")
    phone.wait_until("navigator.serviceWorker.controller !== null")
    wait_settled(phone)  # the first sync's redraw comes before any tap on a list


def app_errors(phone: Any) -> list[str]:
    """Everything the worker app logged as an error in WebKit (none is tolerated: the one it
    used to log, CSP's unknown `manifest-src`, is gone from the header)."""
    return list(phone.errors)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_the_app_signs_in_and_keeps_its_worker_and_data_across_a_restart(
    make_phone: Callable[..., Any], server: LiveServer, screenshot_dir: Path, photo_jpeg: Path
) -> None:
    phone = make_phone()
    sign_in(phone, server)
    screen = phone.evaluate(
        "return {w: innerWidth, h: innerHeight, ratio: devicePixelRatio, "
        "lang: navigator.language, langs: navigator.languages};"
    )
    assert (screen["w"], screen["h"], screen["ratio"]) == (*VIEWPORT, PIXEL_RATIO), screen
    assert screen["lang"].startswith("zh"), screen
    assert "WebKit" in phone.user_agent()
    phone.wait_for("body[data-settled=true]", state="attached", timeout=30)  # first sync done
    shot = phone.screenshot(screenshot_dir / "webkit-home.png")
    assert png_size(shot) == (VIEWPORT[0] * PIXEL_RATIO, VIEWPORT[1] * PIXEL_RATIO)
    assert phone.count("body[data-screen=home]") == 1
    assert phone.text("body")

    # A photo picked in the report form (an <input type=file>) is read and shown.
    phone.evaluate("location.hash = '#/report';")
    phone.wait_for("#report-form")
    phone.set_files("#photo-album", photo_jpeg)
    phone.wait_for("#report-thumbs img")
    phone.fill("#r-desc", "楼道堆放杂物 3 处")
    assert phone.evaluate("return document.querySelector('#r-desc').value;") == "楼道堆放杂物 3 处"
    phone.evaluate("location.hash = '#/';")
    phone.wait_for("body[data-screen=home]", state="attached")

    bytes_ = list(range(256)) * 4
    phone.evaluate(IDB_PUT, bytes_)
    phone.reload()
    phone.wait_until("navigator.serviceWorker.controller !== null")
    url = phone.current_url()
    phone.restart()
    assert phone.current_url() == url
    phone.wait_for("body[data-screen=home]", state="attached")  # still signed in
    phone.wait_until("navigator.serviceWorker.controller !== null")
    assert phone.evaluate(IDB_GET) == bytes_
    assert not app_errors(phone), "\n".join(phone.errors)


def test_a_mocked_fix_reaches_the_page_and_a_denial_is_permission_denied(
    make_phone: Callable[..., Any], server: LiveServer
) -> None:
    granted = make_phone("granted")
    granted.goto(f"{server.url}/app/")
    lat, lon, accuracy = DEFAULT_FIX
    assert granted.evaluate(POSITION) == {
        "state": "granted", "lat": lat, "lon": lon, "acc": accuracy
    }  # fmt: skip
    denied = make_phone("denied", geolocation=None)
    denied.goto(f"{server.url}/app/")
    assert denied.evaluate(POSITION) == {"state": "denied", "code": 1, "denied": True}
    assert not app_errors(granted) + app_errors(denied)


def test_console_errors_and_uncaught_exceptions_land_in_errors(
    make_phone: Callable[..., Any], server: LiveServer
) -> None:
    phone = make_phone()
    phone.goto(f"{server.url}/app/")
    phone.wait_for("body[data-ready=true]", state="attached")
    app = app_errors(phone)
    phone.errors.clear()
    phone.evaluate("console.error('x');")
    assert [e.split(" @ ")[0] for e in phone.errors] == ["console: x"], phone.errors
    phone.evaluate(
        "setTimeout(() => { window.thrown = true; throw new Error('boom'); });"
        "Promise.reject(new Error('nobody waits'));"
    )
    phone.wait_until("window.thrown === true")
    assert sorted(e.split(" @ ")[0] for e in phone.errors[1:]) == [
        "pageerror: Error: boom",
        "pageerror: Unhandled Promise Rejection: Error: nobody waits",
    ], phone.errors
    # With the server away a request the service worker passes on fails with errors, which
    # count unless the test expects network failures.
    phone.wait_until("navigator.serviceWorker.controller !== null")
    fetch = "await fetch('/app/not-precached.txt').catch(() => null);"
    server.stop()
    try:
        phone.errors.clear()
        phone.evaluate(fetch)
        failed = list(phone.errors)
        phone.errors.clear()
        phone.expected_network_errors = True
        phone.evaluate(fetch)
        phone.evaluate("console.error('still an error');")
    finally:
        server.start()
    print("webkit, failed request:", *failed, sep="\n  ")
    assert failed, "a failed request left no error"
    assert [e.split(" @ ")[0] for e in phone.errors] == ["console: still an error"]
    assert not app, "\n".join(app)


IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)

AGE_OUTBOX = """
const [hours] = args;
await new Promise((resolve, reject) => {
  const r = indexedDB.open('wangge');
  r.onsuccess = () => {
    const tx = r.result.transaction('outbox', 'readwrite');
    const store = tx.objectStore('outbox');
    store.openCursor().onsuccess = (e) => {
      const cursor = e.target.result;
      if (!cursor) return;
      const at = new Date(Date.now() - hours * 3600e3).toISOString();
      cursor.update({ ...cursor.value, recorded_at_device: at });
      cursor.continue();
    };
    tx.oncomplete = () => { r.result.close(); resolve(); };
    tx.onerror = () => reject(tx.error);
  };
  r.onerror = () => reject(r.error);
});
"""


def test_safari_on_an_iphone_is_told_to_add_the_app_and_warned_when_records_wait_a_day(
    make_phone: Callable[..., Any], server: LiveServer
) -> None:
    """iOS deletes a site's storage after 7 days without use unless the app is on the Home
    Screen: in the real engine of iOS Safari (here with an iPhone's user agent, and so not
    standalone) the app says how to add it, and a record unsent for a day turns it red."""
    phone = make_phone(user_agent=IPHONE_SAFARI)
    sign_in(phone, server)
    assert phone.evaluate("return navigator.standalone === true;") is False
    phone.wait_for("#ios-banner")
    assert "「分享」→「添加到主屏幕」" in phone.text("#ios-banner")
    assert phone.count("#persist-banner") == 0  # adding to the Home Screen is what keeps data
    phone.evaluate("location.hash = '#/visits';")
    phone.wait_for("[data-household]")
    server.stop()
    phone.expected_network_errors = True
    phone.click("[data-household]")
    phone.wait_for("#visit-form")
    phone.fill("#v-situation", "iPhone 上等了一天多的走访")
    phone.wait_for("#toast", state="hidden")
    phone.click("#visit-form button[type=submit]")
    phone.wait_for("body[data-screen=visits]", state="attached")
    phone.evaluate(AGE_OUTBOX, 25)
    phone.reload()
    phone.wait_for("#ios-stale-banner", timeout=30)
    words = phone.text("#ios-stale-banner")
    assert "有 1 条记录超过一天没有上传" in words and "添加到主屏幕" in words
    assert phone.count("#ios-stale-banner .close") == 0 and phone.count("#ios-banner") == 0
    server.start()
    phone.click("#ios-stale-banner button")  # 立即同步
    phone.wait_for("#ios-stale-banner", state="detached", timeout=30)
    phone.expected_network_errors = False
    assert app_errors(phone) == []
