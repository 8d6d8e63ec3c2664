"""Which failures are temporary (the whole push is retried later) and which are one mutation's.

A push answers 503 and commits nothing unacknowledged only when the failure is the
infrastructure's: the database went away or is locked, a transaction lost a serialization
race, a disk is full, the process ran out of memory. Anything else raised while one mutation
is applied is that mutation's (bad data that slipped past validation, or a bug in its
handler): it is rejected alone and the batch goes on, so a phone's outbox never jams behind
it (docs/sync-protocol.md §Push).
The test is by the database's own error code, not the driver's class: psycopg files
"index row too large" (SQLSTATE 54000) and SQLite "string or blob too big" under
OperationalError, and both are caused by the data, so retrying could never help.
"""

from __future__ import annotations

import errno
import logging
import uuid
from typing import NamedTuple

from sqlalchemy import exc

from sync.errors import Rejected, Unavailable

#: The push engine's logger (operators alert on its ERROR lines: docs/operations.md).
log = logging.getLogger("sync.engine")

#: PostgreSQL SQLSTATE classes of temporary failures: 08 connection, 40 transaction rollback
#: (serialization failure, deadlock), 53 insufficient resources (disk full, out of memory, too
#: many connections), 57 operator intervention (statement or lock timeout cancelled the query,
#: server shutting down), 58 system error (I/O).
TEMPORARY_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
#: ... and single codes: 55P03 lock_not_available (lock_timeout, NOWAIT).
TEMPORARY_SQLSTATES = frozenset({"55P03"})
#: SQLite result codes (primary names; extended ones start with these) of temporary failures.
TEMPORARY_SQLITE = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_FULL",
    "SQLITE_IOERR",
    "SQLITE_CANTOPEN",
    "SQLITE_NOMEM",
    "SQLITE_PROTOCOL",
    "SQLITE_INTERRUPT",
)
#: OS errors of a store that is full or unreachable (a blob store on disk or over the network).
TEMPORARY_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.ENOMEM, errno.EAGAIN}
)


def is_temporary(error: BaseException) -> bool:
    """True when `error` (or what caused it) is the infrastructure's, worth retrying later.

    >>> lost = exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    >>> is_temporary(lost), is_temporary(OverflowError("date value out of range"))
    (True, False)
    >>> is_temporary(OSError(errno.ENOSPC, "No space left on device"))
    True
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _temporary_itself(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _temporary_itself(error: BaseException) -> bool:
    if isinstance(error, Unavailable | exc.DisconnectionError | exc.TimeoutError | MemoryError):
        return True  # (request bodies are capped: running out of memory is the server's state)
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        return _driver_error_is_temporary(error.orig, error)
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    if isinstance(error, OSError):
        return error.errno in TEMPORARY_ERRNOS
    return False


def _driver_error_is_temporary(orig: BaseException | None, wrapper: exc.DBAPIError) -> bool:
    sqlstate = getattr(orig, "sqlstate", None)  # psycopg
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate[:2] in TEMPORARY_SQLSTATE_CLASSES or sqlstate in TEMPORARY_SQLSTATES
    name = getattr(orig, "sqlite_errorname", None)  # sqlite3 (Python 3.11+)
    if isinstance(name, str) and name:
        return name.startswith(TEMPORARY_SQLITE)
    # No code at all: the driver lost the connection before the server could answer.
    return isinstance(wrapper, exc.OperationalError | exc.InterfaceError)


class Where(NamedTuple):
    """Which mutation failed: the log's key (device, seq), its op id and its name."""

    device_id: uuid.UUID
    seq: int
    op_id: uuid.UUID
    name: str


def unplanned(error: BaseException, where: Where, *, log_it: bool = True) -> Rejected:
    """The rejection for a failure nobody planned for (a bug), logged at error level with its
    traceback and the mutation's key; the server's log filter adds the request id."""
    if log_it:
        log.error(
            "push: %s (seq %d of device %s) failed on the server; rejected alone",
            where.name,
            where.seq,
            where.device_id,
            exc_info=error,
            extra={
                "device_id": str(where.device_id),
                "seq": where.seq,
                "op_id": str(where.op_id),
                "mutation": where.name,
            },
        )
    return Rejected(
        "INTERNAL_ERROR",
        "the server failed on this mutation; the error is in the server log",
        error=type(error).__name__,
    )
