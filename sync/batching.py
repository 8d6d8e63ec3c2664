"""Rows queued by push handlers, written with one bulk insert per table per group."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from sync.bulk import insert_rows


class GroupWriter:
    """Rows queued by handlers for one bulk insert per table (`sync.bulk.insert_rows`).

    Queued rows go to the database before any other handler runs and before the log rows,
    in the same transaction (sync/engine.py), so later mutations of the group read them. A
    row the database refuses fails the whole insert: the engine then replays the group
    one mutation per transaction, each flushing its own rows in its savepoint, so that row
    rejects its mutation alone.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._rows: dict[Table, list[dict[str, Any]]] = {}

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """Queue `row` for `table`; it is written before the group commits."""
        self._rows.setdefault(table, []).append(row)

    def flush(self) -> None:
        """Write every queued row now (raises IntegrityError like any insert)."""
        rows, self._rows = self._rows, {}
        for table, values in rows.items():
            insert_rows(self.session, table, values)

    def __bool__(self) -> bool:
        return bool(self._rows)
