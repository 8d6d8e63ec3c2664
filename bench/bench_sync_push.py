"""Push throughput through the real HTTP endpoint vs a raw SQLAlchemy Core bulk insert.

Run ``python bench/bench_sync_push.py`` (10 batches of 1,000 visit.create, each naming the
resident met, whom the server checks against the household; ``--batches N``) or ``--quick``
(2 batches). ``--profile K --batches 40`` samples the worker with py-spy at 400 Hz and prints
the top K of our functions.
gunicorn (1 worker) serves a fresh SQLite file, then (with WANGGE_TEST_POSTGRES_URL set) a
fresh PostgreSQL database; on each, the baseline inserts the same number of equivalent visit
rows with one Core executemany per 1,000, in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_load import WorkerProfile, summarise_profile
from bench.sync_setup import (
    baseline_visit_rows,
    bench_databases,
    residents_of,
    seeded_database,
    visit_mutations,
)
from server import REPO_ROOT
from server.population.models import Visit


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="sample the gunicorn worker with py-spy during the pushes; print the top N",
    )
    parser.add_argument(
        "--batches", type=int, default=10, help="pushes of 1,000 per backend (40 for a profile)"
    )
    args = parser.parse_args()
    batches, size = (2, 1000) if args.quick else (args.batches, 1000)
    with bench_databases() as backends:
        for backend, url in backends:
            run(backend, url, batches, size, args.profile)


def run(backend: str, url: str | None, batches: int, size: int, profile_top: int = 0) -> None:
    folder, app, info = seeded_database(url=url)
    household = str(info["households"]["G1"][0])
    met = residents_of(app, household)
    with app.app_context():
        from server.extensions import db

        db.engine.dispose()
    port = _port()
    env = {
        **os.environ,
        "WANGGE_SQLALCHEMY_DATABASE_URI": info["url"],
        "WANGGE_INSTANCE_PATH": str(folder),
        "WANGGE_SECRET_KEY": "bench",
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen(
        [gunicorn, "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "300", "wsgi:app"],
        cwd=REPO_ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    profile = WorkerProfile(server.pid, folder / "py-spy.txt", rate=400) if profile_top else None
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {info['token']}"
        seq, elapsed = 0, 0.0
        if profile:
            profile.start()
        for _ in range(batches):
            mutations = visit_mutations(seq + 1, size, household, met)
            seq += size
            body = {"device_id": info["device_id"], "schema_version": 1, "mutations": mutations}
            started = time.perf_counter()
            response = session.post(f"{base}/api/v1/sync/push", json=body, timeout=300)
            elapsed += time.perf_counter() - started
            assert response.status_code == 200 and response.json()["last_seq"] == seq
        if profile:
            profile.stop()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    push_rate = batches * size / elapsed

    engine = sa.create_engine(info["url"])
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    for b in range(batches):
        rows = baseline_visit_rows(info, household, met, now, b, size)
        with engine.begin() as conn:
            conn.execute(sa.insert(Visit), rows)
    raw_rate = batches * size / (time.perf_counter() - started)
    engine.dispose()
    print(
        f"{backend:10} push via HTTP (gunicorn): {push_rate:8,.0f} mutations/s "
        f"({batches} batches of {size}); raw Core bulk insert: {raw_rate:8,.0f} rows/s; "
        f"ratio {push_rate / raw_rate:.3f}x (target >= 0.5x)"
    )
    if profile:
        print(f"    raw samples: {profile.out}")
        for line in summarise_profile(profile.out, profile_top):
            print("   ", line)


if __name__ == "__main__":
    main()
