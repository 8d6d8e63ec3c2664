"""Text a database cannot hold: U+0000 (PostgreSQL refuses it in text and in JSONB).

Framework-free, shared by the push engine (one mutation with a NUL is rejected, the rest of
the batch goes on) and the server's request guard (a NUL anywhere else is a 422).
"""

from __future__ import annotations

from typing import Any

from geo.decoding import nul_path

NUL = "\x00"
#: What a NUL becomes where a rejected mutation is kept for the record (the mutation log).
REPLACEMENT = "\ufffd"


#: The dotted path of the first string or key holding a NUL, or None (geo's check of grid
#: files; sync may use geo, STYLE.md).
first_nul = nul_path


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
