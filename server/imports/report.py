"""Problems of one import (row, column, value, rule, severity, zh/en) and the report they make.

Plain data, no Flask. Row numbers are the spreadsheet's own (the header row counts), so
the office finds row 12 where Excel/WPS shows row 12.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from server.imports.rules import RULES, Severity

MAX_STORED_PROBLEMS = 2000  # per run: the counts stay exact, the list is cut (per rule, fairly)
MAX_VALUE_CHARS = 80


def _short(value: object) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


@dataclass(frozen=True)
class RowProblem:
    """One finding about a cell, a row or the file."""

    rule: str
    severity: Severity
    message_zh: str
    message_en: str
    row: int | None = None
    column: str | None = None
    field: str | None = None
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "value": self.value,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


def where(row: int | None, column: str | None) -> tuple[str, str]:
    """How a message names its place, in Chinese and English.

    >>> where(12, "姓名")
    ('第 12 行“姓名”', 'Row 12, column 姓名')
    >>> where(None, None)
    ('文件', 'The file')
    """
    if row is None:
        return (f"“{column}”列", f"Column {column}") if column else ("文件", "The file")
    if column is None:
        return f"第 {row} 行", f"Row {row}"
    return f"第 {row} 行“{column}”", f"Row {row}, column {column}"


def problem(
    rule: str,
    *,
    row: int | None = None,
    column: str | None = None,
    field: str | None = None,
    value: object = None,
    severity: Severity | None = None,
    **data: object,
) -> RowProblem:
    """Build a problem from the catalogue; raise KeyError for an unknown rule.

    >>> p = problem("id_check_digit", row=7, column="身份证号", value="110105194912310021")
    >>> p.severity, p.message_en[:50]
    ('error', 'Row 7, column 身份证号 "110105194912310021" fails the ')
    """
    default, zh, en = RULES[rule]
    where_zh, where_en = where(row, column)
    shown = _short(value)
    values = {"value": shown, "column": column, "row": row, **data}
    return RowProblem(
        rule=rule,
        severity=severity or default,
        message_zh=zh.format(where_zh=where_zh, where_en=where_en, **values),
        message_en=en.format(where_zh=where_zh, where_en=where_en, **values),
        row=row,
        column=column,
        field=field,
        value=shown if value is not None else None,
    )


@dataclass
class ImportReport:
    """Every problem of one run, with counts; ``has_errors`` decides whether it may be applied."""

    problems: list[RowProblem] = field(default_factory=list)

    def add(self, found: RowProblem | None) -> None:
        if found is not None:
            self.problems.append(found)

    def extend(self, found: list[RowProblem]) -> None:
        self.problems.extend(found)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def counts(self) -> dict[str, int]:
        errors = sum(p.severity == "error" for p in self.problems)
        return {"errors": errors, "warnings": len(self.problems) - errors}

    def rows_with_errors(self) -> set[int]:
        return {p.row for p in self.problems if p.severity == "error" and p.row is not None}

    def to_dict(self) -> dict[str, Any]:
        """Counts per rule, and the problems: errors first, then by row (capped).

        >>> ImportReport([problem("empty_file")]).to_dict()["counts_by_rule"]
        {'empty_file': 1}
        """
        ordered = sorted(
            self.problems, key=lambda p: (p.severity != "error", p.row or 0, p.column or "")
        )
        return {
            "has_errors": self.has_errors,
            **self.counts(),
            "counts_by_rule": dict(Counter(p.rule for p in self.problems)),
            "problems": [p.to_dict() for p in ordered[:MAX_STORED_PROBLEMS]],
            "truncated": max(0, len(ordered) - MAX_STORED_PROBLEMS),
        }
