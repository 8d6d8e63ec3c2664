"""The sync package's exception family: data, never HTTP codes (server/errors.py maps them)."""

from __future__ import annotations

from typing import Any


class SyncError(Exception):
    """Base of every error `sync/` raises on purpose."""

    code = "sync_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class Rejected(SyncError):
    """A mutation the server will never accept (bad data, no permission, illegal transition).

    It is recorded `rejected` with `code` and `message`, and the device's seq still advances,
    so one bad record never jams the queue behind it.

    >>> Rejected("STATUS_CONFLICT", "the case is closed", current="closed").details
    {'current': 'closed'}
    """

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, code=code, **details)


class UnsupportedSchema(SyncError):
    """The app speaks a protocol version this server does not (the app must update)."""

    code = "schema_version_unsupported"


class BadCursor(SyncError):
    """A pull cursor that is not one this server issued."""

    code = "bad_cursor"


class Unavailable(SyncError):
    """Something the push needs is temporarily out of reach (a photo store that is full or
    unreachable): the push stops, commits nothing unacknowledged and answers 503."""

    code = "unavailable"
