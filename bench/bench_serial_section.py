"""The push's serial section: how long a push of 100 holds the version clock (the database's
one write lock, docs/sync-protocol.md §The serial section), against the same push with the
clock taken first (the baseline: how every group ran before, same run, same database).

Run ``python bench/bench_serial_section.py`` (``--pushes``, default 20 per shape and mode).
In-process (sync.engine.push with the server's handlers), SQLite then PostgreSQL (with
WANGGE_TEST_POSTGRES_URL set). Two shapes: 100 visits, and the load bench's day (98 visits and
2 case reports naming a photo, placed on the published grid as the server does). Held = from
the clock's UPDATE to the commit, measured with SQLAlchemy events, and the statements sent in
that time; push = the whole push. The held time bounds the pushes of 100 per second
one database can take: 1 / held.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event

from bench.sync_setup import bench_databases, seeded_database
from server.accounts.models import User
from server.extensions import db
from server.fieldsync.operations import Settings, build_handlers
from server.fieldsync.phone_actor import PhoneActor
from server.grid.index import index_cache
from sync import engine as sync_engine
from sync.engine import push
from sync.handlers import DeviceContext, Mutation
from tests.sync.conftest import INSIDE_G1, visit_args


class ClockTimer:
    """Time from `UPDATE sync_clock` to the end of its transaction, and the statements sent
    in it (the clock's UPDATE included), summed."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.held = 0.0
        self.statements = 0

    def statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.started is None and statement.lstrip().upper().startswith("UPDATE SYNC_CLOCK"):
            self.started = time.perf_counter()
        if self.started is not None:
            self.statements += 1

    def ended(self, *args: Any) -> None:
        if self.started is not None:
            self.held += time.perf_counter() - self.started
            self.started = None


def _batch(shape: str, households: list[uuid.UUID], start: int) -> list[Mutation]:
    batch = []
    for i in range(100):
        if shape == "day" and i >= 98:
            name, args = "case.report", {
                "id": str(uuid.uuid4()), "title": "load report", "description": "楼道堆物",
                "address": "新华路", "priority": "normal", "lon": INSIDE_G1[0],
                "lat": INSIDE_G1[1], "accuracy_m": 8, "photos": [uuid.uuid4().hex * 2]}  # fmt: skip
        else:
            name, args = "visit.create", visit_args(households[i % len(households)])
        batch.append(Mutation(seq=start + i, op_id=uuid.uuid4(), name=name, args=args))
    return batch


def run(backend: str, url: str | None, pushes: int) -> None:
    _, app, info = seeded_database(url=url)
    handlers = build_handlers(Settings("XH", index_cache(app)))  # placed, as by the server
    late_group = sync_engine._Run.group
    with app.app_context():
        timer = ClockTimer()
        event.listen(db.engine, "before_cursor_execute", timer.statement)
        event.listen(db.engine, "commit", timer.ended)
        event.listen(db.engine, "rollback", timer.ended)
        user = db.session.get(User, info["user_id"])
        device = DeviceContext(uuid.UUID(info["device_id"]), user.id, PhoneActor(user))
        households = info["households"]["G1"]
        seq = 1
        print(f"\n== {backend}: pushes of 100 through sync.engine.push, {pushes} per row")
        print(
            f"  {'shape':<24} {'mode':<22} {'held p50':>9} {'push p50':>9} {'held/push':>9}"
            f" {'stmts held':>10}"
        )
        for shape, label in [("visits", "100 visits"), ("day", "98 visits + 2 reports")]:
            for mode in ("clock first (before)", "clock late (now)"):

                def group(self: Any, *args: Any, _mode: str = mode, **kwargs: Any) -> Any:
                    if _mode.startswith("clock first"):
                        kwargs["clock_first"] = True
                    return late_group(self, *args, **kwargs)

                sync_engine._Run.group = group  # type: ignore[method-assign]
                held, took, statements = [], [], []
                for _ in range(pushes + 2):
                    batch = _batch(shape, households, seq)
                    seq += len(batch)
                    timer.held, timer.statements = 0.0, 0
                    started = time.perf_counter()
                    outcome = push(db.session, device, batch, handlers, commit_every=500)
                    took.append(time.perf_counter() - started)
                    held.append(timer.held)
                    statements.append(timer.statements)
                    bad = [r for r in outcome.results if r["status"] != "applied"]
                    assert outcome.last_seq == seq - 1 and not bad, bad[:1]
                held, took = held[2:], took[2:]  # the first two warm caches
                h, t = statistics.median(held) * 1000, statistics.median(took) * 1000
                n = statistics.median(statements[2:])
                print(f"  {label:<24} {mode:<22} {h:>7.1f}ms {t:>7.1f}ms {h / t:>9.0%} {n:>10.0f}")
        sync_engine._Run.group = late_group  # type: ignore[method-assign]
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pushes", type=int, default=20)
    args = parser.parse_args()
    with bench_databases() as backends:
        for backend, url in backends:
            run(backend, url, args.pushes)


if __name__ == "__main__":
    main()
