"""The dashboard table as rows, CSV (UTF-8 with BOM, for Excel) and XLSX (openpyxl)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.evaluation.metrics import Figures
from server.exports.cells import csv_bytes, xlsx_bytes

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
    return csv_bytes(rows)


def to_xlsx(rows: list[list[Any]], *, sheet: str) -> bytes:
    return xlsx_bytes(rows, sheet=sheet, freeze="B2")
