"""The one interface every engine's driver offers to the cross-engine scenarios (issue 16).

A scenario in `tests/pwa/test_engine_*.py` is written once against `EnginePhone` and runs in
Chromium (Playwright), WebKit (WebKitGTK through WebKitWebDriver, a PyGObject browser of our
own, under Xvfb) and Gecko (Firefox ESR through geckodriver and WebDriver BiDi). Each driver
lives in its own module (`chromium.py`, `webkit.py`, `firefox.py`) and is started by
`launch(engine, …)` in `tests/engines/__init__.py`.

Rules every driver keeps:
* One phone = one browser profile on disk (service worker, Cache Storage, IndexedDB survive
  `reload()` and `restart()`), viewport 360×640 CSS px at a device pixel ratio of 2, locale
  zh-CN (Accept-Language and navigator.language).
* Geolocation: `geolocation=None` denies the permission; a (lat, lon, accuracy_m) tuple grants
  it and answers every request with that fix.
* Every console message of level error, and every uncaught exception or unhandled rejection,
  of any page is appended to `errors` (as "console: …" / "pageerror: …"), except network
  failures while `expected_network_errors` is true. The scenario fixture fails the test when
  `errors` is not empty at the end.
* Waits are on conditions with a timeout (seconds) and raise `EngineTimeout` naming what was
  awaited; never a fixed sleep.
* `reload()` navigates to the current URL again (WebDriver's refresh bypasses the service
  worker in Gecko); `restart()` quits the browser process and starts it again on the same
  profile, then opens the last URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

VIEWPORT = (360, 640)
PIXEL_RATIO = 2
DEFAULT_FIX = (31.2088, 121.4266, 12.0)  # lat, lon, accuracy in metres (demo district)


class EngineMissing(RuntimeError):
    """The engine is not installed (the fixture fails under CI=true, else skips)."""


class EngineTimeout(AssertionError):
    """A wait ran out; the message says what was awaited."""


class EnginePhone(Protocol):
    engine: str  # "chromium" | "webkit" | "firefox"
    errors: list[str]
    expected_network_errors: bool

    def goto(self, url: str) -> None: ...
    def current_url(self) -> str: ...
    def reload(self) -> None: ...
    def restart(self) -> None: ...
    def close(self) -> None: ...

    # Runs `script`, the body of an async function whose arguments are `args` (as
    # `arguments[0]`… in WebDriver: drivers wrap it so `args` is an array named `args`).
    # The awaited return value comes back JSON-decoded.
    def evaluate(self, script: str, *args: Any) -> Any: ...

    def wait_for(self, css: str, *, state: str = "visible", timeout: float = 15) -> None: ...
    # `expression` is a JS expression; waits until it is truthy.
    def wait_until(self, expression: str, *, timeout: float = 15) -> None: ...

    def fill(self, css: str, text: str) -> None: ...
    def click(self, css: str) -> None: ...  # scrolls the element to the centre first
    def set_files(self, css: str, path: Path) -> None: ...  # an <input type=file>
    def text(self, css: str) -> str: ...  # innerText of the first match
    def count(self, css: str) -> int: ...
    def screenshot(self, path: Path) -> Path: ...  # the viewport, PNG, 720×1280 px
    def user_agent(self) -> str: ...
