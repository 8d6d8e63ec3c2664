"""A real server process (gunicorn on 127.0.0.1) and a loopback proxy that cuts connections.

Reusable by any test that needs real HTTP: `live_server` (fixture in tests/conftest.py) runs
`gunicorn wsgi:app` on a free port against the test's database; `CuttingProxy` forwards to
it and can cut the client→server stream at chosen byte offsets, drop replies, or flip a byte.
Every wait here is bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
_START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _no_control_socket() -> list[str]:
    """Newer gunicorns open a control socket at one fixed path in ~; parallel servers clash."""
    from gunicorn import config

    names = {setting.name for setting in config.KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


class LiveServer:
    """`gunicorn wsgi:app` with its own instance folder; start, kill and restart it."""

    def __init__(
        self, database_url: str, instance: Path, *, workers: int = 2, **config: str
    ) -> None:
        self.database_url = database_url
        self.instance = instance
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.photo_dir = instance / "photos"
        self.env = {
            **os.environ,
            "WANGGE_SQLALCHEMY_DATABASE_URI": database_url,
            "WANGGE_INSTANCE_PATH": str(instance),
            "WANGGE_PHOTO_DIR": str(self.photo_dir),
            "WANGGE_SECRET_KEY": "live-test-secret",
            **{f"WANGGE_{key}": value for key, value in config.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = instance / "gunicorn.log"
        self.graceful_timeout: int | None = 2  # None: gunicorn.conf.py's

    def start(self) -> None:
        self.instance.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "30",
                *(
                    ["--graceful-timeout", str(self.graceful_timeout)]
                    if self.graceful_timeout is not None
                    else []
                ),
                *_no_control_socket(),
                "wsgi:app",
            ],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so `kill` takes the workers too
        )
        log.close()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/healthz", timeout=1).status_code < 500:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer in time: {self.log_path.read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        """SIGKILL the master and its workers at once, like a power cut."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def restart(self, *, hard: bool = False) -> None:
        if hard:
            self.kill()
        else:
            self.stop()
        self.start()


class CuttingProxy:
    """A threaded TCP proxy on 127.0.0.1 that misbehaves on request.

    - `cut_at(offsets)`: when the client→server byte count reaches each offset, both
      connections are closed at once (the server sees a short body, the client no reply);
    - `drop_replies(n)`: the next n replies are swallowed and the client cut off, after the
      server has already acted on the request;
    - `flip_at(offset)`: the client→server byte at that offset is inverted.
    `statuses` records the status code of every reply that passed.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.upstream_bytes = 0
        self.cuts_done = 0
        self.statuses: list[int] = []
        self._cuts: list[int] = []
        self._flips: list[int] = []
        self._drop_replies = 0
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def cut_at(self, offsets: Iterable[int]) -> None:
        with self._lock:
            self._cuts = sorted(self.upstream_bytes + offset for offset in offsets)

    def flip_at(self, offset: int) -> None:
        with self._lock:
            self._flips.append(self.upstream_bytes + offset)

    def drop_replies(self, count: int) -> None:
        with self._lock:
            self._drop_replies = count

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        self.listener.settimeout(0.2)
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            pair = (client, server)
            threading.Thread(target=self._upstream, args=pair, daemon=True).start()
            threading.Thread(target=self._downstream, args=pair, daemon=True).start()

    @staticmethod
    def _close(*sockets: socket.socket) -> None:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def _upstream(self, client: socket.socket, server: socket.socket) -> None:
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                data = b""
            if not data:
                with contextlib.suppress(OSError):
                    server.shutdown(socket.SHUT_WR)
                return
            with self._lock:
                start = self.upstream_bytes
                cut = self._cuts[0] if self._cuts else None
                if cut is not None and start + len(data) >= cut:
                    data = data[: cut - start]
                    self._cuts.pop(0)
                    self.cuts_done += 1
                    cut_now = True
                else:
                    cut_now = False
                data = self._apply_flips(start, data)
                self.upstream_bytes += len(data)
            try:
                server.sendall(data)
            except OSError:
                cut_now = True
            if cut_now:
                self._close(client, server)
                return

    def _apply_flips(self, start: int, data: bytes) -> bytes:
        hits = [f for f in self._flips if start <= f < start + len(data)]
        if not hits:
            return data
        buffer = bytearray(data)
        for flip in hits:
            buffer[flip - start] ^= 0xFF
            self._flips.remove(flip)
        return bytes(buffer)

    def _downstream(self, client: socket.socket, server: socket.socket) -> None:
        first = True
        while True:
            try:
                data = server.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._close(client, server)
                return
            if first:
                first = False
                with contextlib.suppress(ValueError, IndexError):
                    self.statuses.append(int(data.split(b" ", 2)[1]))
                with self._lock:
                    drop = self._drop_replies > 0
                    self._drop_replies -= int(drop)
                if drop:
                    self._close(client, server)
                    return
            try:
                client.sendall(data)
            except OSError:
                self._close(client, server)
                return
