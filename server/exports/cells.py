"""Spreadsheet cells that never run: the one neutraliser every CSV and XLSX export uses, and
the CSV (UTF-8 with BOM, for Excel and WPS) and XLSX writers built on it.

A value starting with = + - @ (or a tab/CR) runs as a formula when Excel or WPS opens the
file (CSV injection, OWASP); openpyxl even writes such a string as a formula. Names come
from uploaded files and phones, so every text cell of every export goes through here.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

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


def csv_bytes(rows: list[list[Any]]) -> bytes:
    """UTF-8 with BOM (Excel and WPS open it as UTF-8), every cell neutralised."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(
        safe_row(["" if v is None else v for v in row]) for row in rows
    )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(rows: list[list[Any]], *, sheet: str, freeze: str = "A2") -> bytes:
    """One sheet, bold header row, panes frozen; every cell neutralised (openpyxl would write
    a string starting with '=' as a formula)."""
    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    for row in rows:
        ws.append(safe_row(row))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = freeze
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
