"""The mutation log's reads go through its keys and its partial indexes (migration 0022).

The log is written once per pushed mutation, so it keeps only the indexes its reads need:
its two unique keys and two partial indexes of its rejected rows. Each read is captured as
the app sends it and its plan asked of the database: SQLite's query plan, and PostgreSQL's
with sequential scans switched off (its tables are tiny here, so its planner would rightly
scan them; what matters is that the index can answer the query, its predicate included),
as the generic plan of a prepared statement, which cannot look at bound values: the status
the partial indexes hold is written into the statement (`sync.models.rejected_rows`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import sql
from sqlalchemy import event

from server.extensions import db
from server.fieldsync.pull_routing import version_needed
from server.home import todo
from sync.db import utcnow
from tests.sync.conftest import Phone, World, visit_args


@contextmanager
def _log_reads() -> Iterator[list[tuple[str, Any]]]:
    """The SELECTs on `sync_mutations` sent while the block runs: (statement, parameters)."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM sync_mutations" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def _plan(statement: str, parameters: Any) -> str:
    """The database's plan for one captured statement, as one text."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        if db.engine.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            lines = [str(row[-1]) for row in cursor.fetchall()]
        else:  # the generic plan a prepared statement gets (psycopg prepares after 5 runs)
            names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
            numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m[1]) + 1}", statement)
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            cursor.execute(f"PREPARE log_read AS {numbered}")
            # EXECUTE takes literals: no bound parameters there.
            values = sql.SQL(", ").join(sql.Literal(parameters[n]) for n in names)
            cursor.execute(sql.SQL("EXPLAIN EXECUTE log_read({})").format(values))
            lines = [str(row[0]) for row in cursor.fetchall()]
            cursor.execute("DEALLOCATE log_read")
        connection.rollback()
        return "\n".join(lines)
    finally:
        connection.close()


def _unique_device_seq_index() -> str:
    """The name the database gave the log's unique (device_id, seq) key."""
    if db.engine.dialect.name == "sqlite":
        return "sqlite_autoindex_sync_mutations_"  # SQLite names a table's UNIQUE itself
    return "uq_sync_mutations_device_id_seq"


def _assert_read_uses(index: str, read: Callable[[], Any]) -> None:
    with _log_reads() as seen:
        read()
    plans = [(statement, _plan(statement, parameters)) for statement, parameters in seen]
    assert any(index in plan for _, plan in plans), f"no read through {index}: {plans}"
    for statement, plan in plans:  # the others load rows by primary key
        assert "SCAN sync_mutations" not in plan and "Seq Scan" not in plan, (statement, plan)


def _a_rejection_and_an_application(phone: Phone, world: World) -> None:
    household = world.households["G1"][0]
    phone.add("visit.create", visit_args(household))
    phone.add("visit.create", visit_args(uuid.uuid4()))  # no such household: rejected
    answer = phone.push()
    assert [r["status"] for r in answer["results"]] == ["applied", "rejected"]


def test_the_rejections_pull_source_reads_the_partial_index_of_a_devices_rejections(
    app: Any, phone: Callable[..., Phone], world: World
) -> None:
    wa = phone("wa")
    _a_rejection_and_an_application(wa, world)
    _assert_read_uses("ix_sync_mutations_rejected_device", wa.pull)
    assert len(wa.table("rejections")) == 1


def test_the_workers_to_do_list_reads_the_partial_index_of_a_users_rejections(
    app: Any, phone: Callable[..., Phone], world: World
) -> None:
    _a_rejection_and_an_application(phone("wa"), world)
    user = world.users["wa"]
    now = utcnow()
    found: list[Any] = []

    def read() -> None:
        found.append(todo.worker(db.session, user, now=now, today=now.date(), language="zh"))

    _assert_read_uses("ix_sync_mutations_rejected_user", read)
    rejected = [t for t in found[0].tasks if t.key == "rejected"]
    assert rejected and rejected[0].count == 1


def test_a_devices_highest_version_is_read_through_its_unique_seq_key(
    app: Any, phone: Callable[..., Phone], world: World
) -> None:
    wa = phone("wa")
    _a_rejection_and_an_application(wa, world)
    wa.add("visit.create", visit_args(world.households["G1"][1]))
    last = wa.push()["results"][-1]["version"]
    highest: list[int] = []
    _assert_read_uses(
        _unique_device_seq_index(),
        lambda: highest.append(version_needed(db.session, wa.device_id, None)),
    )
    assert highest == [last]
    assert version_needed(db.session, uuid.uuid4(), None) == 0  # a device that never pushed
