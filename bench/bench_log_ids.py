"""What the mutation log's op ids cost as the log grows: time-ordered (v7) against random (v4).

Run ``python bench/bench_log_ids.py`` (the log grown to 200,000 rows in groups of 1,000;
``--rows N``). Every pushed mutation writes one `sync_mutations` row, unique by its op id. A
random op id (UUID v4, what the app minted before) lands on a random page of that unique index,
so each group of 1,000 dirties up to 1,000 pages once the index outgrows the cache; a
time-ordered one (UUID v7, what pwa/js/uuid.js mints now) lands at the index's end. The same
rows are written as the push writes them (`sync.bulk.insert_rows` on the migrated schema, one
transaction per 1,000), into two fresh databases side by side, alternating group by group;
printed: the milliseconds per 1,000 rows (insert and commit) over each stretch of the growth,
random ids first as the baseline. SQLite, then PostgreSQL with WANGGE_TEST_POSTGRES_URL set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.sync_setup import (
    PG_URL_ENV,
    bench_databases,
    fresh_postgres_database,
    new_id,
    seeded_database,
)
from sync.bulk import insert_rows
from sync.db import json_text
from sync.engine import LOG

#: How many stretches of the growth are reported.
STRETCHES = 5


def log_rows(device_id: uuid.UUID, user_id: int, first_seq: int, time_ordered: bool) -> list[Any]:
    """1,000 log rows of applied visits, as the push writes them (sync/engine.py `_record`)."""
    now = dt.datetime.now(dt.UTC)
    return [
        {
            "device_id": device_id,
            "user_id": user_id,
            "seq": seq,
            "op_id": new_id(time_ordered),
            "name": "visit.create",
            "args": {},
            "base_version": None,
            "server_version": seq // 1000 + 1,
            "recorded_at_device": None,
            "received_at": now,
            "clock_offset_ms": None,
            "clock_suspect": False,
            "reason_code": None,
            "reason_message": None,
            "status": "applied",
            "result": {"visit_id": str(new_id(time_ordered))},
        }
        for seq in range(first_seq, first_seq + 1000)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000, help="rows the log grows to")
    args = parser.parse_args()
    groups = max(args.rows // 1000, STRETCHES)
    with bench_databases() as backends:
        for backend, url in backends:
            if url is None:  # SQLite: two fresh files
                run(backend, None, None, groups)
                continue
            with fresh_postgres_database(os.environ[PG_URL_ENV]) as second:
                run(backend, url, second, groups)


def _side(url: str | None) -> tuple[Session, dict[str, Any]]:
    """A seeded database (the benches' world, migrated) and a session on it."""
    _folder, app, info = seeded_database(url=url)
    with app.app_context():
        from server.extensions import db

        db.engine.dispose()
    engine = sa.create_engine(info["url"], json_serializer=json_text)
    return Session(engine), info


def run(backend: str, random_url: str | None, ordered_url: str | None, groups: int) -> None:
    sides = {False: _side(random_url), True: _side(ordered_url)}
    spent: dict[bool, list[float]] = {False: [], True: []}
    for group in range(groups):
        for time_ordered, (session, info) in sides.items():
            device = uuid.UUID(info["device_id"])
            rows = log_rows(device, info["user_id"], group * 1000 + 1, time_ordered)
            started = time.perf_counter()
            insert_rows(session, LOG, rows)
            session.commit()
            spent[time_ordered].append(time.perf_counter() - started)
    for session, _info in sides.values():
        session.close()
        session.get_bind().dispose()
    per_stretch = groups // STRETCHES
    print(f"{backend}: ms per 1,000 log rows (insert and commit) as the log grows")
    for k in range(STRETCHES):
        part = slice(k * per_stretch, (k + 1) * per_stretch)
        v4 = 1000 * sum(spent[False][part]) / per_stretch
        v7 = 1000 * sum(spent[True][part]) / per_stretch
        print(
            f"  rows {k * per_stretch * 1000:>9,} to {(k + 1) * per_stretch * 1000:>9,}: "
            f"random (v4) {v4:6.1f} ms, time-ordered (v7) {v7:6.1f} ms ({v4 / v7:.1f}x)"
        )


if __name__ == "__main__":
    main()
