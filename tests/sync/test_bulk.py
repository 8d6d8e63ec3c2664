"""sync/bulk.py: the push's bulk insert writes what Core's executemany writes, and fails as it
does (one refused row fails the whole insert, as SQLAlchemy's IntegrityError), on SQLite by the
driver's executemany and on PostgreSQL by COPY from `COPY_MIN_ROWS` rows."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import exc, func, insert, select

from server.extensions import db
from server.population.models import Visit
from sync import bulk
from sync.db import json_text
from sync.engine import LOG
from sync.models import MutationRecord
from tests.sync.conftest import World

VISITS = Visit.__table__
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
SIZES = [3, bulk.COPY_MIN_ROWS + 7]


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of rows of each COPY run."""
    seen: list[int] = []
    real = bulk._copy

    def spy(connection: Any, sql: str, values: list[tuple[Any, ...]]) -> None:
        seen.append(len(values))
        real(connection, sql, values)

    monkeypatch.setattr(bulk, "_copy", spy)
    return seen


def _visit(world: World, i: int, *, household: uuid.UUID | None = None) -> dict[str, Any]:
    """A visit row with values every bind processor has work on (or may leave alone)."""
    at = dt.datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=SHANGHAI) + dt.timedelta(minutes=i)
    return {
        "id": uuid.uuid4(),
        "household_id": household or world.households["G1"][i % 3],
        "worker_id": world.users["wa"].id,
        "device_id": None,
        "visited_at": at,
        "received_at": at + dt.timedelta(hours=1),
        "residents_seen": [str(uuid.uuid4()), "é\t\\n\"'"] if i % 2 else [],
        "outcome": ("met", "not_home", "refused")[i % 3],
        "situation": f"情况 {i}\n\ttab \\ backslash",
        "needs": "" if i % 2 else "N" * 300,
        "follow_up": "",
        "lon": 121.4205 + i / 1e6 if i % 2 else None,
        "lat": 31.2005 if i % 2 else None,
        "accuracy_m": 4.5 if i % 2 else None,
        "corrects_visit_id": None,
        "case_id": None,
        "version": 7,
    }


def _log_row(world: World, i: int) -> dict[str, Any]:
    return {
        "device_id": uuid.uuid4(),
        "user_id": world.users["wa"].id,
        "seq": i + 1,
        "op_id": uuid.uuid4(),
        "name": "visit.create",
        "args": {"id": str(uuid.uuid4()), "nested": {"list": [1, 2.5, None, "文字"]}, "n": i},
        "base_version": None if i % 2 else 2**62,
        "status": "applied" if i % 3 else "rejected",
        "reason_code": None if i % 3 else "INVALID_ARGS",
        "reason_message": None if i % 3 else "bad \\N {field}",
        "result": {} if i % 3 else {"details": {"field": "x"}},
        "server_version": 9,
        "recorded_at_device": None if i % 2 else dt.datetime(2026, 1, 1, tzinfo=SHANGHAI),
        "received_at": dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC),
        "clock_offset_ms": None if i % 2 else -12,
        "clock_suspect": bool(i % 2),
    }


def _stored(table: Any, key: str, keys: list[Any], leave_out: set[str]) -> list[tuple[Any, ...]]:
    """The rows whose `key` is among `keys`, as read back, but for the columns `leave_out` and
    the log's own id."""
    columns = [c for c in table.columns if c.name not in leave_out | {"id"}]
    found = db.session.execute(select(*columns).where(table.c[key].in_(keys))).all()
    return sorted((tuple(row) for row in found), key=repr)


@pytest.mark.parametrize("size", SIZES)
def test_bulk_rows_read_back_as_core_writes_them(app, world: World, copies, size):
    ours = [_visit(world, i) for i in range(size)]
    theirs = [{**row, "id": uuid.uuid4()} for row in ours]
    bulk.insert_rows(db.session, VISITS, ours)
    db.session.execute(insert(VISITS), theirs)
    ours_log = [_log_row(world, i) for i in range(size)]
    theirs_log = [{**row, "op_id": uuid.uuid4(), "seq": row["seq"] + size} for row in ours_log]
    bulk.insert_rows(db.session, LOG, ours_log)
    db.session.execute(insert(LOG), theirs_log)
    db.session.commit()
    visits = _stored(VISITS, "id", [r["id"] for r in ours], leave_out={"id"})
    assert len(visits) == size
    assert visits == _stored(VISITS, "id", [r["id"] for r in theirs], leave_out={"id"})
    log = _stored(LOG, "op_id", [r["op_id"] for r in ours_log], leave_out={"op_id", "seq"})
    assert len(log) == size
    assert log == _stored(
        LOG, "op_id", [r["op_id"] for r in theirs_log], leave_out={"op_id", "seq"}
    )
    stored = db.session.get(Visit, ours[1]["id"])
    assert stored is not None and stored.visited_at == ours[1]["visited_at"]
    assert stored.visited_at.tzinfo is not None
    on_postgres = db.engine.dialect.name == "postgresql"
    assert copies == ([size, size] if on_postgres and size >= bulk.COPY_MIN_ROWS else [])


@pytest.mark.parametrize("size", SIZES)
def test_one_refused_row_fails_the_whole_insert_as_an_integrity_error(
    app, world: World, copies, size
):
    rows = [_visit(world, i) for i in range(size)]
    rows[size // 2]["household_id"] = uuid.uuid4()  # no such household: the foreign key
    with pytest.raises(exc.IntegrityError):
        bulk.insert_rows(db.session, VISITS, rows)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(VISITS)) == 0
    rows[size // 2]["household_id"] = world.households["G1"][0]
    bulk.insert_rows(db.session, VISITS, rows)  # the connection is usable again
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(VISITS)) == size


def test_a_repeated_op_id_is_refused_as_by_core(app, world: World, copies):
    rows = [_log_row(world, i) for i in range(bulk.COPY_MIN_ROWS)]
    rows[-1]["op_id"] = rows[0]["op_id"]  # UNIQUE in the log
    with pytest.raises(exc.IntegrityError):
        bulk.insert_rows(db.session, LOG, rows)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(MutationRecord)) == 0


def test_rows_of_other_shapes_go_through_core(app, world: World, copies):
    """Rows whose keys differ, or that leave out a column with a Python-side default, go
    through Core's executemany (which fills the defaults in), never the driver's."""
    uneven = [_visit(world, i) for i in range(bulk.COPY_MIN_ROWS)]
    del uneven[0]["needs"]  # Core fills its default "" in
    left_out = uneven[0]["id"]
    without_ids = [_visit(world, i) for i in range(bulk.COPY_MIN_ROWS)]
    for row in without_ids:
        del row["id"]  # default: uuid4
    bulk.insert_rows(db.session, VISITS, uneven)
    bulk.insert_rows(db.session, VISITS, without_ids)
    db.session.commit()
    assert copies == []
    assert db.session.scalar(select(func.count()).select_from(VISITS)) == 2 * len(uneven)
    assert db.session.scalar(select(Visit.needs).where(Visit.id == left_out)) == ""


@pytest.fixture
def drivers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of rows of each insert that took a fast path (COPY or the driver's
    executemany): `_tuples` answered them."""
    seen: list[int] = []
    real = bulk._tuples

    def spy(plan: Any, rows: Any) -> Any:
        values = real(plan, rows)
        if values is not None:
            seen.append(len(values))
        return values

    monkeypatch.setattr(bulk, "_tuples", spy)
    return seen


def test_later_rows_with_other_keys_go_through_core(app, world: World, drivers):
    """The plan is made from the first row's keys; a later row with one key more, or with as
    many keys but one of them another, is left to Core, which writes or refuses it as ever."""
    extra = [_visit(world, i) for i in range(bulk.COPY_MIN_ROWS)]
    extra[7]["colour"] = "red"  # Core ignores a key that names no column
    bulk.insert_rows(db.session, VISITS, extra)
    db.session.commit()
    swapped = [_visit(world, i) for i in range(bulk.COPY_MIN_ROWS)]
    del swapped[9]["lat"]
    swapped[9]["colour"] = "red"
    with pytest.raises(exc.StatementError, match="lat"):
        bulk.insert_rows(db.session, VISITS, swapped)
    db.session.rollback()
    bulk.insert_rows(db.session, VISITS, [_visit(world, i) for i in range(bulk.COPY_MIN_ROWS)])
    db.session.commit()
    assert drivers == [bulk.COPY_MIN_ROWS]  # only the even rows took the fast path
    assert db.session.scalar(select(func.count()).select_from(VISITS)) == 2 * bulk.COPY_MIN_ROWS


def test_a_naive_time_is_refused_before_anything_is_written(app, world: World, copies):
    rows = [_visit(world, i) for i in range(bulk.COPY_MIN_ROWS)]
    rows[10]["visited_at"] = rows[10]["visited_at"].replace(tzinfo=None)
    with pytest.raises(ValueError, match="naive datetime"):
        bulk.insert_rows(db.session, VISITS, rows)
    assert copies == []
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(VISITS)) == 0


def test_stored_text_is_offered_only_where_the_columns_store_that_text(app, world: World):
    """`stored_as_text`: on SQLite ids and JSON go as text (their bind processors make exactly
    that text); on PostgreSQL the driver takes typed values, so a plain path gives values."""
    keys = ("id", "household_id", "residents_seen")
    on_sqlite = db.engine.dialect.name == "sqlite"
    assert bulk.stored_as_text(db.session, VISITS, keys) is on_sqlite
    assert bulk.stored_as_text(db.session, LOG, ("result",)) is on_sqlite
    assert not bulk.stored_as_text(db.session, VISITS, ("outcome",))  # not an id nor JSON


def test_stored_text_reads_back_as_the_values_it_stands_for(app, world: World):
    """Rows given with stored text (SQLite) read back as the same rows given as values."""
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL: the driver takes typed values, no stored text is offered
    ours, theirs = _visit(world, 1), _visit(world, 1)
    keys = ("id", "residents_seen")
    constants = {k: v for k, v in ours.items() if k not in keys}
    seen = ours["residents_seen"]
    as_text = (ours["id"].hex, json_text(seen))
    bulk.insert_tuples(db.session, VISITS, keys, [as_text], constants, frozenset(keys))
    bulk.insert_tuples(db.session, VISITS, keys, [(theirs["id"], seen)], constants)
    db.session.commit()
    visits = _stored(VISITS, "id", [ours["id"], theirs["id"]], leave_out={"id"})
    assert len(visits) == 2 and visits[0] == visits[1]
    assert db.session.get(Visit, ours["id"]).residents_seen == seen  # type: ignore[union-attr]


def test_stored_text_where_the_driver_takes_none_is_refused(app, world: World):
    """Stored text reaching Core's executemany (PostgreSQL below COPY_MIN_ROWS) would be
    processed again: refused before anything is written."""
    row = _visit(world, 0)
    keys = ("id",)
    constants = {k: v for k, v in row.items() if k not in keys}
    call = (db.session, VISITS, keys, [(row["id"].hex,)], constants, frozenset(keys))
    if db.engine.dialect.name == "sqlite":
        bulk.insert_tuples(*call)
        db.session.rollback()
        return
    with pytest.raises(ValueError, match="stored forms"):
        bulk.insert_tuples(*call)
