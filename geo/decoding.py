"""Bytes of an uploaded file → a JSON document, with precise problems for encoding and syntax.

Real uploads fail here more often than one would think: a Shapefile converted without
its .cpg gives raw GBK bytes; Windows tools add a UTF-8 BOM; Python's json module (and
Flask's ``get_json``) quietly accept NaN and Infinity, which are not JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

from geo.problems import Problem, problem

_BOM = b"\xef\xbb\xbf"


class _NonFiniteError(ValueError):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _reject_constant(token: str) -> float:
    raise _NonFiniteError(token)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to inf without any complaint
        raise _NonFiniteError(text)
    return value


def decode_text(data: bytes) -> tuple[str | None, list[Problem]]:
    """Return the text of ``data`` (UTF-8, BOM allowed) and problems; GBK is named as such.

    A GBK/GB18030 file is decoded anyway so the rest of the report can be useful, but the
    ``not_utf8`` error still blocks publishing.

    >>> decode_text("新华".encode("gbk"))[1][0].message_en[:54]
    'The file is not UTF-8 (it looks like GBK/GB18030, byte'

    >>> decode_text(b"\\xef\\xbb\\xbf{}")
    ('{}', [])
    """
    if not data.strip():
        return None, [problem("empty_file")]
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        offset = exc.start
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        where = f"byte {offset}"
        return None, [problem("not_utf8", guess_zh=f"（第 {offset} 字节）", guess_en=f" ({where})")]
    return text, [
        problem(
            "not_utf8",
            guess_zh=f"（看起来是 GBK/GB18030，第 {offset} 字节起）",
            guess_en=f" (it looks like GBK/GB18030, byte {offset})",
            encoding_guess="gb18030",
            byte_offset=offset,
        )
    ]


def parse_json(text: str) -> tuple[Any, list[Problem]]:
    """Return the parsed document (or None) and problems; NaN, Infinity and 1e999 are refused.

    >>> parse_json('[1.0, NaN]')[1][0].rule
    'non_finite_number'
    >>> parse_json('{"a": }')[1][0].message_en
    'Not valid JSON: Expecting value (line 1, column 7)'
    """
    try:
        document = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except _NonFiniteError as exc:
        return None, [problem("non_finite_number", token=exc.token)]
    except json.JSONDecodeError as exc:
        detail = f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
        return None, [problem("not_json", detail=detail, line=exc.lineno, column=exc.colno)]
    except RecursionError:
        return None, [problem("not_json", detail="nested too deeply")]
    # JSON carries U+0000 only as the escape \u0000 (a raw one is refused above); PostgreSQL
    # cannot store it in text, so a file holding one is refused here, with where it is.
    where = nul_path(document) if "\\u0000" in text else None
    if where is not None:
        return None, [problem("nul_character", where=where or "(document)")]
    return document, []


def nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string or key in ``value`` holding U+0000, or None ("" for
    ``value`` itself). Also the sync push's and the request guard's check (sync/text.py).

    >>> nul_path({"features": [{"properties": {"name": "a\\x00"}}]})
    'features.0.properties.name'
    >>> nul_path({"k\\x00": 1}), nul_path(["fine", {"x": None}]) is None
    ('k\\\\x00', True)
    """
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return where.replace("\x00", "\\x00")
            found = nul_path(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


def load_document(data: bytes) -> tuple[Any, list[Problem]]:
    """Decode and parse; returns ``(document or None, problems)``.

    >>> load_document(b'{"type": "Point", "coordinates": [1, 2]}')[0]["type"]
    'Point'
    """
    text, problems = decode_text(data)
    if text is None:
        return None, problems
    document, more = parse_json(text)
    return document, problems + more
