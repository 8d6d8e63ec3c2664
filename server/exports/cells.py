"""Spreadsheet cells that never run: the one neutraliser every CSV and XLSX export uses.

A value starting with = + - @ (or a tab/CR) runs as a formula when Excel or WPS opens the
file (CSV injection, OWASP); openpyxl even writes such a string as a formula. Names come
from uploaded files and phones, so every text cell of every export goes through here.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def safe_cell(value: Any) -> Any:
    """The value with a leading apostrophe when it would start a formula; numbers untouched.

    >>> safe_cell('=HYPERLINK("http://x","点我")'), safe_cell("-12"), safe_cell(-12)
    ('\\'=HYPERLINK("http://x","点我")', '-12', -12)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values: list[Any]) -> list[Any]:
    """Every cell of a row through ``safe_cell``."""
    return [safe_cell(v) for v in values]
