"""Time from `make run` to the first 200 on /healthz, next to a bare `flask run` of the same app.

`make run` includes the set-up it always does (install check, translations, migrations, the
idempotent demo load); the baseline starts the already-set-up app directly. Both use a fresh
instance folder, so the first measurement also builds the database and the demo district.
Run: .venv/bin/python bench/bench_startup.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_to_healthy(command: list[str], env: dict[str, str], port: int, limit_s: float) -> float:
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while time.perf_counter() - start < limit_s:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"{command} not healthy after {limit_s} s")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one run each (default: 3)")
    runs = 1 if parser.parse_args().quick else 3
    make_times, flask_times = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            env = dict(os.environ, WANGGE_INSTANCE_PATH=tmp, PORT=str(port))
            make_times.append(time_to_healthy(["make", "run"], env, port, 300))
            port = free_port()
            env["PORT"] = str(port)
            flask = [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)]
            flask_times.append(time_to_healthy(flask, env, port, 60))
    print(f"make run → first 200 on /healthz (fresh instance): best {min(make_times):.2f} s")
    print(f"baseline: flask run of the set-up app → first 200:  best {min(flask_times):.2f} s")


if __name__ == "__main__":
    main()
