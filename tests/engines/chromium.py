"""`ChromiumPhone`: Debian's Chromium through Playwright, as an `EnginePhone` (issue 16).

The same browser, flags and device as tests/pwa/conftest.py `Phone` (360×640 at 2×, touch,
zh-CN), but in a persistent profile (`launch_persistent_context`) so that `restart()` quits
the browser and starts it again on the same service worker, caches and IndexedDB.

Playwright's sync API runs one instance per thread, and the session's `playwright` fixture
(tests/browser.py) may hold the main thread's: each phone therefore owns a thread of its own
and every call is run there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from tests.browser import CHROMIUM
from tests.browser import CHROMIUM_ARGS as BROWSER_ARGS
from tests.engines.base import (
    DEFAULT_FIX,
    PIXEL_RATIO,
    VIEWPORT,
    EngineMissing,
    EngineTimeout,
)

# Debian's Chromium with the flags every browser test uses, in Chinese.
CHROMIUM_ARGS = [*BROWSER_ARGS, "--lang=zh-CN"]
# What Chromium logs for a fetch that found no network; expected while offline.
NETWORK_ERRORS = ("net::ERR_", "Failed to fetch", "Failed to load resource")

T = TypeVar("T")


def wrap(script: str) -> str:
    """The scenario's function body as a Playwright page function taking `args`, whose
    awaited value comes back as JSON text (so undefined, Dates… decode as in WebDriver)."""
    return (
        "async (args) => { const value = await (async (args) => {\n"
        + script
        + "\n})(args); return JSON.stringify(value === undefined ? null : value); }"
    )


class ChromiumPhone:
    engine = "chromium"

    def __init__(
        self,
        profile_dir: Path,
        *,
        geolocation: tuple[float, float, float] | None = DEFAULT_FIX,
        executable: str = CHROMIUM,
    ) -> None:
        if not Path(executable).exists():
            raise EngineMissing(f"Chromium not found at {executable}: run `make chromium`")
        self.profile_dir = Path(profile_dir)
        self.geolocation = geolocation
        self.executable = executable
        self.errors: list[str] = []
        self.expected_network_errors = False
        self._last_url = "about:blank"
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium-phone")
        self._pw: Any = None
        self._context: Any = None
        self.page: Any = None
        try:
            self._run(self._start_playwright)
            self._run(self._launch)
        except BaseException:
            self.close()  # no Playwright driver process or thread left behind
            raise

    # --- the thread every Playwright call runs in -------------------------------------------

    def _run(self, call: Callable[[], T]) -> T:
        return self._thread.submit(call).result()

    def _start_playwright(self) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as error:
            raise EngineMissing(f"playwright is not installed: {error}") from error
        self._pw = sync_playwright().start()

    def _launch(self) -> None:
        options: dict[str, Any] = {
            "executable_path": self.executable,
            "args": CHROMIUM_ARGS,
            "headless": True,
            "viewport": {"width": VIEWPORT[0], "height": VIEWPORT[1]},
            "device_scale_factor": PIXEL_RATIO,
            "is_mobile": True,
            "has_touch": True,
            "locale": "zh-CN",
            "service_workers": "allow",
        }
        if self.geolocation is not None:
            lat, lon, accuracy = self.geolocation
            options["permissions"] = ["geolocation"]
            options["geolocation"] = {"latitude": lat, "longitude": lon, "accuracy": accuracy}
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        self._context = self._pw.chromium.launch_persistent_context(
            str(self.profile_dir), **options
        )
        self._context.on("page", self._watch)
        for page in self._context.pages:
            self._watch(page)
        self.page = self._context.pages[0] if self._context.pages else self._context.new_page()

    def _watch(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        if self.expected_network_errors and any(n in text for n in NETWORK_ERRORS):
            return
        url = message.location.get("url", "")
        self.errors.append(f"console: {text} @ {url}")

    def _timeout(self, what: str, call: Callable[[], T]) -> T:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            return call()
        except PlaywrightTimeout as error:
            raise EngineTimeout(f"chromium: waited for {what}: {error.message}") from None

    # --- EnginePhone ------------------------------------------------------------------------

    def goto(self, url: str) -> None:
        self._last_url = url
        self._run(lambda: self.page.goto(url))

    def current_url(self) -> str:
        return str(self._run(lambda: self.page.url))

    def reload(self) -> None:
        # Chromium's reload goes through the service worker, as a navigation would.
        self._run(lambda: self.page.reload())

    def restart(self) -> None:
        url = self.current_url()
        self._run(lambda: self._context.close())
        self._run(self._launch)
        self.goto(url)

    def close(self) -> None:
        def stop() -> None:
            if self._context is not None:
                self._context.close()
                self._context = None
            if self._pw is not None:
                self._pw.stop()
                self._pw = None

        try:
            self._run(stop)
        finally:
            self._thread.shutdown(wait=True)

    def evaluate(self, script: str, *args: Any) -> Any:
        answer = self._run(lambda: self.page.evaluate(wrap(script), list(args)))
        return json.loads(answer)

    def wait_for(self, css: str, *, state: str = "visible", timeout: float = 15) -> None:
        self._timeout(
            f"{css} to be {state}",
            lambda: self._run(
                lambda: self.page.wait_for_selector(css, state=state, timeout=timeout * 1000)
            ),
        )

    def wait_until(self, expression: str, *, timeout: float = 15) -> None:
        self._timeout(
            expression,
            lambda: self._run(
                lambda: self.page.wait_for_function(f"() => ({expression})", timeout=timeout * 1000)
            ),
        )

    def fill(self, css: str, text: str) -> None:
        self._timeout(f"{css} to fill", lambda: self._run(lambda: self.page.fill(css, text)))

    def click(self, css: str) -> None:
        def click() -> None:
            first = self.page.locator(css).first
            first.evaluate("node => node.scrollIntoView({ block: 'center' })")
            first.click()

        self._timeout(f"{css} to click", lambda: self._run(click))

    def set_files(self, css: str, path: Path) -> None:
        self._run(lambda: self.page.set_input_files(css, str(path)))

    def text(self, css: str) -> str:
        return str(self._run(lambda: self.page.locator(css).first.inner_text()))

    def count(self, css: str) -> int:
        return int(self._run(lambda: self.page.locator(css).count()))

    def screenshot(self, path: Path) -> Path:
        self._run(lambda: self.page.screenshot(path=str(path)))
        return path

    def user_agent(self) -> str:
        return str(self.evaluate("return navigator.userAgent;"))
