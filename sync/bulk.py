"""Many plain rows into one table, faster than a Core executemany (the push's visits and log).

A Core `insert(table)` executemany spends most of its time per row in SQLAlchemy, not in the
database: building each row's parameters and running each value through its column type's
bind processor (a UTC datetime costs ~9 µs on SQLite, more than inserting the row). Here the
rows are turned into tuples with the same bind processors, each repeated value (a group's
`received_at`, its device, its household) processed once, then handed to the driver:

* PostgreSQL (psycopg), from `COPY_MIN_ROWS` rows: `COPY table (columns) FROM STDIN`, several
  times faster than an executemany. COPY is all or nothing like the executemany: a row the
  database refuses fails the whole statement, raised as the SQLAlchemy exception Core would
  raise (IntegrityError, OperationalError, …), so the push engine replays the group one
  mutation at a time and that row rejects its mutation alone (sync/engine.py).
* SQLite: one `executemany` of the driver through `Connection.exec_driver_sql`
  (SQLAlchemy's error wrapping and events, no per-row compilation).
* Anything else (fewer rows on PostgreSQL, another driver, rows whose keys differ, a column left
  out that has a Python-side default): the Core executemany, unchanged.

Either way the rows go out on the session's connection, inside its transaction or savepoint.

`insert_tuples` also takes values already in their stored form (`stored=`), where the driver
takes text: on SQLite an id's 32 hex digits and a JSON value's text, which a plain path builds
from checked text for a fraction of what the bind processors cost (`stored_as_text`).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import JSON, Table, Uuid, exc, insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator, TypeEngine

from sync.db import json_text

#: Below this many rows a COPY saves too little to be worth a second code path in use.
COPY_MIN_ROWS = 64

#: Types whose processed value is memoised within one call (hashable, repeated, and dear to
#: process: a UTC time costs ~9 µs on SQLite). Not UUIDs: hashing one (Python's `__hash__`)
#: and the dict lookup cost more than its `.hex`; a group's device is one object in every
#: row, processed once anyway.
_MEMO_TYPES = (dt.datetime, dt.date)

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class _Plan:
    """How rows with these keys go into this table on this dialect."""

    keys: tuple[str, ...]
    #: Per key: the column type's bind processor (None: the value goes as it is) and whether
    #: its results are memoised.
    processors: tuple[tuple[Callable[[Any], Any] | None, bool], ...]
    insert_sql: str | None  # the driver's INSERT, or None where only Core is used
    copy_sql: str | None  # COPY … FROM STDIN, PostgreSQL with psycopg only


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts of column values, as for `session.execute(insert(table), rows)`)
    on the session's connection; raises what that executemany would raise for a row the
    database refuses (sqlalchemy.exc.IntegrityError, …)."""
    if not rows:
        return
    connection = session.connection()
    plan = _plan(table, connection.dialect, tuple(rows[0]))
    values = _tuples(plan, rows) if plan is not None else None
    if plan is not None and values is not None and plan.copy_sql and len(rows) >= COPY_MIN_ROWS:
        _copy(connection, plan.copy_sql, values)
    elif plan is not None and values is not None and plan.insert_sql:
        connection.exec_driver_sql(plan.insert_sql, values)
    else:
        session.execute(insert(table), list(rows))


def insert_tuples(
    session: Session,
    table: Table,
    keys: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
    constants: Mapping[str, Any],
    stored: frozenset[str] = frozenset(),
) -> None:
    """`insert_rows` for rows given as tuples of `keys`' values, plus `constants`: columns
    that hold one value in every row (processed once). Saves building a dict per row and
    taking it apart again (the push's plain runs, `sync.handlers.PlainRows`).

    The values of the `stored` keys are given in their stored form, as `stored_as_text`
    allows (raises ValueError where it does not: a caller's mistake)."""
    if not rows:
        return
    connection = session.connection()
    every = keys + tuple(constants)
    plan = _plan(table, connection.dialect, every)
    count = len(rows)
    copy = plan is not None and plan.copy_sql is not None and count >= COPY_MIN_ROWS
    if stored and not (copy or (plan is not None and plan.insert_sql)):
        raise ValueError(f"stored forms of {sorted(stored)} where the driver does not take them")
    if plan is None or not (copy or plan.insert_sql):
        dicts = [dict(zip(keys, row, strict=True), **constants) for row in rows]
        session.execute(insert(table), dicts)
        return
    varying = len(keys)
    processors = [
        (None, False) if key in stored else processor
        for key, processor in zip(keys, plan.processors[:varying], strict=True)
    ]
    columns = _processed(processors, list(zip(*rows, strict=True)), count)
    for value, (process, _) in zip(constants.values(), plan.processors[varying:], strict=True):
        columns.append([value if process is None else process(value)] * count)
    values = list(zip(*columns, strict=True))
    if copy:
        assert plan.copy_sql is not None
        _copy(connection, plan.copy_sql, values)
    else:
        assert plan.insert_sql is not None
        connection.exec_driver_sql(plan.insert_sql, values)


def stored_as_text(session: Session, table: Table, keys: Iterable[str]) -> bool:
    """Whether `insert_tuples` may be given the values of `keys` as text (`stored=`): an id
    (a `Uuid` column) as its 32 lowercase hex digits, a JSON value as `sync.db.json_text`
    writes it. True where each column's own bind processor makes exactly that text of a
    sample (SQLite); elsewhere the driver takes typed values (psycopg: `uuid.UUID`, `Jsonb`)."""
    dialect = session.get_bind().dialect
    return dialect.name == "sqlite" and all(_text_is_stored(table, key, dialect) for key in keys)


_SAMPLE_ID = uuid.UUID("0b1f4a0e-9c4d-4e6e-8f3a-2d7c9b5e1a60")
_SAMPLE_JSON = {"a": ["0b1f4a0e-9c4d-4e6e-8f3a-2d7c9b5e1a60", 1, None], "b": "中"}


@functools.lru_cache(maxsize=64)
def _text_is_stored(table: Table, key: str, dialect: Dialect) -> bool:
    """Whether the column stores the text `stored_as_text` describes (its bind processor
    makes exactly that text of a sample)."""
    column_type = table.c[key].type
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return False
    if isinstance(column_type, Uuid):
        return bool(process(_SAMPLE_ID) == _SAMPLE_ID.hex)
    if isinstance(column_type, JSON):
        return bool(process(_SAMPLE_JSON) == json_text(_SAMPLE_JSON))
    return False


def _tuples(plan: _Plan, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]] | None:
    """Each row's values in `plan.keys` order, through the bind processors; None when the
    rows' keys differ (the caller then leaves them to Core)."""
    # Same keys in every row: as many keys as the plan's, and each of the plan's found
    # (a KeyError below) — cheaper than comparing each row's keys with the first's.
    if set(map(len, rows)) != {len(plan.keys)}:
        return None
    try:
        columns = [[row[key] for row in rows] for key in plan.keys]
    except KeyError:
        return None
    return list(zip(*_processed(plan.processors, columns, len(rows)), strict=True))


def _processed(
    processors: Sequence[tuple[Callable[[Any], Any] | None, bool]],
    columns: Sequence[Sequence[Any]],
    count: int,
) -> list[Sequence[Any]]:
    """`columns` (one sequence of `count` values per processor, in its order), each value
    through its column's bind processor.

    A column whose rows all hold the same object (a group's time, its device, a narrow log
    row's shared empty `args`, or None in every row) is processed once; a memoisable type
    once per distinct value."""
    done: list[Sequence[Any]] = []
    for values, (process, memoised) in zip(columns, processors, strict=True):
        if process is not None:
            first = values[0]
            if all(value is first for value in values):
                values = [process(first)] * count
            elif memoised:
                values = _memoised(process, values)
            else:
                values = list(map(process, values))
        done.append(values)
    return done


def _memoised(process: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """`process` of each value, computed once per distinct value."""
    done: dict[Any, Any] = {}
    out = []
    for value in values:
        try:
            out.append(done[value])
        except KeyError:
            out.append(done.setdefault(value, process(value)))
    return out


def _copy(connection: Connection, sql: str, values: list[tuple[Any, ...]]) -> None:
    """COPY `values` in; a driver error is raised as SQLAlchemy's (IntegrityError, …)."""
    dialect = connection.dialect
    # Only called for psycopg 3 (`_plan` checks the driver), whose cursors have COPY.
    raw = connection.connection.dbapi_connection
    assert raw is not None
    psycopg_connection = cast("psycopg.Connection[Any]", raw)
    try:
        with psycopg_connection.cursor() as cursor, cursor.copy(sql) as copy:
            write = copy.write_row
            for row in values:
                write(row)
    except dialect.loaded_dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, raw, None)
        raise exc.DBAPIError.instance(
            sql,
            None,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=invalidated,
            dialect=dialect,
        ) from error


@functools.lru_cache(maxsize=64)
def _plan(table: Table, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
    """The plan for these keys, or None when only Core's executemany does the same thing."""
    if not keys or any(key not in table.c for key in keys):
        return None
    if any(c.default is not None for c in table.columns if c.name not in keys):
        return None  # Core would fill a Python-side default in
    processors = []
    for key in keys:
        column_type = table.c[key].type
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        processors.append((process, _memoisable(column_type)))
    quote = dialect.identifier_preparer
    name = quote.format_table(table)
    columns = ", ".join(quote.quote(key) for key in keys)
    marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    insert_sql = copy_sql = None
    if dialect.name == "sqlite" and marker is not None:
        insert_sql = f"INSERT INTO {name} ({columns}) VALUES ({', '.join([marker] * len(keys))})"
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        copy_sql = f"COPY {name} ({columns}) FROM STDIN"
    if insert_sql is None and copy_sql is None:
        return None
    return _Plan(keys, tuple(processors), insert_sql, copy_sql)


def _memoisable(column_type: TypeEngine[Any]) -> bool:
    """Whether the type's values are of `_MEMO_TYPES` (looking through TypeDecorators)."""
    while isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    try:
        return issubclass(column_type.python_type, _MEMO_TYPES)
    except NotImplementedError:
        return False
