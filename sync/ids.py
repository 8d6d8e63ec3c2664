"""Ids as phones send them: parsed once into `uuid.UUID`, keeping their text.

A push of 1,000 visits reads ~4,000 ids and writes each back out as text (its answer, a
visit's `residents_seen`, the rows' stored form on SQLite): `uuid.UUID` parses in Python
(~0.9 µs) and rebuilds its text on every `str()` (~0.7 µs) and `.hex` (~0.3 µs). An id in the
canonical form every phone sends (`crypto.randomUUID()`: lowercase, dashed) becomes a
`TextUUID`, a `uuid.UUID` in every respect (equal to and hashed like the same `uuid.UUID`,
accepted by SQLAlchemy and psycopg alike) whose text is the one it was parsed from.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_SAFE_UNKNOWN = uuid.SafeUUID.unknown
_set = object.__setattr__  # UUID objects refuse attribute assignment (they are immutable)


class TextUUID(uuid.UUID):
    """A `uuid.UUID` that keeps the canonical text it was parsed from (`parse_id`).

    >>> found = parse_id("0b1f4a0e-9c4d-4e6e-8f3a-2d7c9b5e1a60")
    >>> type(found).__name__, found == uuid.UUID(str(found)), str(found), found.hex[:8]
    ('TextUUID', True, '0b1f4a0e-9c4d-4e6e-8f3a-2d7c9b5e1a60', '0b1f4a0e')
    """

    __slots__ = ("_text",)
    _text: str

    def __str__(self) -> str:
        return self._text

    @property
    def hex(self) -> str:
        return self._text.replace("-", "")

    def __reduce__(self) -> tuple[Any, ...]:
        # A copy (copy, pickle) is a plain uuid.UUID: nothing else needs the text kept.
        return (uuid.UUID, (self._text,))


def parse_id(text: str) -> uuid.UUID:
    """`uuid.UUID(text)`: a `TextUUID` for the canonical form, else whatever `uuid.UUID`
    makes of it (uppercase, braces, no dashes, a URN), or its ValueError.

    >>> type(parse_id("0B1F4A0E-9C4D-4E6E-8F3A-2D7C9B5E1A60")).__name__
    'UUID'
    """
    if _CANONICAL.match(text) is None:
        return uuid.UUID(text)
    found = object.__new__(TextUUID)
    _set(found, "int", int(text.replace("-", ""), 16))
    _set(found, "is_safe", _SAFE_UNKNOWN)
    _set(found, "_text", text)
    return found


def canonical_id(value: Any) -> str | None:
    """`value` when it is an id in the canonical form (a `str`, lowercase, dashed: what every
    phone sends), else None; a plain path keeps such ids as text (`sync.bulk.stored_as_text`).

    >>> canonical_id("0b1f4a0e-9c4d-4e6e-8f3a-2d7c9b5e1a60") is not None
    True
    >>> canonical_id("0B1F4A0E-9C4D-4E6E-8F3A-2D7C9B5E1A60"), canonical_id(None)
    (None, None)
    """
    if type(value) is str and _CANONICAL.match(value) is not None:
        return value
    return None
