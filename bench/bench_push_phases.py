"""Where a push of 1,000 `visit.create` spends its CPU, by phase, next to the raw Core insert.

Run ``python bench/bench_push_phases.py`` (15 pushes after one warm-up; ``--pushes N``). The
push goes in-process through Flask's test client to a fresh SQLite file (or, with
``--postgres``, a fresh PostgreSQL database named by WANGGE_TEST_POSTGRES_URL); each engine
phase is wrapped to sum its CPU time (`time.process_time`, self time: a nested phase is taken
out of its caller), and SQLAlchemy's calls into the driver (`do_execute`, `do_executemany`,
`do_commit`) are summed apart, for the push and for the baseline: one Core executemany of
1,000 equivalent visit rows per transaction, as in bench/bench_sync_push.py.

CPU time, not wall time: on a shared machine a busy neighbour moves wall-clock ratios by ±50 %,
CPU time by a few per cent. On PostgreSQL the server's own work is in another process and is
not counted (only the client side of the driver is).
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.orm import Session, configure_mappers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import server.fieldsync.operations
import sync.batching
import sync.engine
from bench.sync_setup import (
    bench_databases,
    raw_insert_cpu,
    residents_of,
    seeded_database,
    visit_mutations,
)

#: CPU seconds by phase (self time) and inside the driver, for the current measurement.
PHASES: dict[str, float] = defaultdict(float)
DRIVER: dict[str, float] = defaultdict(float)
_open: list[str] = []
#: CPU seconds in the cyclic garbage collector, by generation (counted inside the phases too).
COLLECTOR: dict[int, float] = defaultdict(float)
_gc_started: list[float] = []


def _collector(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started.append(time.process_time())
    elif _gc_started:
        COLLECTOR[info["generation"]] += time.process_time() - _gc_started.pop()


def _timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        _open.append(label)
        try:
            return function(*args, **kwargs)
        finally:
            _open.pop()
            spent = time.process_time() - started
            PHASES[label] += spent
            if _open:
                PHASES[_open[-1]] -= spent

    return wrapper


def _driver(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            DRIVER[name] += time.process_time() - started

    return wrapper


def _instrument() -> None:
    run = sync.engine._Run
    for name, label in (
        ("_prepare", "validation and prefetch (_prepare)"),
        ("_apply", "handlers (_apply)"),
        ("_known_op_ids", "op-id check"),
        ("_last_seq", "device mark reads"),
        ("_state", "device row"),
        ("_take_clock", "version clock"),
        ("_apply_plain", "plain rows queued (_apply_plain)"),
        ("_log_plain", "log rows of plain paths (bulk insert)"),
        ("group", "group bookkeeping, answers"),
    ):
        setattr(run, name, _timed(label, getattr(run, name)))
    writer = sync.batching.GroupWriter
    writer.flush = _timed("visit rows (bulk insert)", writer.flush)  # type: ignore[method-assign]
    sync.engine.insert_rows = _timed("log rows (bulk insert)", sync.engine.insert_rows)
    # The plain path runs inside _prepare; its share is told apart (build_handlers reads the
    # name from its module at each push).
    operations = server.fieldsync.operations
    operations.plain_visits = _timed(  # type: ignore[assignment]
        "plain path of visit.create (plain_visits)", operations.plain_visits
    )
    Session.commit = _timed("commit", Session.commit)  # type: ignore[method-assign]
    for name in ("do_execute", "do_executemany", "do_commit", "do_execute_no_params"):
        setattr(DefaultDialect, name, _driver(name, getattr(DefaultDialect, name)))
    gc.callbacks.append(_collector)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pushes", type=int, default=15)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument(
        "--no-freeze", action="store_true", help="skip wsgi.py's gc.freeze() (the old worker)"
    )
    args = parser.parse_args()
    _instrument()
    with bench_databases() as backends:
        for backend, url in backends:
            if (backend == "PostgreSQL") == args.postgres:
                measure(backend, url, args.pushes, freeze=not args.no_freeze)


def measure(backend: str, url: str | None, pushes: int, *, freeze: bool = True) -> None:
    _folder, app, info = seeded_database(url=url)
    if freeze:  # as wsgi.py does once the worker's app is built
        configure_mappers()
        gc.collect()
        gc.freeze()
    household = str(info["households"]["G1"][0])
    met = residents_of(app, household)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {info['token']}"}
    seq, spent = 0, 0.0
    for n in range(pushes + 1):
        mutations = visit_mutations(seq + 1, 1000, household, met)
        seq += 1000
        body = json.dumps(
            {"device_id": info["device_id"], "schema_version": 1, "mutations": mutations}
        )
        started = time.process_time()
        response = client.post(
            "/api/v1/sync/push", data=body, content_type="application/json", headers=headers
        )
        if n:
            spent += time.process_time() - started
        else:  # the warm-up (imports, compiled statements) is not counted
            PHASES.clear()
            DRIVER.clear()
            COLLECTOR.clear()
        assert response.status_code == 200 and response.get_json()["last_seq"] == seq
    phases, push_driver, collector = dict(PHASES), dict(DRIVER), dict(COLLECTOR)
    DRIVER.clear()
    baseline = raw_insert_cpu(info, household, met, pushes)
    ms = 1000 / pushes
    push_ms, base_ms = spent * ms, baseline * ms
    label = backend if freeze else f"{backend} (no gc.freeze)"
    print(
        f"{label}: push CPU {push_ms:.1f} ms per 1,000 mutations ({pushes} pushes, in-process); "
        f"raw Core insert CPU {base_ms:.1f} ms per 1,000 rows; CPU ratio {base_ms / push_ms:.3f}x"
    )
    print("  the push by phase (self CPU time):")
    inside = 0.0
    for label, seconds in sorted(phases.items(), key=lambda kv: -kv[1]):
        inside += seconds
        print(f"    {seconds * ms:6.1f} ms  {100 * seconds * ms / push_ms:5.1f} %  {label}")
    rest = push_ms - inside * ms
    print(f"    {rest:6.1f} ms  {100 * rest / push_ms:5.1f} %  the request around the engine")
    print("    (Flask, the body's JSON and envelope loader, auth, answer texts, metrics, JSON out)")
    by_generation = ", ".join(f"gen {g} {v * ms:.1f}" for g, v in sorted(collector.items()))
    print(
        f"  the garbage collector during the push: {sum(collector.values()) * ms:.1f} ms "
        f"({by_generation}; inside whichever phase it interrupted)"
    )
    for name, spent_in in (("push", push_driver), ("raw Core insert", dict(DRIVER))):
        parts = ", ".join(f"{k} {v * ms:.1f}" for k, v in sorted(spent_in.items()))
        print(f"  inside the driver, {name}: {sum(spent_in.values()) * ms:.1f} ms ({parts})")


if __name__ == "__main__":
    main()
