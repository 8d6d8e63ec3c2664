"""Dashboard and queue server time for a street with 200,000 cases and 50,000 visits.

    python bench/bench_dashboard.py            # 200,000 cases, 50,000 visits, 5,000 open
    python bench/bench_dashboard.py --quick    # 20,000 / 5,000 / 1,000: a smoke run

Runs on SQLite and (if WANGGE_BENCH_POSTGRES_URL or WANGGE_TEST_POSTGRES_URL is set) on a
fresh PostgreSQL database. After loading, the daily roll-up is built as the nightly
`flask --app wsgi dashboard rollup` would (its time is printed): the bench measures the
steady state, where only today and days changed since the last run are computed live.
Each page is requested through the app (test client: routing,
queries, Jinja, SVG) after one warm-up; the median of the runs is printed next to a
baseline measured in the same run: a bare `SELECT count(*) FROM cases`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.demo_setup import demo_app

OPEN = ("reported", "opened", "dispatched", "handling", "handled")
NOW = dt.datetime(2026, 11, 26, 4, 0, tzinfo=dt.UTC)
YEAR = "from=2025-11-27&to=2026-11-26"


def build(url: str, instance: Path, *, cases: int, visits: int, open_cases: int) -> Any:
    app = demo_app(url, instance, NOW)
    with app.app_context():
        runner = app.test_cli_runner()
        _fill(app, cases=cases, visits=visits, open_cases=open_cases)
        started = time.perf_counter()
        result = runner.invoke(args=["dashboard", "rollup", "--now", NOW.isoformat()])
        assert result.exit_code == 0, result.output
        print(f"roll-up: {result.output.strip()} in {time.perf_counter() - started:.1f} s")
    return app


def _fill(app: Any, *, cases: int, visits: int, open_cases: int) -> None:
    from server.extensions import db

    rng = random.Random(200_000)
    conn = db.session.connection()
    cells = [
        r[0] for r in conn.execute(sa.text("SELECT code FROM cells WHERE level = 'building_group'"))
    ]
    items = [r[0] for r in conn.execute(sa.text("SELECT id FROM catalogue_items"))]
    units = [r[0] for r in conn.execute(sa.text("SELECT id FROM units"))]
    workers = [r[0] for r in conn.execute(sa.text("SELECT id FROM users WHERE role='worker'"))]
    from server.population.models import Household

    households = list(db.session.scalars(sa.select(Household.id)))
    from server.cases.models import Case
    from server.population.models import Visit

    table = Case.__table__  # typed columns: UUIDs, UTC times and JSON bind as in the app
    batch: list[dict[str, Any]] = []
    dialect = db.engine.dialect.name

    def t(value: dt.datetime | None) -> Any:
        return value

    for i in range(cases):
        reported = NOW - dt.timedelta(days=rng.uniform(0, 365))
        is_open = i < open_cases
        status = (
            rng.choice(OPEN)
            if is_open
            else rng.choice(("closed", "closed", "closed", "evaluated", "cancelled"))
        )
        dispatched = reported + dt.timedelta(hours=rng.uniform(0.1, 6))
        due = dispatched + dt.timedelta(hours=rng.choice((2, 24, 72)))
        handled = dispatched + dt.timedelta(hours=rng.uniform(1, 90))
        closed = handled + dt.timedelta(hours=rng.uniform(1, 24))
        late_stage = status in ("handled", "closed", "evaluated")
        batch.append(
            {
                "id": uuid.uuid4(),
                "number": f"B-{i:07d}",
                "channel": "hotline",
                "catalogue_item_id": rng.choice(items),
                "priority": rng.choice(("urgent", "high", "normal", "normal")),
                "status": status,
                "title": "bench",
                "description": "",
                "address": "",
                "lon": 121.42,
                "lat": 31.21,
                "cell_code": rng.choice(cells),
                "placement": "in",
                "assignee_id": rng.choice(workers),
                "unit_id": rng.choice(units),
                "reported_at": t(reported),
                "opened_at": t(reported) if status not in ("reported", "cancelled") else None,
                "dispatched_at": t(dispatched)
                if status not in ("reported", "opened", "cancelled")
                else None,
                "due_at": t(due) if status not in ("reported", "opened", "cancelled") else None,
                "handled_at": t(handled) if late_stage else None,
                "closed_at": t(closed) if status in ("closed", "evaluated") else None,
                "rework_count": 0,
                "postponed": rng.random() < 0.02,
                "version": 1,
                "field_versions": {},
                "paused_seconds": 0,
                # escalated already (the bench measures steady state, not the first cron run)
                "escalation_level": 3,
            }
        )
        if len(batch) == 10_000:
            conn.execute(table.insert(), batch)
            batch.clear()
    if batch:
        conn.execute(table.insert(), batch)
    vtable = Visit.__table__
    rows = []
    for _ in range(visits):
        at = NOW - dt.timedelta(days=rng.uniform(0, 365))
        rows.append(
            {
                "id": uuid.uuid4(),
                "household_id": rng.choice(households),
                "worker_id": rng.choice(workers),
                "visited_at": t(at),
                "received_at": t(at),
                "residents_seen": [],
                "outcome": "met",
                "situation": "",
                "needs": "",
                "follow_up": "",
                "version": 1,
            }
        )
    conn.execute(vtable.insert(), rows)
    db.session.commit()
    if dialect == "postgresql":
        conn = db.session.connection()
        conn.execute(sa.text("ANALYZE"))
        db.session.commit()


def timed(fn: Any, repeat: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def measure(app: Any, label: str, repeat: int) -> None:
    from server.extensions import db

    client = app.test_client()
    with app.app_context():
        assert (
            client.post(
                "/login", data={"username": "li.qiang", "password": "wangge-demo"}
            ).status_code
            == 302
        )
        desk = app.test_client()
        assert (
            desk.post(
                "/login", data={"username": "zhao.min", "password": "wangge-demo"}
            ).status_code
            == 302
        )
        n_cases = db.session.scalar(sa.text("SELECT count(*) FROM cases"))
        n_open = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM cases WHERE status IN "
                "('reported','opened','dispatched','handling','handled')"
            )
        )
        n_visits = db.session.scalar(sa.text("SELECT count(*) FROM visits"))

        def baseline() -> None:
            db.session.execute(sa.text("SELECT count(*) FROM cases")).scalar()
            db.session.rollback()

        def page(client_: Any, path: str) -> Any:
            def run() -> None:
                response = client_.get(path)
                assert response.status_code == 200, (path, response.status_code)

            return run

        rows = [
            ("baseline: SELECT count(*) FROM cases", timed(baseline, repeat)),
            (
                "dashboard, 30 days, per residential area",
                timed(page(client, "/dashboard/?group=area"), repeat),
            ),
            (
                "dashboard, 30 days, per grid worker",
                timed(page(client, "/dashboard/?group=worker"), repeat),
            ),
            *(
                (
                    f"dashboard, 365 days, per {name}",
                    timed(page(client, f"/dashboard/?group={group}&{YEAR}"), repeat),
                )
                for group, name in (
                    ("cell", "building group"),
                    ("area", "residential area"),
                    ("worker", "grid worker"),
                    ("unit", "unit"),
                    ("street", "street"),
                )
            ),
            ("queue: open cases, first page of 50", timed(page(desk, "/cases/"), repeat)),
            ("queue: overdue tab", timed(page(desk, "/cases/?view=overdue"), repeat)),
            (
                "CSV export, 30 days, per unit",
                timed(page(client, "/dashboard/export.csv?group=unit"), repeat),
            ),
        ]
    print(
        f"\n{label}: {n_cases:,} cases ({n_open:,} open), {n_visits:,} visits; "
        f"median of {repeat} warm runs"
    )
    for name, ms in rows:
        print(f"  {name:<45} {ms:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 cases: a smoke run")
    args = parser.parse_args()
    cases, visits, open_cases, repeat = (
        (20_000, 5_000, 1_000, 3) if args.quick else (200_000, 50_000, 5_000, 7)
    )
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        started = time.perf_counter()
        app = build(
            f"sqlite:///{base / 'bench.db'}",
            base / "sqlite",
            cases=cases,
            visits=visits,
            open_cases=open_cases,
        )
        print(f"SQLite data built in {time.perf_counter() - started:.0f} s")
        measure(app, "SQLite", repeat)
        admin_url = os.environ.get("WANGGE_BENCH_POSTGRES_URL") or os.environ.get(
            "WANGGE_TEST_POSTGRES_URL"
        )
        if not admin_url:
            print("\nPostgreSQL: skipped (set WANGGE_BENCH_POSTGRES_URL)")
            return
        name = f"wangge_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        try:
            started = time.perf_counter()
            app = build(url, base / "pg", cases=cases, visits=visits, open_cases=open_cases)
            print(f"\nPostgreSQL data built in {time.perf_counter() - started:.0f} s")
            measure(app, "PostgreSQL", repeat)
            with app.app_context():
                from server.extensions import db

                db.session.remove()
                db.engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    main()
