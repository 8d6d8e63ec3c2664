"""The optional database replica: a second, read-only engine for reads that tolerate lag.

Set `DATABASE_REPLICA_URL` (a streaming standby of the primary, docs/scaling.md) and callers
that may read there get sessions from `replica_of(app)`; without it they get None and read the
primary, as always. Callers decide what may go to the replica and fall back to the primary
themselves. Every connection is read-only (`default_transaction_read_only` on PostgreSQL,
`query_only` on SQLite), so a write that slips through fails loudly even when the URL points
at a server that would accept it. After a failure the replica is left alone for
`DATABASE_REPLICA_RETRY_S` seconds in this process, so requests do not each wait on it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

EXTENSION_KEY = "wangge.replica"


class Replica:
    """The replica's engine, its read-only sessions, and when it failed last."""

    def __init__(self, engine: Engine, retry_s: float) -> None:
        self.engine = engine
        self.retry_s = retry_s
        self._sessions = sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)
        self._resting_until = 0.0

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-only session, closed (its transaction rolled back) at the end of the block."""
        with self._sessions() as session:
            yield session

    @property
    def resting(self) -> bool:
        """True for `retry_s` seconds after `failed()`: callers go to the primary meanwhile."""
        return time.monotonic() < self._resting_until

    def failed(self) -> None:
        self._resting_until = time.monotonic() + self.retry_s


def make_replica(url: str, connect_timeout_s: float = 2, retry_s: float = 10.0) -> Replica:
    """A Replica on `url` whose every connection refuses writes."""
    connect_args: dict[str, Any] = {}
    if make_url(url).get_backend_name() == "postgresql":
        # A startup parameter, not a SET: it holds for the whole connection and no rollback
        # (the pool's reset on return) can undo it.
        connect_args = {
            "options": "-c default_transaction_read_only=on",
            "connect_timeout": max(1, int(connect_timeout_s)),
        }
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    event.listen(engine, "connect", _sqlite_query_only)
    return Replica(engine, retry_s)


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA query_only = ON")


def init_app(app: Flask) -> None:
    """Make the app's Replica when `DATABASE_REPLICA_URL` is set."""
    url = app.config.get("DATABASE_REPLICA_URL")
    app.extensions[EXTENSION_KEY] = (
        make_replica(
            str(url),
            connect_timeout_s=float(app.config["DATABASE_REPLICA_CONNECT_TIMEOUT_S"]),
            retry_s=float(app.config["DATABASE_REPLICA_RETRY_S"]),
        )
        if url
        else None
    )


def replica_of(app: Flask) -> Replica | None:
    """The app's Replica, or None when every read goes to the primary."""
    replica: Replica | None = app.extensions.get(EXTENSION_KEY)
    return replica
