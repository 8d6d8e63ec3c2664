"""The server domain's exception family. They carry data, never HTTP status codes.

`server/errors.py` maps each class to a status in one table and renders it.
Messages are lazy gettext strings, so they come out in the reader's language.
"""

from __future__ import annotations

from typing import Any


class WanggeError(Exception):
    """Base of every error the server's domain code raises on purpose."""

    code = "error"

    def __init__(
        self,
        message: Any,
        *,
        code: str | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.details = details or {}


class InvalidInput(WanggeError):
    """The input is wrong; nothing was changed."""

    code = "invalid_input"


class NotFound(WanggeError):
    code = "not_found"


class AuthenticationFailed(WanggeError):
    code = "authentication_failed"


class PermissionDenied(WanggeError):
    code = "permission_denied"


class Conflict(WanggeError):
    """The request clashes with the current state (e.g. a name already taken)."""

    code = "conflict"


class Throttled(WanggeError):
    """Too many attempts; `retry_after_s` says when to try again."""

    code = "throttled"

    def __init__(self, message: Any, *, retry_after_s: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_s = retry_after_s
