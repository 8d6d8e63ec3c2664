"""Values a database cannot hold: U+0000 and lone surrogates in text, numbers beyond a double.

Framework-free, shared by the push engine (one mutation holding one is rejected, the rest of
the batch goes on) and the server's request guard (a NUL anywhere else is a 422).
PostgreSQL refuses U+0000 in text and JSONB, a lone UTF-16 surrogate (JSON's "\\ud800"
escape parses to one) cannot be encoded to UTF-8 for either database, and JSON's `1e400`
parses to an infinite float that JSONB refuses; a value nested deeper than any mutation's
arguments only costs stack.
"""

from __future__ import annotations

import math
import re
from typing import Any

from geo.decoding import nul_path

NUL = "\x00"
#: What a NUL or a lone surrogate becomes where a rejected mutation is kept for the record.
REPLACEMENT = "\ufffd"
#: No mutation's arguments nest deeper than this (a list of ids inside an object).
MAX_DEPTH = 8

_UNSTORABLE_CHAR = re.compile("[\x00\ud800-\udfff]")

#: The dotted path of the first string or key holding a NUL, or None (geo's check of grid
#: files; sync may use geo, STYLE.md).
first_nul = nul_path


def _text_problem(text: str) -> str | None:
    if NUL in text:
        return "text may not contain a NUL character (U+0000)"
    if not text.isascii() and _UNSTORABLE_CHAR.search(text):
        return "text may not contain a lone surrogate (U+D800 to U+DFFF)"
    return None


def first_unstorable(value: Any, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """(dotted path, what is wrong) of the first part of a JSON value no database can hold,
    or None: a NUL or a lone surrogate in a string or a key, a float that is not finite,
    nesting deeper than MAX_DEPTH (so the recursion is bounded too).

    >>> first_unstorable({"a": [1, "x\\x00"]})
    ('a.1', 'text may not contain a NUL character (U+0000)')
    >>> first_unstorable({"lon": float("inf")}), first_unstorable({"ok": ["文字", 1.5]})
    (('lon', 'a number too large for the database'), None)
    """
    if isinstance(value, str):
        problem = _text_problem(value)
        return None if problem is None else (path, problem)
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, "a number too large for the database")
    if not isinstance(value, dict | list):
        return None
    if depth >= MAX_DEPTH:
        return path, "the arguments are nested too deep"
    pairs = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in pairs:
        # Inline fast paths, and paths spelled only for what is found: most values are clean.
        if type(key) is str and not is_storable_text(key):
            return storable(f"{path}.{key}" if path else key), str(_text_problem(key))
        if type(item) is str and is_storable_text(item):
            continue
        if isinstance(item, str | float | dict | list):
            found = first_unstorable(item, "", depth + 1)
            if found is not None:
                where = f"{path}.{key}" if path else str(key)
                return (f"{where}.{found[0]}" if found[0] else where), found[1]
    return None


def is_storable_text(text: str) -> bool:
    """True when every database holds `text`: no NUL, no lone surrogate (the fast test a
    loader that screens its own arguments uses, `sync.handlers.Handler.load_plain`).

    >>> is_storable_text("走访"), is_storable_text("a\\x00"), is_storable_text("\\ud800")
    (True, False, False)
    """
    return NUL not in text and (text.isascii() or _UNSTORABLE_CHAR.search(text) is None)


def storable(value: Any, depth: int = 0) -> Any:
    """A copy of `value` that any database holds: NULs and lone surrogates become U+FFFD,
    an infinite number its name, anything nested past MAX_DEPTH None (for the log row of a
    rejected mutation: what was sent, as near as can be kept).

    >>> storable({"a\\x00": ["x\\ud800y", float("-inf"), 1]})
    {'a\\ufffd': ['x\\ufffdy', '-inf', 1]}
    """
    if isinstance(value, str):
        return _UNSTORABLE_CHAR.sub(REPLACEMENT, value) if _text_problem(value) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            return None
        if isinstance(value, list):
            return [storable(item, depth + 1) for item in value]
        return {storable(str(key)): storable(item, depth + 1) for key, item in value.items()}
    return value
