"""Text a database cannot hold: U+0000 (PostgreSQL refuses it in text and in JSONB).

Framework-free, shared by the push engine (one mutation with a NUL is rejected, the rest of
the batch goes on) and the server's request guard (a NUL anywhere else is a 422).
"""

from __future__ import annotations

from typing import Any

NUL = "\x00"
#: What a NUL becomes where a rejected mutation is kept for the record (the mutation log).
REPLACEMENT = "\ufffd"


def first_nul(value: Any, path: str = "") -> str | None:
    """The dotted path of the first key or string in `value` holding a NUL, or None.

    >>> first_nul({"a": [1, "ok", "b\\x00"]})
    'a.2'
    >>> first_nul({"k\\x00": 1}), first_nul(["fine", {"x": None}]) is None
    ('k\\\\x00', True)
    """
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return where.replace(NUL, "\\x00")
            found = first_nul(item, where)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = first_nul(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


def without_nul(value: Any) -> Any:
    """`value` with every NUL in its strings and keys replaced by U+FFFD (a copy; other values
    as they are).

    >>> without_nul({"a\\x00": ["x\\x00y", 1]})
    {'a\\ufffd': ['x\\ufffdy', 1]}
    """
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT)
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value
