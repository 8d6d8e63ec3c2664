"""Rows queued by push handlers, written with one bulk insert per table per group, and steps
queued to run under the version clock when they are written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Table
from sqlalchemy.orm import Session

from sync.bulk import insert_rows, insert_tuples


class _Pending:
    """The type of PENDING (a singleton, so `is` finds it)."""

    def __repr__(self) -> str:
        return "PENDING"


#: A queued row's value for "the group's server version": written as that version at flush,
#: when the version clock has been taken (docs/sync-protocol.md §The serial section).
PENDING: Final = _Pending()


class GroupWriter:
    """Rows queued by handlers for one bulk insert per table (`sync.bulk.insert_rows`).

    Queued rows go to the database before any other handler runs and before the log rows,
    in the same transaction (sync/engine.py), so later mutations of the group read them. A
    row the database refuses fails the whole insert: the engine then replays the group
    one mutation per transaction, each flushing its own rows in its savepoint, so that row
    rejects its mutation alone.

    `version()` is called at flush, before the first row is written (the engine takes the
    version clock there if the group has not yet), and a queued value that `is PENDING`
    becomes that version: a handler can queue rows before the group has its version.

    A step queued with `under_clock(step)` runs at flush, under the clock, with the version:
    what must be read and written there (a case's number) and ORM objects built before the
    clock, stamped and added to the session (their `before_flush` hooks run as for any
    write). Steps run in the order queued, then the session is flushed, then the rows go in.
    """

    def __init__(self, session: Session, version: Callable[[], int] | None = None) -> None:
        self.session = session
        self._version = version
        self._rows: dict[Table, list[dict[str, Any]]] = {}
        self._tuples: list[_Tuples] = []
        self._steps: list[Callable[[int], None]] = []

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """Queue `row` for `table`; it is written before the group commits."""
        self._rows.setdefault(table, []).append(row)

    def insert_tuples(
        self,
        table: Table,
        keys: tuple[str, ...],
        rows: list[tuple[Any, ...]],
        constants: dict[str, Any],
        stored: frozenset[str] = frozenset(),
    ) -> None:
        """Queue `rows` (tuples of `keys`' values) for `table`, each with `constants` (the
        same value in every row; PENDING among them becomes the version), the `stored` keys'
        values in their stored form. Saves a dict per row (`sync.bulk.insert_tuples`); the
        rows are written with the others."""
        last = self._tuples[-1] if self._tuples else None
        if (
            last is not None
            and last.table is table
            and last.keys == keys
            and last.stored == stored
            and last.constants == constants
        ):
            last.rows.extend(rows)
        else:
            self._tuples.append(_Tuples(table, keys, list(rows), constants, stored))

    def under_clock(self, step: Callable[[int], None]) -> None:
        """Queue `step(version)`, run at flush once the group holds the version clock."""
        self._steps.append(step)

    def flush(self) -> None:
        """Run every queued step and write every queued row now (raises IntegrityError like
        any insert)."""
        if not self._rows and not self._steps and not self._tuples:
            return
        rows, self._rows = self._rows, {}
        tuples, self._tuples = self._tuples, []
        steps, self._steps = self._steps, []
        # Writes happen under the version clock: `version()` takes it if the group has not.
        version = self._version() if self._version is not None else None
        if steps:
            if version is None:
                raise ValueError("a step under the clock needs the group's version")
            for step in steps:
                step(version)
            self.session.flush()
        for values in rows.values():
            for row in values:
                for key, value in row.items():
                    if value is PENDING:
                        if version is None:
                            raise ValueError("a PENDING value needs the group's version")
                        row[key] = version
        for table, values in rows.items():
            insert_rows(self.session, table, values)
        for batch in tuples:
            constants = batch.constants
            if any(value is PENDING for value in constants.values()):
                if version is None:
                    raise ValueError("a PENDING value needs the group's version")
                constants = {k: version if v is PENDING else v for k, v in constants.items()}
            insert_tuples(
                self.session, batch.table, batch.keys, batch.rows, constants, batch.stored
            )

    def __bool__(self) -> bool:
        return bool(self._rows or self._steps or self._tuples)


@dataclass
class _Tuples:
    """Rows queued as tuples (`GroupWriter.insert_tuples`)."""

    table: Table
    keys: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    constants: dict[str, Any]
    stored: frozenset[str]
