"""How far the push is from the least work a push of 1,000 `visit.create` can do on SQLite.

Run ``python bench/bench_push_floor.py`` (10 pushes of 1,000 after one warm-up; ``--pushes N``).
Three figures, CPU time per 1,000 (`time.process_time`, as bench/bench_push_phases.py, so a busy
neighbour moves them little), on one fresh SQLite file of the sync benches' world:

* **push**: the real endpoint, in-process through Flask's test client (the body already encoded).
* **floor**: the least any push must do with the same body: decode the JSON, check each id's
  shape, build the visit row and its log row as tuples in the columns' stored forms, write both
  with one driver executemany each, commit, and encode the answer. No authorisation, no scope,
  no prefetch, no device mark, no savepoints: what is left if every piece of the engine cost
  nothing. ``--one-log-row`` writes one log row per push instead of one per mutation (the
  protocol change docs/scaling.md discusses).
* **raw**: the baseline of bench/bench_sync_push.py, a Core executemany of equivalent visit rows.

Issue 17 asks push ≥ 0.5 × raw. The floor says whether the database is what stands in the way
(floor near raw: it is not) and how much is the engine's own Python (push − floor).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import configure_mappers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sync_setup import (
    raw_insert_cpu,
    residents_of,
    seeded_database,
    visit_mutations,
)

_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_VISIT_COLUMNS = (
    "id", "household_id", "worker_id", "device_id", "visited_at", "received_at",
    "residents_seen", "outcome", "situation", "needs", "follow_up", "version",
)  # fmt: skip
_LOG_COLUMNS = (
    "device_id", "user_id", "seq", "op_id", "name", "args", "status", "result",
    "server_version", "received_at", "clock_suspect",
)  # fmt: skip


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _hex(text: str) -> str:
    return text.replace("-", "").lower()


def floor_push(
    engine: sa.Engine, body: bytes, info: dict[str, Any], version: int, one_log_row: bool
) -> bytes:
    """The least work of a push of `body` (module docstring); returns the encoded answer."""
    document = json.loads(body)
    device, user = _hex(document["device_id"]), info["user_id"]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    match = _ID.fullmatch
    visits: list[tuple[Any, ...]] = []
    log: list[tuple[Any, ...]] = []
    results: list[dict[str, Any]] = []
    for mutation in document["mutations"]:
        args = mutation["args"]
        ids = (mutation["op_id"], args["id"], args["household_id"], *args["residents_seen"])
        if not all(type(i) is str and match(i) for i in ids):
            raise ValueError(f"seq {mutation['seq']}: not an id")
        result = {"visit_id": args["id"]}
        visits.append(
            (_hex(args["id"]), _hex(args["household_id"]), user, device, now, now,
             json.dumps(args["residents_seen"]), args["outcome"], args["situation"], "", "",
             version)
        )  # fmt: skip
        if not one_log_row:
            log.append(
                (device, user, mutation["seq"], _hex(mutation["op_id"]), mutation["name"], "{}",
                 "applied", json.dumps(result), version, now, 0)
            )  # fmt: skip
        results.append(
            {"seq": mutation["seq"], "op_id": mutation["op_id"], "status": "applied",
             "server_version": version, "result": result}
        )  # fmt: skip
    if one_log_row:
        last = document["mutations"][-1]
        log.append(
            (device, user, last["seq"], uuid.uuid4().hex, "visit.create", "{}", "applied",
             json.dumps([r["result"] for r in results]), version, now, 0)
        )  # fmt: skip
    with engine.begin() as conn:
        conn.exec_driver_sql(_insert("visits", _VISIT_COLUMNS), visits)
        conn.exec_driver_sql(_insert("sync_mutations", _LOG_COLUMNS), log)
    return json.dumps({"last_seq": document["mutations"][-1]["seq"], "results": results}).encode()


class _Bodies:
    """Push bodies of `size` visit.create for one device, seqs running on across bodies."""

    def __init__(self, info: dict[str, Any], household: str, met: list[str]) -> None:
        self.info, self.household, self.met, self.seq = info, household, met, 0

    def next(self, size: int) -> bytes:
        mutations = visit_mutations(self.seq + 1, size, self.household, self.met)
        self.seq += size
        device = self.info["device_id"]
        return json.dumps(
            {"device_id": device, "schema_version": 1, "mutations": mutations}
        ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=10)
    parser.add_argument("--one-log-row", action="store_true", help="one log row per push")
    args = parser.parse_args()
    pushes = args.pushes
    _folder, app, info = seeded_database()
    configure_mappers()
    gc.collect()
    gc.freeze()  # as wsgi.py does once the worker's app is built
    household = str(info["households"]["G1"][0])
    met = residents_of(app, household)
    bodies = _Bodies(info, household, met)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {info['token']}"}
    push_cpu = 0.0
    for n in range(pushes + 1):
        body = bodies.next(1000)
        started = time.process_time()
        answer = client.post(
            "/api/v1/sync/push", data=body, content_type="application/json", headers=headers
        )
        if n:  # the first is a warm-up (imports, compiled statements)
            push_cpu += time.process_time() - started
        assert answer.status_code == 200 and answer.get_json()["last_seq"] == bodies.seq

    engine = sa.create_engine(info["url"])
    floor_cpu = 0.0
    for n in range(pushes + 1):
        body = bodies.next(1000)
        started = time.process_time()
        floor_push(engine, body, info, 1_000_000 + n, args.one_log_row)
        if n:
            floor_cpu += time.process_time() - started
    engine.dispose()
    raw_cpu = raw_insert_cpu(info, household, met, pushes)
    ms = 1000 / pushes
    push_ms, floor_ms, raw_ms = push_cpu * ms, floor_cpu * ms, raw_cpu * ms
    log = "one log row per push" if args.one_log_row else "a log row per mutation"
    print(f"SQLite, CPU per 1,000 visit.create ({pushes} pushes after a warm-up; {log}):")
    for label, spent in (
        ("push (the endpoint, in-process)", push_ms),
        ("floor (the least work)", floor_ms),
    ):
        print(f"  {label:32} {spent:6.1f} ms   ratio to raw {raw_ms / spent:.2f}x")
    print(f"  {'raw Core insert of the visits':32} {raw_ms:6.1f} ms")
    print(f"  the engine's own cost (push - floor): {push_ms - floor_ms:.1f} ms per 1,000")


if __name__ == "__main__":
    main()
