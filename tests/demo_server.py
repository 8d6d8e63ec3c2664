"""The demo district on a fresh SQLite file, served by `flask run` in its own process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 60) -> None:
    """Return once something accepts connections on `port`; fail loudly if nothing does."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port} after {timeout_s} s") from None
            time.sleep(0.2)  # polling a process that is starting, not waiting for time


@contextmanager
def demo_server(
    base: Path,
    *,
    env: Mapping[str, str] | None = None,
    prepare: Callable[[dict[str, str]], None] | None = None,
) -> Iterator[str]:
    """Migrate, load the demo, run `prepare(env)` if given, serve; yield the base URL.

    The folder `base` holds the database and the instance folder and is removed afterwards.
    """
    settings = {
        **os.environ,
        "WANGGE_SQLALCHEMY_DATABASE_URI": f"sqlite:///{base / 'wangge.db'}",
        "WANGGE_INSTANCE_PATH": str(base / "instance"),
        "WANGGE_SECRET_KEY": "browser-test",
        **(env or {}),
    }
    for args in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([*FLASK, *args], cwd=REPO, env=settings, check=True, capture_output=True)
    if prepare is not None:
        prepare(settings)
    port = free_port()
    process = subprocess.Popen(
        [*FLASK, "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=settings,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)
