"""WebKit phone: WebKitGTK driven through WebKitWebDriver (W3C WebDriver) with Selenium.

The browser is `webkit_browser.py`, a small PyGObject program run by Debian's
`/usr/bin/python3` (the stock MiniBrowser's automation mode is a private session: no Blobs
in IndexedDB, no profile on disk, no console output). It draws into an X display: one Xvfb
per test process (`shared_display()`), started on first use and stopped at exit. Installed
by `make webkit` (Debian packages only).

Console messages: WebKit writes each one, from every web process of the browser, as a
`[url:line:col: ]CONSOLE <SOURCE> <LEVEL> <text>` line to the browser's stderr, which the
browser points at `<profile>/console.log`. Every call on the phone (and `close()`) reads the
new lines, and those of level ERROR (console.error, uncaught exceptions, unhandled
rejections, CSP and network errors) go to `errors`; so does reading `errors` and setting
`expected_network_errors` (lines logged before the change are judged by the old value).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import re
import select
import signal
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

from tests.engines.base import (
    PIXEL_RATIO,
    VIEWPORT,
    EngineMissing,
    EngineTimeout,
)
from tests.engines.webkit_browser import BROWSER_NAME

WEBDRIVER = os.environ.get("WANGGE_WEBKIT_DRIVER", "/usr/bin/WebKitWebDriver")
XVFB = os.environ.get("WANGGE_XVFB", "/usr/bin/Xvfb")
SYSTEM_PYTHON = "/usr/bin/python3"  # where Debian's python3-gi and WebKit2 4.1 typelib live
BROWSER = Path(__file__).with_name("webkit_browser.py")
INSTALL_HINT = "run `make webkit` (as root) to install WebKitGTK's driver, Xvfb and PyGObject"
# The X screen holds the 720×1280 device pixels of one phone window (GDK_SCALE=2).
SCREEN = "800x1400x24"
_POLL_S = 0.05
# A fetch that a navigation cancels is logged by WebKit as an error ("Fetch API cannot load
# … due to access control checks"): not the page's fault, so dropped between these markers,
# which goto() and reload() log around the navigations they start.
_NAVIGATING, _NAVIGATED = "wangge-driver: navigating", "wangge-driver: navigated"
_CANCELLED_BY_NAVIGATION = re.compile(r"^Fetch API cannot load .* due to access control checks")

# `[url:line:col: ]CONSOLE [SOURCE ]LEVEL text`, e.g. "CONSOLE JS ERROR Error: boom".
_CONSOLE_LINE = re.compile(
    r"^(?:(?P<where>.*?:\d+:\d+): )?CONSOLE (?:(?P<source>[A-Z-]+) )??"
    r"(?P<level>LOG|INFO|WARN|WARNING|ERROR|DEBUG) (?P<text>.*)$"
)
# What WebKit logs for a failed request while the server is stopped (expected_network_errors).
_NETWORK_FAILURE = re.compile(
    r"Could not connect|Failed to load resource|Load failed|NetworkError|network connection"
    r"|Connection refused|Fetch API cannot load",
    re.IGNORECASE,
)


def _die_with_parent() -> None:
    """In a child before exec: SIGTERM it when its parent dies (no Xvfb or driver outlives a
    killed pytest on a shared machine)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class WebKitStartError(RuntimeError):
    """The browser is installed but its session did not start (the message has its log)."""


class WebKitScriptError(RuntimeError):
    """A script run by `evaluate` threw or rejected; the message is the page's error."""


@functools.cache
def check_installed() -> None:
    """Raise EngineMissing unless the driver, Xvfb, PyGObject/WebKit2 and Selenium are there."""
    missing = [p for p in (WEBDRIVER, XVFB, SYSTEM_PYTHON) if not os.access(p, os.X_OK)]
    if missing:
        raise EngineMissing(f"WebKit: {', '.join(missing)} not found: {INSTALL_HINT}")
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('WebKit2', '4.1'); "
         "gi.require_version('Gtk', '3.0'); from gi.repository import WebKit2, Gtk"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if probe.returncode != 0:
        why = probe.stderr.strip().splitlines()[-1:] or ["?"]
        raise EngineMissing(f"WebKit: PyGObject/WebKit2 4.1 missing ({why[0]}): {INSTALL_HINT}")
    try:
        import selenium  # noqa: F401
    except ImportError as error:
        raise EngineMissing("WebKit: selenium is missing: run `make setup`") from error


class XvfbDisplay:
    """A virtual X server for the browsers; Xvfb picks a free display number (-displayfd)."""

    def __init__(self, screen: str = SCREEN) -> None:
        self.screen = screen
        self.name = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> str:
        if self.proc is not None and self.proc.poll() is None:
            return self.name
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [XVFB, "-displayfd", str(write_fd), "-screen", "0", self.screen,
                 "-nolisten", "tcp", "-noreset"],
                pass_fds=[write_fd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
            os.close(write_fd)
            number = b""
            deadline = time.monotonic() + timeout
            while not number.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                    self.stop()
                    raise EngineTimeout(f"Xvfb did not report its display within {timeout} s")
                chunk = os.read(read_fd, 16)
                if not chunk:
                    self.stop()
                    raise EngineMissing(f"Xvfb exited at start (status {self.proc.poll()})")
                number += chunk
        finally:
            os.close(read_fd)
        self.name = f":{number.decode().strip()}"
        return self.name

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


_shared_display: XvfbDisplay | None = None


def shared_display() -> XvfbDisplay:
    """The test process's one Xvfb, started on first use and stopped when Python exits."""
    global _shared_display
    check_installed()
    if _shared_display is None:
        _shared_display = XvfbDisplay()
        atexit.register(_shared_display.stop)
    _shared_display.start()
    return _shared_display


# Runs the scenario's async-function body with `args`; the value comes back as JSON text so
# that it is decoded the way Playwright decodes it (undefined → None).
_EVALUATE_HEAD = """
const done = arguments[arguments.length - 1];
const args = Array.prototype.slice.call(arguments, 0, -1);
(async (args) => {
"""
_EVALUATE_TAIL = """
})(args).then(
  (value) => done({ok: value === undefined ? 'null' : JSON.stringify(value)}),
  (error) => done({
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  }),
);
"""

# Is the selector in `state`? Playwright's meaning: visible = a box and not visibility:hidden.
_STATE = """
const [css, state] = arguments;
const all = [...document.querySelectorAll(css)];
const shown = (e) => {
  const box = e.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && getComputedStyle(e).visibility !== 'hidden';
};
if (state === 'attached') return all.length > 0;
if (state === 'detached') return all.length === 0;
if (state === 'visible') return all.some(shown);
if (state === 'hidden') return !all.some(shown);
throw new Error('unknown state ' + state);
"""


class WebKitPhone:
    """One phone in WebKitGTK: a profile directory, a browser process, a WebDriver session."""

    engine = "webkit"

    def __init__(
        self,
        profile_dir: Path,
        *,
        geolocation: tuple[float, float, float] | None,
        display: XvfbDisplay | None = None,
        language: str = "zh-CN",
        user_agent: str | None = None,
        timeout: float = 15,
    ) -> None:
        check_installed()
        self.profile_dir = Path(profile_dir)
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        self.geolocation = geolocation
        self.display = display or shared_display()
        self.language = language
        self.user_agent_override = user_agent  # None: WebKitGTK's own (desktop Safari-like)
        self.timeout = timeout
        self._errors: list[str] = []
        self._expect_network_errors = False
        self._navigating = False
        self.log_path = self.profile_dir / "console.log"
        self.driver_log = self.profile_dir / "webdriver.log"
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._partial = b""
        self.driver: Any = None
        self.launch_seconds = 0.0  # wall time of the last start (driver + browser + session)
        self._start()

    # --- process ---------------------------------------------------------------------------

    def _start(self) -> None:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException

        started = time.monotonic()
        options = webdriver.WebKitGTKOptions()
        options.binary_location = SYSTEM_PYTHON
        options.add_argument(str(BROWSER))
        options.add_argument(f"--profile={self.profile_dir}")
        options.add_argument(f"--log={self.log_path}")
        options.add_argument(f"--viewport={VIEWPORT[0]}x{VIEWPORT[1]}")
        options.add_argument(f"--language={self.language}")
        if self.user_agent_override:
            options.add_argument(f"--user-agent={self.user_agent_override}")
        if self.geolocation is not None:
            options.add_argument("--geolocation=" + ",".join(map(str, self.geolocation)))
        # WebKitWebDriver matches this against the name the browser reports for itself.
        options.set_capability("browserName", BROWSER_NAME)
        env = {
            **os.environ,
            "DISPLAY": self.display.start(),
            "GDK_SCALE": str(PIXEL_RATIO),
            "GDK_BACKEND": "x11",
            "NO_AT_BRIDGE": "1",  # no accessibility bus to look for (saves a D-Bus timeout)
            "LANGUAGE": self.language.replace("-", "_"),
        }
        service = webdriver.WebKitGTKService(
            executable_path=WEBDRIVER,
            env=env,
            log_output=str(self.driver_log),
            popen_kw={"preexec_fn": _die_with_parent},
        )
        with warnings.catch_warnings():
            # Selenium's own local drivers still pass the deprecated `remote_server_addr`.
            warnings.filterwarnings("ignore", "setting remote_server_addr", DeprecationWarning)
            try:
                self.driver = webdriver.WebKitGTK(options=options, service=service)
            except WebDriverException as error:
                tail = self._log_tail()
                raise WebKitStartError(f"WebKit did not start: {error.msg}\n{tail}") from error
        self.driver.set_script_timeout(max(self.timeout, 30))
        self.driver.set_page_load_timeout(60)
        self.launch_seconds = time.monotonic() - started

    def _log_tail(self, lines: int = 20) -> str:
        text = ""
        for path in (self.log_path, self.driver_log):
            with contextlib.suppress(OSError):
                text += "".join(path.read_text(errors="replace").splitlines(True)[-lines:])
        return text

    def _browser_pid(self) -> int | None:
        try:
            return int((self.profile_dir / "browser.pid").read_text())
        except (OSError, ValueError):
            return None

    def _stop(self) -> None:
        if self.driver is None:
            return
        pid = self._browser_pid()
        try:
            self.driver.quit()
        finally:
            self.driver = None
            # Two browsers on one profile would share its databases: wait for this one to go.
            if pid is not None:
                _wait_exit(pid, timeout=10)
        self._drain()

    # --- console ---------------------------------------------------------------------------

    def _drain(self) -> None:
        """Move the error lines the browser wrote since the last call into `errors`."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                data = log.read()
        except FileNotFoundError:
            return
        self._log_offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        for raw in lines:
            match = _CONSOLE_LINE.match(raw.decode("utf-8", "replace"))
            if match and match["text"] in (_NAVIGATING, _NAVIGATED):
                self._navigating = match["text"] == _NAVIGATING
                continue
            if not match or match["level"] != "ERROR":
                continue
            text, where = match["text"], match["where"] or ""
            if self._navigating and _CANCELLED_BY_NAVIGATION.search(text):
                continue
            if where.startswith("undefined:"):  # a script run through WebDriver
                where = ""
            if self._expect_network_errors and (
                match["source"] == "NETWORK" or _NETWORK_FAILURE.search(text)
            ):
                continue
            kind = "pageerror" if match["source"] == "JS" else "console"
            self._errors.append(f"{kind}: {text}" + (f" @ {where}" if where else ""))

    # --- EnginePhone -----------------------------------------------------------------------

    @property
    def errors(self) -> list[str]:
        """The error list (one list object), brought up to date with the log when read."""
        self._drain()
        return self._errors

    @errors.setter
    def errors(self, value: list[str]) -> None:
        self._drain()
        self._errors = value

    @property
    def expected_network_errors(self) -> bool:
        return self._expect_network_errors

    @expected_network_errors.setter
    def expected_network_errors(self, value: bool) -> None:
        self._drain()  # what was logged before the change is judged by the old setting
        self._expect_network_errors = value

    def _mark(self, marker: str) -> None:
        """Log a navigation marker in the page (nothing when no page is there yet)."""
        from selenium.common.exceptions import WebDriverException

        with contextlib.suppress(WebDriverException):
            self.driver.execute_script(f"console.log({marker!r});")

    def goto(self, url: str) -> None:
        self._mark(_NAVIGATING)
        self.driver.get(url)
        self._mark(_NAVIGATED)
        self._drain()

    def current_url(self) -> str:
        return str(self.driver.current_url)

    def reload(self) -> None:
        # WebKit's reload goes through the service worker (unlike Gecko's WebDriver refresh).
        self._mark(_NAVIGATING)
        self.driver.refresh()
        self._mark(_NAVIGATED)
        self._drain()

    def restart(self) -> None:
        url = self.current_url()
        self._stop()
        self._start()
        self.goto(url)

    def close(self) -> None:
        self._stop()

    def evaluate(self, script: str, *args: Any) -> Any:
        from selenium.common.exceptions import WebDriverException

        try:
            answer = self.driver.execute_async_script(
                _EVALUATE_HEAD + script + _EVALUATE_TAIL, *args
            )
        except WebDriverException as error:
            self._drain()
            raise WebKitScriptError(error.msg or str(error)) from None
        self._drain()
        if "error" in answer:
            raise WebKitScriptError(answer["error"])
        return json.loads(answer["ok"]) if answer["ok"] is not None else None

    def _wait(self, what: str, check: Any, timeout: float) -> None:
        from selenium.common.exceptions import WebDriverException

        deadline = time.monotonic() + timeout
        last_error = ""
        while True:
            try:
                if check():
                    self._drain()
                    return
            except WebDriverException as error:  # e.g. the page navigated mid-check
                last_error = f" (last error: {error.msg})"
            if time.monotonic() > deadline:
                self._drain()
                raise EngineTimeout(f"webkit: waited {timeout} s for {what}{last_error}")
            time.sleep(_POLL_S)  # polling interval of a condition wait, not a synchronisation

    def wait_for(self, css: str, *, state: str = "visible", timeout: float = 15) -> None:
        self._wait(
            f"{css!r} to be {state}",
            lambda: self.driver.execute_script(_STATE, css, state),
            timeout,
        )

    def wait_until(self, expression: str, *, timeout: float = 15) -> None:
        self._wait(
            f"`{expression}` to be truthy",
            lambda: self.driver.execute_script(f"return !!({expression});"),
            timeout,
        )

    def _element(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        self.wait_for(css, timeout=self.timeout)
        element = self.driver.find_element(By.CSS_SELECTOR, css)
        self.driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center', inline: 'center'});", element
        )
        return element

    def fill(self, css: str, text: str) -> None:
        element = self._element(css)
        element.clear()
        element.send_keys(text)
        self._drain()

    def click(self, css: str) -> None:
        self._element(css).click()
        self._drain()

    def set_files(self, css: str, path: Path) -> None:
        from selenium.webdriver.common.by import By

        self.wait_for(css, state="attached", timeout=self.timeout)
        self.driver.find_element(By.CSS_SELECTOR, css).send_keys(str(Path(path).resolve()))
        self._drain()

    def text(self, css: str) -> str:
        self.wait_for(css, state="attached", timeout=self.timeout)
        value = self.driver.execute_script(
            "return document.querySelector(arguments[0]).innerText;", css
        )
        self._drain()
        return str(value)

    def count(self, css: str) -> int:
        return int(
            self.driver.execute_script(
                "return document.querySelectorAll(arguments[0]).length;", css
            )
        )

    def screenshot(self, path: Path) -> Path:
        # Two frames, so that what the last call changed is painted before the snapshot.
        self.driver.execute_async_script(
            "const done = arguments[0];"
            "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));"
        )
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.driver.get_screenshot_as_png())
        self._drain()
        return path

    def user_agent(self) -> str:
        return str(self.driver.execute_script("return navigator.userAgent;"))


def _wait_exit(pid: int, timeout: float) -> None:
    """Wait until process `pid` is gone (or a zombie); kill it when the time is up."""
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            return
        time.sleep(_POLL_S)  # polling a process's end


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
