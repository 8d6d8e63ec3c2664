"""Browser tests: a real server process on 127.0.0.1 (own SQLite, demo loaded) and Debian's
Chromium driven by Playwright. Nothing is downloaded: `make chromium` installs the browser."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from server import REPO_ROOT
from tests.browser import CHROMIUM, CHROMIUM_ARGS, IN_CI  # noqa: F401

DEMO_PASSWORD = "wangge-demo"
VIEWPORT = {"width": 360, "height": 640}

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(db: Path, instance: Path, pwa: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")}
    env.update(
        WANGGE_SQLALCHEMY_DATABASE_URI=f"sqlite:///{db}",
        WANGGE_INSTANCE_PATH=str(instance),
        WANGGE_SECRET_KEY="browser-tests",
        WANGGE_PWA_DIR=str(pwa),
        PYTHONUNBUFFERED="1",
    )
    return env


def _flask(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


class LiveServer:
    """`flask run` in a child process; stop() really takes the server away (E1)."""

    def __init__(self, root: Path, template: Path) -> None:
        self.root = root
        self.db = root / "wangge.db"
        self.pwa = root / "pwa"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        shutil.copyfile(template, self.db)
        shutil.copytree(REPO_ROOT / "pwa", self.pwa)
        self.env = _env(self.db, root / "instance", self.pwa)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = root / "server.log"

    def start(self) -> None:
        if self.proc and self.proc.poll() is None:
            return
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1",
                 "--port", str(self.port), "--no-reload", "--no-debugger", "--with-threads"],
                cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/app/manifest.webmanifest", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start; log:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    def openapi_paths(self) -> set[str]:
        spec = requests.get(f"{self.url}/api/v1/openapi.json", timeout=5).json()
        return set(spec.get("paths", {}))

    def token(self, username: str, device_id: str) -> str:
        answer = requests.post(
            f"{self.url}/api/v1/auth/token",
            json={"username": username, "password": DEMO_PASSWORD, "device_id": device_id,
                  "device_name": "pytest"},
            timeout=10,
        )  # fmt: skip
        answer.raise_for_status()
        return str(answer.json()["token"])

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import sqlite3

        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo district, made once per session."""
    base = tmp_path_factory.mktemp("pwa-demo")
    db = base / "template.db"
    env = _env(db, base / "instance", REPO_ROOT / "pwa")
    _flask("db", "upgrade", env=env)
    _flask("demo", "load", env=env)
    return db


@pytest.fixture(scope="session")
def live_server(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("pwa-live"), demo_template)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(live_server: LiveServer) -> Iterator[LiveServer]:
    """The session's server, running at the start and the end of every test."""
    live_server.start()
    yield live_server
    live_server.start()


@pytest.fixture(scope="session")
def has_sync(live_server: LiveServer) -> bool:
    return "/api/v1/sync/push" in live_server.openapi_paths()


@pytest.fixture
def needs_sync(has_sync: bool) -> None:
    """Scenarios that need the sync protocol (issue 4) run once the server has it."""
    if not has_sync:
        pytest.skip("the server has no /api/v1/sync/push yet (issue 4 not merged)")


class Phone:
    """One browser context = one installed app = one device, with its console watched."""

    def __init__(
        self,
        browser: Any,
        server: LiveServer,
        has_sync: bool,
        *,
        geolocation: bool = True,
        user_agent: str | None = None,
        init_script: str | None = None,
    ) -> None:
        """`user_agent` poses as another browser (an iPhone, WeChat); `init_script` runs
        before the page's own scripts (to take away an API an engine lacks)."""
        options: dict[str, Any] = {
            "viewport": VIEWPORT,
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
            "locale": "zh-CN",
            "service_workers": "allow",
        }
        if geolocation:
            options["permissions"] = ["geolocation"]
            options["geolocation"] = {"latitude": 31.2088, "longitude": 121.4266, "accuracy": 12}
        if user_agent:
            options["user_agent"] = user_agent
        self.context = browser.new_context(**options)
        if init_script:
            self.context.add_init_script(init_script)
        self.server = server
        self.errors: list[str] = []
        self.expected_network_errors = False
        self.has_sync = has_sync
        self.page = self.new_page()

    def new_page(self) -> Any:
        page = self.context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        return page

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        # With the server stopped, Chromium logs each failed fetch; that is the test's point.
        if self.expected_network_errors and (
            "net::ERR_" in text or "Failed to fetch" in text or "Failed to load resource" in text
        ):
            return
        url = message.location.get("url", "")
        # Until issue 4 is merged the server answers the app's sync calls with 404.
        if not self.has_sync and "/api/v1/sync/" in url and "404" in text:
            return
        self.errors.append(f"console: {text} @ {url}")

    def open(self, path: str = "/app/") -> Any:
        self.page.goto(self.server.url + path)
        self.page.wait_for_selector("body[data-ready=true]")
        return self.page

    def login(self, username: str) -> Any:
        page = self.open()
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-screen=home]")
        self.wait_for_service_worker()
        return page

    def wait_for_service_worker(self) -> None:
        self.page.wait_for_function(
            "() => navigator.serviceWorker.controller !== null", timeout=15000
        )

    def sync(self) -> bool:
        return bool(self.page.evaluate("() => window.wangge.syncNow()"))

    def idb(self, store: str) -> list[dict[str, Any]]:
        return list(
            self.page.evaluate(
                """(store) => new Promise((resolve, reject) => {
                  const r = indexedDB.open('wangge');
                  r.onsuccess = () => {
                    const q = r.result.transaction(store).objectStore(store).getAll();
                    q.onsuccess = () => { resolve(JSON.parse(JSON.stringify(q.result,
                      (k, v) => v instanceof ArrayBuffer ? v.byteLength : v))); r.result.close(); };
                    q.onerror = () => reject(q.error);
                  };
                  r.onerror = () => reject(r.error);
                })""",
                store,
            )
        )


@pytest.fixture
def make_phone(browser: Any, server: LiveServer, has_sync: bool) -> Iterator[Any]:
    phones: list[Phone] = []

    def make(**kwargs: Any) -> Phone:
        phone = Phone(browser, server, has_sync, **kwargs)
        phones.append(phone)
        return phone

    yield make
    errors = [e for p in phones for e in p.errors]
    for phone in phones:
        phone.context.close()
    assert not errors, "console errors:\n" + "\n".join(errors)


@pytest.fixture
def phone(make_phone: Any) -> Any:
    return make_phone()


def dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)


# --- app steps shared by the scenarios ---------------------------------------------------


def make_jpeg(path: Path, seed: int) -> Path:
    """A 2400×1800 camera-like JPEG of noise: big enough to need shrinking and many chunks.
    Each seed gives other bytes (the server stores a photo once per SHA-256)."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (2400, 1800), rng.randbytes(2400 * 1800 * 3))
    image.save(path, "JPEG", quality=90)
    return path


@pytest.fixture(scope="session")
def photo_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_jpeg(tmp_path_factory.mktemp("photos") / "patrol.jpg", seed=5)


def save_report(page: Any, description: str, photo: Path | None = None) -> None:
    page.evaluate("location.hash = '#/report'")
    page.wait_for_selector("#report-form")
    if photo is not None:
        page.set_input_files("#photo-album", str(photo))
        page.wait_for_selector("#report-thumbs img", timeout=15000)
    page.fill("#r-desc", description)
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("body[data-screen=cases]")


def save_visit(page: Any, situation: str) -> str:
    """Log a visit to the first household listed (the most overdue); returns its id."""
    page.evaluate("location.hash = '#/visits'")
    first = page.wait_for_selector("[data-household]")
    household = str(first.get_attribute("data-household"))
    first.click()
    page.wait_for_selector("#visit-form")
    page.fill("#v-situation", situation)
    page.click("#visit-form button[type=submit]")
    page.wait_for_selector("body[data-screen=visits]")
    return household


def wait_outbox_empty(phone: Any, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while phone.idb("outbox"):
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox not empty: {dump(phone.idb('outbox'))}")
        phone.sync()
        phone.page.wait_for_timeout(200)
