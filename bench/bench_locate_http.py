"""Benchmark the server's grid path through real HTTP on one process.

Starts ``flask run`` (one process, threaded) on 127.0.0.1 against a throwaway SQLite
instance, then, timing each step:

1. uploads a synthetic four-level grid (19,801 cells; ``--quick``: 101) through
   ``POST /api/v1/grids/imports`` as a background job, polling its progress until done;
2. publishes it (``POST /api/v1/grids/{id}/publish``);
3. sends single-point ``GET /api/v1/grid/locate`` requests one after another over a
   keep-alive connection and prints requests/s, p50 and p99 latency, next to the same
   points located in-process with ``GridIndex.locate`` (the baseline: what HTTP, Flask,
   auth, the publication check and the people lookup add).

Run ``python bench/bench_locate_http.py`` or ``--quick``.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_grid_import import LAT0, LON0, STEP, synthetic_file  # noqa: E402

from geo.locate import GridIndex, IndexedCell  # noqa: E402
from geo.reading import read_grid_file  # noqa: E402

PASSWORD = "bench-password-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def flask(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
    )


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port), "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except requests.ConnectionError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small grid, few requests")
    args = parser.parse_args()
    shape = (2, 2, 5) if args.quick else (2, 7, 10)
    requests_n = 300 if args.quick else 3000
    data = synthetic_file(*shape)
    side = shape[0] * shape[1] * shape[2]
    rng = random.Random(329)
    points = [
        (LON0 + rng.uniform(0, side * STEP), LAT0 + rng.uniform(0, side * STEP))
        for _ in range(requests_n)
    ]

    with tempfile.TemporaryDirectory() as instance:
        env = {
            **os.environ,
            "WANGGE_INSTANCE_PATH": instance,
            "WANGGE_SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.db",
            "WANGGE_SECRET_KEY": "bench",
        }
        env.pop("FLASK_DEBUG", None)
        flask(env, "db", "upgrade")
        flask(
            env,
            "users",
            "create",
            "bench.gis",
            "--role",
            "gis",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        port = free_port()
        server = start_server(env, port)
        base = f"http://127.0.0.1:{port}"
        try:
            http = requests.Session()
            token = http.post(
                f"{base}/api/v1/auth/token",
                json={
                    "username": "bench.gis",
                    "password": PASSWORD,
                    "device_id": str(uuid.uuid4()),
                    "device_name": "bench",
                },
            ).json()["token"]
            http.headers["Authorization"] = f"Bearer {token}"

            started = time.perf_counter()
            job = http.post(
                f"{base}/api/v1/grids/imports",
                files={"file": ("grid.geojson", data)},
                data={"datum": "wgs84", "background": "true"},
            )
            assert job.status_code == 202, job.text
            polls, url = 0, base + job.headers["Location"]
            while True:
                state = http.get(url).json()
                polls += 1
                if state["state"] in ("done", "failed"):
                    break
                time.sleep(0.2)
            imported_s = time.perf_counter() - started
            assert state["state"] == "done" and state["id"], state
            started = time.perf_counter()
            published = http.post(f"{base}/api/v1/grids/{state['id']}/publish")
            assert published.status_code == 200, published.text
            publish_s = time.perf_counter() - started

            http.get(f"{base}/api/v1/grid/locate", params={"lon": LON0, "lat": LAT0})  # warm
            latencies = []
            started = time.perf_counter()
            for lon, lat in points:
                t0 = time.perf_counter()
                answer = http.get(f"{base}/api/v1/grid/locate", params={"lon": lon, "lat": lat})
                latencies.append(time.perf_counter() - t0)
                assert answer.status_code == 200
            http_s = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(10)

    cells = read_grid_file(data, datum="wgs84").cells
    index = GridIndex.build(
        IndexedCell(i, c.code, c.name, c.level, c.parent_code, c.geometry)  # type: ignore[arg-type]
        for i, c in enumerate(cells)
    )
    inproc = []
    started = time.perf_counter()
    for lon, lat in points:
        t0 = time.perf_counter()
        index.locate(lon, lat)
        inproc.append(time.perf_counter() - t0)
    inproc_s = time.perf_counter() - started

    print(f"grid: {len(cells):,} cells ({len(data) / 1e6:.1f} MB); server: flask run, 1 process")
    print(f"upload + validate + store (background job, {polls} polls): {imported_s:6.2f} s")
    print(f"publish (index build, retire, relocate open cases):      {publish_s:6.2f} s")
    print(f"{'single-point locate':<34} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}")
    for name, total, lat in (
        ("HTTP GET /api/v1/grid/locate", http_s, latencies),
        ("in-process GridIndex.locate", inproc_s, inproc),
    ):
        print(
            f"{name:<34} {len(lat) / total:>9,.0f} {statistics.median(lat) * 1e3:>9.3f} "
            f"{percentile(lat, 0.99) * 1e3:>9.3f}"
        )


if __name__ == "__main__":
    main()
