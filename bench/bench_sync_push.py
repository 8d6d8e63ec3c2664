"""Push throughput through the real HTTP endpoint vs a raw SQLAlchemy Core bulk insert.

Run ``python bench/bench_sync_push.py`` (20 batches of 1,000 visit.create, each naming the
resident met, whom the server checks against the household; ``--batches N``) or ``--quick``
(2 batches). ``--profile K --batches 40`` samples the worker with py-spy at 400 Hz and prints
the top K of our functions.
gunicorn (1 worker) serves a fresh SQLite file, then (with WANGGE_TEST_POSTGRES_URL set) a
fresh PostgreSQL database; on each, the baseline inserts the same number of equivalent visit
rows with one Core executemany per 1,000, in the same run.

The two alternate in blocks of `BLOCK` batches (pushes, then as many baseline inserts), so a
busy neighbour slows both alike; each side's first batch is a warm-up, not counted (the
worker's first request, the baseline engine's connection). On PostgreSQL the baseline inserts
into the push's database. On SQLite it inserts into a copy of the seeded file: each SQLite
connection keeps its own page cache, which another connection's commit to the same file
empties, so alternating in one file would make both sides re-read pages neither re-reads alone.
The clock runs from the request's sending to its answer: the phone's own work of encoding the
body is done before.

Op ids and visit ids are time-ordered (UUID v7), as the app mints them (pwa/js/uuid.js), the
baseline's visit ids too; ``--random-ids`` sends random ones (v4), as older clients did.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
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
        "--batches", type=int, default=20, help="pushes of 1,000 per backend (40 for a profile)"
    )
    parser.add_argument(
        "--random-ids",
        action="store_true",
        help="random op ids and visit ids (UUID v4, older clients) instead of time-ordered",
    )
    args = parser.parse_args()
    batches, size = (2, 1000) if args.quick else (args.batches, 1000)
    with bench_databases() as backends:
        for backend, url in backends:
            run(backend, url, batches, size, args.profile, time_ordered=not args.random_ids)


#: Batches per side between switches: a push leaves the CPU's caches full of its own data,
#: so switching after every batch would slow the baseline's next insert (by up to ~30 %).
BLOCK = 5


def run(
    backend: str,
    url: str | None,
    batches: int,
    size: int,
    profile_top: int = 0,
    *,
    time_ordered: bool = True,
) -> None:
    folder, app, info = seeded_database(url=url)
    household = str(info["households"]["G1"][0])
    met = residents_of(app, household)
    with app.app_context():
        from server.extensions import db

        db.engine.dispose()  # SQLite: the last connection closed, the WAL is checkpointed
    baseline_url = info["url"]
    if backend == "SQLite":
        copy = folder / "baseline.db"
        shutil.copyfile(folder / "bench.db", copy)
        baseline_url = f"sqlite:///{copy}"
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
        session.headers["Content-Type"] = "application/json"
        engine = sa.create_engine(baseline_url)
        now = dt.datetime.now(dt.UTC)
        seq = 0

        def push() -> float:
            nonlocal seq
            mutations = visit_mutations(seq + 1, size, household, met, time_ordered=time_ordered)
            seq += size
            body = {"device_id": info["device_id"], "schema_version": 1, "mutations": mutations}
            data = json.dumps(body).encode()  # the phone's work, before the clock
            started = time.perf_counter()
            response = session.post(f"{base}/api/v1/sync/push", data=data, timeout=300)
            spent = time.perf_counter() - started
            assert response.status_code == 200 and response.json()["last_seq"] == seq
            return spent

        def insert(batch: int) -> float:
            started = time.perf_counter()
            rows = baseline_visit_rows(
                info, household, met, now, batch, size, time_ordered=time_ordered
            )
            with engine.begin() as conn:
                conn.execute(sa.insert(Visit), rows)
            return time.perf_counter() - started

        push(), insert(0)  # warm-up, not counted
        if profile:
            profile.start()
        push_s = raw_s = 0.0
        for first in range(0, batches, BLOCK):
            block = range(first, min(first + BLOCK, batches))
            push_s += sum(push() for _ in block)
            raw_s += sum(insert(b + 1) for b in block)
        if profile:
            profile.stop()
        engine.dispose()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    push_rate, raw_rate = batches * size / push_s, batches * size / raw_s
    print(
        f"{backend:10} push via HTTP (gunicorn): {push_rate:8,.0f} mutations/s "
        f"({batches} batches of {size}); raw Core bulk insert: {raw_rate:8,.0f} rows/s; "
        f"ratio {push_rate / raw_rate:.3f}x (target >= 0.5x)"
        f"{'' if time_ordered else '; random ids'}"
    )
    if profile:
        print(f"    raw samples: {profile.out}")
        for line in summarise_profile(profile.out, profile_top):
            print("   ", line)


if __name__ == "__main__":
    main()
