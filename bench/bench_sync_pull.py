"""A worker's first full pull: 5,000 households (+ residents), 2,000 open cases, their cells.

Run ``python bench/bench_sync_pull.py`` or ``--quick`` (1,000 / 400); ``--limit`` sets the page
size (default 1,000, the server's). Server time is the sum of the pages' request times through
the Flask app, gzip included (the client sends Accept-Encoding: gzip, as browsers do); bytes
are the JSON before and after gzip. The baseline, in the same run, is a plain ``SELECT *`` of
the same rows with no scope, paging or JSON. SQLite, then PostgreSQL when
WANGGE_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sync_setup import bench_databases, seeded_database
from server.enums import CaseStatus, Channel, Placement
from sync.versions import next_version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--limit", type=int, default=1000, help="page size (server default)")
    args = parser.parse_args()
    n_households, n_cases = (1000, 400) if args.quick else (5000, 2000)
    with bench_databases() as backends:
        for backend, url in backends:
            run(backend, url, n_households, n_cases, args.limit)


def run(backend: str, url: str | None, n_households: int, n_cases: int, limit: int) -> None:
    _folder, app, info = seeded_database(households_per_cell=1, url=url)
    from server.cases.models import Case
    from server.extensions import db
    from server.population.models import Household, Resident

    with app.app_context():
        version = next_version(db.session)
        households = [
            {
                "id": uuid.uuid4(),
                "address": f"新华路{i}号",
                "road": "新华路",
                "lane": "",
                "building": str(i),
                "room": "101",
                "cell_code": "G1",
                "notes": "",
                "created_at": sa.func.now(),
                "version": version,
            }
            for i in range(n_households)
        ]
        for h in households:
            h.pop("created_at")
        db.session.execute(sa.insert(Household), households)
        db.session.execute(
            sa.insert(Resident),
            [
                {
                    "id": uuid.uuid4(),
                    "household_id": h["id"],
                    "name": "居民",
                    "gender": "F",
                    "relation": "",
                    "notes": "",
                    "version": version,
                }
                for h in households
            ],
        )
        db.session.execute(
            sa.insert(Case),
            [
                {
                    "id": uuid.uuid4(),
                    "number": f"XH-B-{i:06d}",
                    "channel": Channel.HOTLINE,
                    "status": CaseStatus.DISPATCHED,
                    "title": "堆物",
                    "description": "楼道堆物" * 5,
                    "address": "新华路",
                    "cell_code": "G1",
                    "placement": Placement.IN,
                    "version": version,
                    "field_versions": {},
                    "priority": "normal",
                }
                for i in range(n_cases)
            ],
        )
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {info['token']}", "Accept-Encoding": "gzip"}
    server_s, raw_bytes, gz_bytes, pages, changes, cursor = 0.0, 0, 0, 0, 0, None
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        started = time.perf_counter()
        response = client.get("/api/v1/sync/pull", query_string=query, headers=headers)
        server_s += time.perf_counter() - started
        assert response.headers["Content-Encoding"] == "gzip"
        sent = response.get_data()
        body = gzip.decompress(sent)
        raw_bytes += len(body)
        gz_bytes += len(sent)
        page = json.loads(body)
        pages += 1
        changes += len(page["changes"])
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    engine = sa.create_engine(info["url"])
    started = time.perf_counter()
    with engine.connect() as conn:
        for table in ("households", "residents", "cases", "cells"):
            conn.exec_driver_sql(f"SELECT * FROM {table}").fetchall()
    raw_s = time.perf_counter() - started
    engine.dispose()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    print(
        f"{backend:10} first full pull: {changes:,} changes in {pages} pages, "
        f"server time {server_s:.2f} s, {raw_bytes / 1e6:.2f} MB JSON, "
        f"{gz_bytes / 1e6:.2f} MB gzipped; plain SELECT of the same tables {raw_s:.3f} s"
    )


if __name__ == "__main__":
    main()
