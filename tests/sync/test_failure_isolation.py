"""A failure inside one mutation rejects that mutation alone; the infrastructure's failures
(a lost connection, a lock timeout, a serialization race, a full disk) fail the push with a
retryable 503 and leave nothing half-applied (sync/failures.py, sync/engine.py).

Handlers are the engine's parameter: a test hands it the real handlers with one of them
broken on purpose (the stand-in for a bug nobody knows of yet), on both databases.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg.errors
import pytest
import sqlalchemy as sa
from flask import g
from sqlalchemy import event, exc, func, select

from server.cases.models import CaseEvent
from server.extensions import db
from server.fieldsync.operations import Settings, build_handlers
from server.fieldsync.phone_actor import PhoneActor
from server.ops.logs import RequestContextFilter
from server.population.models import Visit
from sync.batching import GroupWriter
from sync.bulk import COPY_MIN_ROWS
from sync.engine import push
from sync.errors import Unavailable
from sync.failures import is_temporary
from sync.handlers import DeviceContext, Handler, Mutation, MutationContext
from sync.models import MutationRecord
from tests.sync.conftest import Phone, World, make_case, visit_args

# --- which failures are temporary ---------------------------------------------------------


def _sqlite_error(name: str, message: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorname = name  # set by sqlite3 itself when SQLite raises it
    return error


@pytest.mark.parametrize(
    ("error", "temporary"),
    [
        (exc.OperationalError("COMMIT", {}, psycopg.errors.SerializationFailure("x")), True),
        (exc.OperationalError("UPDATE", {}, psycopg.errors.DeadlockDetected("x")), True),
        (exc.OperationalError("UPDATE", {}, psycopg.errors.LockNotAvailable("x")), True),
        (exc.OperationalError("INSERT", {}, psycopg.errors.DiskFull("x")), True),
        (exc.OperationalError("SELECT", {}, psycopg.errors.AdminShutdown("x")), True),
        (exc.OperationalError("SELECT", {}, psycopg.errors.QueryCanceled("x")), True),
        (exc.OperationalError("SELECT", {}, psycopg.OperationalError("connection lost")), True),
        (exc.InterfaceError("SELECT", {}, psycopg.InterfaceError("connection closed")), True),
        (exc.OperationalError("UPDATE", {}, _sqlite_error("SQLITE_BUSY", "locked")), True),
        (exc.OperationalError("INSERT", {}, _sqlite_error("SQLITE_FULL", "disk full")), True),
        (exc.OperationalError("INSERT", {}, _sqlite_error("SQLITE_IOERR_WRITE", "I/O")), True),
        (exc.TimeoutError("QueuePool limit reached"), True),
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (ConnectionResetError("the photo store hung up"), True),
        (Unavailable("the photo store is full"), True),
        (MemoryError(), True),
        # Caused by the data: retrying could never help, so these are one mutation's.
        (exc.DataError("INSERT", {}, psycopg.errors.NumericValueOutOfRange("x")), False),
        (exc.DataError("INSERT", {}, psycopg.errors.StringDataRightTruncation("x")), False),
        (exc.OperationalError("INSERT", {}, psycopg.errors.ProgramLimitExceeded("x")), False),
        (exc.OperationalError("INSERT", {}, _sqlite_error("SQLITE_TOOBIG", "too big")), False),
        (exc.IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("x")), False),
        (exc.StatementError("bind", "INSERT", {}, OverflowError("date value out of range")), False),
        (OverflowError("date value out of range"), False),
        (ZeroDivisionError(), False),
        (FileNotFoundError(errno.ENOENT, "a bug, not a full disk"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_a_failure_is_temporary_only_when_the_infrastructure_caused_it(error, temporary):
    assert is_temporary(error) is temporary


def test_a_failure_raised_while_handling_a_lost_connection_is_temporary():
    try:
        try:
            raise exc.OperationalError("SELECT", {}, Exception("server closed the connection"))
        except exc.OperationalError as lost:
            raise RuntimeError("the handler gave up") from lost
    except RuntimeError as error:
        assert is_temporary(error)


# --- handlers broken on purpose, through the engine ----------------------------------------


def _broken(handlers: dict[str, Handler], name: str, apply: Callable[..., Any]) -> None:
    # The plain path (Handler.plain) would write the plain visits without calling `apply`.
    handlers[name] = dataclasses.replace(handlers[name], apply=apply, plain=None)


def _device(phone: Phone) -> DeviceContext:
    user = db.session.merge(phone.user)
    return DeviceContext(phone.device_id, user.id, PhoneActor(user))


def _mutations(*entries: tuple[str, dict[str, Any]], start: int = 1) -> list[Mutation]:
    return [
        Mutation(seq=start + i, op_id=uuid.uuid4(), name=name, args=args)
        for i, (name, args) in enumerate(entries)
    ]


def _count(model: Any, *where: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)))


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Error records of the push engine, with the request id the server's log filter adds."""
    request_ids = RequestContextFilter()
    caplog.handler.addFilter(request_ids)
    with caplog.at_level(logging.INFO, logger="sync.engine"):
        yield caplog
    caplog.handler.removeFilter(request_ids)


@pytest.mark.parametrize("commit_every", [1, 500])
def test_a_handler_that_crashes_half_way_is_rejected_alone_and_logged_with_the_request_id(
    app, world: World, phone, logged, commit_every
):
    p = phone()
    case_id = make_case(db.session, world)
    handlers = build_handlers(Settings())
    real_note = handlers["case.note"].apply

    def crashing_note(ctx: MutationContext, args: dict[str, Any]) -> dict[str, Any]:
        result = real_note(ctx, args)  # the note is written ...
        if args["text"] == "boom":
            ctx.session.flush()
            raise ZeroDivisionError("a bug after the first write")  # ... then this
        return result

    _broken(handlers, "case.note", crashing_note)
    household = world.households["G1"][0]
    notes = [
        {"id": str(uuid.uuid4()), "case_id": str(case_id), "text": t} for t in ["a", "boom", "b"]
    ]
    batch = _mutations(
        ("visit.create", visit_args(household)),
        ("case.note", notes[0]),
        ("case.note", notes[1]),
        ("visit.create", visit_args(household)),
        ("case.note", notes[2]),
    )
    with app.test_request_context("/api/v1/sync/push"):
        g.request_id = "req-crash-1"
        outcome = push(db.session, _device(p), batch, handlers, commit_every=commit_every)
    assert outcome.last_seq == 5 and not outcome.retry
    statuses = [(r["status"], r.get("reason", {}).get("code")) for r in outcome.results]
    assert statuses == [
        ("applied", None),
        ("applied", None),
        ("rejected", "INTERNAL_ERROR"),
        ("applied", None),
        ("applied", None),
    ]
    assert outcome.results[2]["reason"]["details"] == {"error": "ZeroDivisionError"}
    assert _count(CaseEvent, CaseEvent.id == uuid.UUID(notes[1]["id"])) == 0  # nothing half-done
    assert _count(CaseEvent, CaseEvent.kind == "note") == 2
    assert _count(Visit) == 2
    errors = [r for r in logged.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].request_id == "req-crash-1"
    assert (errors[0].seq, errors[0].mutation) == (3, "case.note")
    assert errors[0].exc_info[0] is ZeroDivisionError
    if commit_every > 1:  # replayed one per transaction up to the culprit, then grouped again
        versions = [r["version"] for r in outcome.results]
        assert len(set(versions[:3])) == 3 and versions[3] == versions[4] != versions[2]


class _Poisoning:
    """A group writer that spoils the row of the visit whose situation says so."""

    def __init__(self, inner: GroupWriter, spoil: Callable[[dict[str, Any]], dict[str, Any]]):
        self.inner, self.spoil = inner, spoil

    def insert(self, table: Any, row: dict[str, Any]) -> None:
        self.inner.insert(table, self.spoil(row) if row["situation"] == "poison" else row)


def _naive_time(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "visited_at": row["visited_at"].replace(tzinfo=None)}  # refused at bind time


def _no_such_household(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "household_id": uuid.uuid4()}  # refused by the foreign key


@pytest.mark.parametrize(
    ("spoil", "code"), [(_naive_time, "INTERNAL_ERROR"), (_no_such_household, "INTEGRITY")]
)
@pytest.mark.parametrize("size", [12, COPY_MIN_ROWS + 20])  # executemany; COPY on PostgreSQL
def test_a_bad_row_in_a_batched_group_of_visits_takes_none_of_its_neighbours_down(
    app, world: World, phone, logged, spoil, code, size
):
    p = phone()
    handlers = build_handlers(Settings())
    real_visit = handlers["visit.create"].apply

    def poisoned_visit(ctx: MutationContext, args: dict[str, Any]) -> dict[str, Any]:
        writes = _Poisoning(ctx.writes, spoil)  # type: ignore[arg-type]
        return real_visit(ctx._replace(writes=writes), args)

    _broken(handlers, "visit.create", poisoned_visit)
    households = world.households["G1"]
    entries = [("visit.create", visit_args(households[i % 3])) for i in range(size)]
    entries[5][1]["situation"] = "poison"
    batch = _mutations(*entries)
    tail = _mutations(
        *[("visit.create", visit_args(households[0])) for _ in range(3)], start=size + 1
    )
    outcome = push(db.session, _device(p), [*batch, *tail], handlers, commit_every=500)
    assert outcome.last_seq == size + 3 and not outcome.retry
    assert [r["seq"] for r in outcome.results] == list(range(1, size + 4))
    rejected = [
        (r["seq"], r["reason"]["code"]) for r in outcome.results if r["status"] != "applied"
    ]
    assert rejected == [(6, code)]
    assert _count(Visit) == size + 2
    assert _count(Visit, Visit.situation == "poison") == 0
    assert _count(MutationRecord) == size + 3


def test_a_handler_that_returns_something_unstorable_is_rejected_alone(app, world, phone, logged):
    """A failure outside the savepoint (the log row itself) still moves the seq on."""
    p = phone()
    handlers = build_handlers(Settings())
    real_visit = handlers["visit.create"].apply

    def odd_result(ctx: MutationContext, args: dict[str, Any]) -> dict[str, Any]:
        result = real_visit(ctx, args)
        return {**result, "odd": object()} if args["situation"] == "odd" else result

    _broken(handlers, "visit.create", odd_result)
    household = world.households["G1"][0]
    batch = _mutations(
        ("visit.create", visit_args(household)),
        ("visit.create", visit_args(household, situation="odd")),
        ("visit.create", visit_args(household)),
    )
    outcome = push(db.session, _device(p), batch, handlers, commit_every=500)
    assert outcome.last_seq == 3
    assert [r["status"] for r in outcome.results] == ["applied", "rejected", "applied"]
    assert outcome.results[1]["reason"]["code"] == "INTERNAL_ERROR"
    assert _count(Visit) == 2


@pytest.mark.parametrize(
    "failure",
    [
        lambda: exc.OperationalError("UPDATE", {}, psycopg.errors.SerializationFailure("x")),
        lambda: exc.OperationalError("UPDATE", {}, _sqlite_error("SQLITE_BUSY", "locked")),
        lambda: OSError(errno.ENOSPC, "No space left on device"),
        lambda: Unavailable("the photo store is unreachable"),
    ],
    ids=["serialization", "sqlite-busy", "disk-full", "unavailable"],
)
def test_a_temporary_failure_in_a_handler_fails_the_push_for_a_retry_with_nothing_half_applied(
    app, world: World, phone, failure
):
    p = phone()
    case_id = make_case(db.session, world)
    handlers = build_handlers(Settings())
    real_note = handlers["case.note"].apply

    def note_then_fail(ctx: MutationContext, args: dict[str, Any]) -> dict[str, Any]:
        real_note(ctx, args)
        ctx.session.flush()
        raise failure()

    household = world.households["G1"][0]
    first = _mutations(("visit.create", visit_args(household)))
    assert push(db.session, _device(p), first, handlers).last_seq == 1
    _broken(handlers, "case.note", note_then_fail)
    note = {"id": str(uuid.uuid4()), "case_id": str(case_id), "text": "x"}
    batch = _mutations(("visit.create", visit_args(household)), ("case.note", note), start=2)
    outcome = push(db.session, _device(p), batch, handlers, commit_every=500)
    assert outcome.retry and outcome.last_seq == 1
    assert _count(Visit) == 1 and _count(CaseEvent, CaseEvent.kind == "note") == 0


# --- a real lock, through HTTP --------------------------------------------------------------


def test_a_push_that_waits_too_long_for_a_lock_gets_a_503_and_applies_nothing_until_retried(
    app, world: World, phone, database_url: str
):
    """The write lock held elsewhere past the lock timeout (PostgreSQL's `lock_timeout`,
    SQLite's busy timeout): a retryable 503, nothing applied; once free, the retry applies."""
    p = phone()
    p.add("visit.create", visit_args(world.households["G1"][0]))
    assert p.push()["last_seq"] == 1  # signed in and known: the auth step writes nothing now
    sqlite = database_url.startswith("sqlite")

    @event.listens_for(db.engine, "checkout")
    def _short_waits(dbapi_connection: Any, *_: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=200" if sqlite else "SET lock_timeout = '200ms'")
        cursor.close()

    db.session.remove()
    db.engine.dispose()
    holder = sa.create_engine(database_url)
    try:
        with holder.connect() as other:
            if sqlite:
                other.exec_driver_sql("BEGIN IMMEDIATE")
            other.exec_driver_sql("UPDATE sync_clock SET version = version")  # the write lock
            for _ in range(2):
                p.add("visit.create", visit_args(world.households["G1"][1]))
            response = p.push_raw(list(p.outbox))
            assert response.status_code == 503, response.get_json()
            assert response.headers["Retry-After"]
            assert response.get_json()["last_seq"] == 1
            other.rollback()
        assert _count(Visit) == 1
        assert p.push()["last_seq"] == 3
        assert _count(Visit) == 3
    finally:
        event.remove(db.engine, "checkout", _short_waits)
        holder.dispose()
