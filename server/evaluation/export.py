"""The dashboard table as rows, CSV (UTF-8 with BOM, for Excel) and XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from server.evaluation.metrics import Figures
from server.exports.cells import safe_row

#: (header, getter) of every exported column, in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("received", "received"),
    ("accepted", "accepted"),
    ("due", "due"),
    ("closed", "closed"),
    ("closed_on_time", "closed_on_time"),
    ("postponed", "postponed"),
    ("closure_rate", "closure_rate"),
    ("on_time_rate", "on_time_rate"),
    ("urgent_closure_rate", "urgent_closure_rate"),
    ("urgent_on_time_rate", "urgent_on_time_rate"),
    ("avg_dispatch_hours", "avg_dispatch_hours"),
    ("avg_close_hours", "avg_close_hours"),
    ("rework_count", "rework"),
    ("satisfaction", "satisfaction"),
    ("visit_coverage", "visit_coverage"),
)


def _plain(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def table(
    rows: Sequence[tuple[str, Figures]],
    total: Figures,
    weights: dict[str, float],
    headers: dict[str, str],
) -> list[list[Any]]:
    """Header row, one row per group, then the total row."""
    out: list[list[Any]] = [
        [
            headers.get("group", "group"),
            *(headers.get(h, h) for h, _ in COLUMNS),
            headers.get("score", "score"),
        ]
    ]
    for name, f in [*rows, (headers.get("total", "total"), total)]:
        out.append([name, *(_plain(getattr(f, g)) for _, g in COLUMNS), f.score(weights)])
    return out


def to_csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([safe_row(["" if v is None else v for v in row]) for row in rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[Any]], *, sheet: str) -> bytes:
    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    for row in rows:
        ws.append(safe_row(row))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "B2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
