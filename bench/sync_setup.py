"""Shared set-up of the sync benches: a migrated SQLite file with a worker, a cell, a token."""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from flask_migrate import upgrade

from server import create_app
from server.accounts import operations as accounts
from server.extensions import db

#: The PostgreSQL server the benches use next to SQLite (the tests' variable); unset: SQLite only.
PG_URL_ENV = "WANGGE_TEST_POSTGRES_URL"


def uuid7() -> uuid.UUID:
    """A time-ordered id as the app mints its op ids and visit ids (pwa/js/uuid.js
    `timeOrderedId`, RFC 9562 §5.7): the clock's milliseconds, then random bits."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 9562 variant
    return uuid.UUID(int=value)


def new_id(time_ordered: bool) -> uuid.UUID:
    """An id as today's app mints it (time-ordered), or as older clients did (random)."""
    return uuid7() if time_ordered else uuid.uuid4()


@contextmanager
def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """Yield the URL of a new, empty database on `admin_url`'s server; dropped afterwards."""
    name = f"wangge_bench_{uuid.uuid4().hex[:10]}"

    def run(statement: str) -> None:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(statement)
        admin.dispose()

    run(f'CREATE DATABASE "{name}"')
    try:
        url = sa.engine.make_url(admin_url).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def bench_databases() -> Iterator[Iterator[tuple[str, str | None]]]:
    """Yield (backend name, database URL or None for a fresh SQLite file) for each backend.

    PostgreSQL gets a fresh database, dropped afterwards.
    """
    admin_url = os.environ.get(PG_URL_ENV)
    with ExitStack() as stack:

        def each() -> Iterator[tuple[str, str | None]]:
            yield "SQLite", None
            if not admin_url:
                print(f"(PostgreSQL skipped: {PG_URL_ENV} not set)")
                return
            yield "PostgreSQL", stack.enter_context(fresh_postgres_database(admin_url))

        yield each()


def seeded_database(
    households_per_cell: int = 3, url: str | None = None
) -> tuple[Path, Any, dict[str, Any]]:
    """Return (folder, app, info) with the test world of tests/sync (worker `wa` on cell G1).

    `url` None: a fresh SQLite file in a temporary folder; else that (empty) database.
    """
    from tests.sync.conftest import build_world

    folder = Path(tempfile.mkdtemp(prefix="wangge-bench-"))
    url = url or f"sqlite:///{folder / 'bench.db'}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(folder), "SECRET_KEY": "bench"}
    )
    with app.app_context():
        upgrade()
        world = build_world(db.session, households_per_cell=households_per_cell)
        token, device = accounts.issue_device_token(
            db.session, world.users["wa"], device_id=uuid.uuid4(), device_name="bench"
        )
        db.session.commit()
        info = {
            "url": url,
            "token": token,
            "device_id": str(device.id),
            "user_id": world.users["wa"].id,
            "households": world.households,
            "world": world,
        }
    return folder, app, info


def residents_of(app: Any, household: str) -> list[str]:
    """The ids of `household`'s residents: a visit names whom it met, and the server checks
    each is of that household."""
    from sqlalchemy import select

    from server.population.models import Resident

    with app.app_context():
        ids = db.session.scalars(
            select(Resident.id).where(Resident.household_id == uuid.UUID(household))
        )
        return [str(r) for r in ids]


def visit_mutations(
    first_seq: int, n: int, household: str, met: list[str], *, time_ordered: bool = True
) -> list[dict[str, Any]]:
    """`n` visit.create mutations to `household` from seq `first_seq` on, as a phone sends
    (op ids and visit ids time-ordered as the app mints them; random as older clients did)."""
    return [
        {
            "seq": seq,
            "op_id": str(new_id(time_ordered)),
            "name": "visit.create",
            "args": {
                "id": str(new_id(time_ordered)),
                "household_id": household,
                "situation": "all well",
                "outcome": "met",
                "residents_seen": met,
            },
        }
        for seq in range(first_seq, first_seq + n)
    ]


def baseline_visit_rows(
    info: dict[str, Any],
    household: str,
    met: list[Any],
    now: dt.datetime,
    batch: int,
    n: int,
    *,
    time_ordered: bool = True,
) -> list[dict[str, Any]]:
    """The rows of `n` visits as the raw Core bulk insert baseline writes them (one batch),
    with ids of the kind the push's visits have (`visit_mutations`)."""
    return [
        {
            "id": new_id(time_ordered),
            "household_id": uuid.UUID(household),
            "worker_id": info["user_id"],
            "visited_at": now,
            "received_at": now,
            "residents_seen": met,
            "outcome": "met",
            "situation": "all well",
            "needs": "",
            "follow_up": "",
            "version": 10_000 + batch,
        }
        for _ in range(n)
    ]


def raw_insert_cpu(info: dict[str, Any], household: str, met: list[str], batches: int) -> float:
    """CPU seconds (`time.process_time`) of the baseline: `batches` Core executemany of 1,000
    equivalent visit rows, one transaction each, on the bench's database."""
    import time

    from server.population.models import Visit

    engine = sa.create_engine(info["url"])
    now = dt.datetime.now(dt.UTC)
    spent = 0.0
    for b in range(batches):
        rows = baseline_visit_rows(info, household, met, now, b, 1000)
        started = time.process_time()
        with engine.begin() as conn:
            conn.execute(sa.insert(Visit), rows)
        spent += time.process_time() - started
    engine.dispose()
    return spent
