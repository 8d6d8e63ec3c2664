"""Reading one cell: text cleaned and checked, dates in every spelling (Excel serials too).

``RowReader`` reads the cells of one row by field name and collects each problem with the
row, the column as the file names it, and the value at fault.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.imports.columns import FieldSpec, Mapping
from server.imports.report import RowProblem, problem
from server.population.idnumbers import masked
from server.population.phones import PhoneError, normalise_phone

EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 (Excel's leap-year bug included)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MASKED_FIELDS = {"id_number"}  # personal data of the highest class: never in a report in clear
YES = {"是", "y", "yes", "true", "1", "在岗", "启用", "有效", "√", "✓"}
NO = {"否", "n", "no", "false", "0", "离岗", "停用", "无效", "×", "✗"}


@dataclass(frozen=True)
class PartialDate:
    """A date as precise as the file gave it: 出生年月 has no day."""

    year: int
    month: int | None = None
    day: int | None = None

    def to_date(self) -> dt.date | None:
        if self.month is None or self.day is None:
            return None
        return dt.date(self.year, self.month, self.day)

    def __str__(self) -> str:
        parts = [f"{self.year:04d}"]
        parts += [f"{self.month:02d}"] if self.month else []
        parts += [f"{self.day:02d}"] if self.day else []
        return "-".join(parts)


def excel_serial(number: float) -> dt.date:
    """An Excel serial day number as a date.

    >>> excel_serial(18264)
    datetime.date(1950, 1, 1)
    """
    return EXCEL_EPOCH + dt.timedelta(days=int(number))


def parse_date(value: Any) -> PartialDate | None:
    """A date from a cell: datetime, Excel serial, 1950-01-01, 1950/1/1, 1950年1月, 195001 …

    >>> str(parse_date("1950年3月8日")), str(parse_date("1950.03")), str(parse_date(19500308))
    ('1950-03-08', '1950-03', '1950-03-08')
    >>> str(parse_date(18329.0)), parse_date("明年")
    ('1950-03-07', None)
    """
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return PartialDate(value.year, value.month, value.day)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if value == int(value) and 10_000_000 <= value <= 99_991_231:
            value = str(int(value))  # 19500308 typed as a number
        elif value == int(value) and 100_000 <= value <= 999_912:
            value = str(int(value))  # 195003
        elif 1 <= value < 2_958_466:
            return _checked(*_ymd(excel_serial(value)))
        else:
            return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    match = re.fullmatch(r"(\d{4})(?:[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?)?", text)
    if match is None:
        match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})?", text)
    if match is None:
        match = re.fullmatch(
            r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T]\d{1,2}:\d{2}(?::\d{2})?", text
        )
    if match is None:
        return None
    year, month, day = (int(g) if g else None for g in match.groups())
    return _checked(year, month, day)  # type: ignore[arg-type]


def _ymd(day: dt.date) -> tuple[int, int, int]:
    return day.year, day.month, day.day


def _checked(year: int, month: int | None, day: int | None) -> PartialDate | None:
    try:
        dt.date(year, month or 1, day or 1)
    except ValueError:
        return None
    return PartialDate(year, month, day)


def clean_text(value: Any) -> tuple[str, bool]:
    """Cell → text, and whether control characters had to be removed.

    >>> clean_text(" 张\\x07三 ")
    ('张三', True)
    >>> clean_text(13912345678.0)
    ('13912345678', False)
    """
    if value is None:
        return "", False
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 13912345678 as 13912345678.0
    if isinstance(value, dt.datetime):
        value = value.date()
    text = str(value).replace("\u3000", " ").strip()
    if text.isprintable():  # the usual case: no control character to look for
        return text, False
    cleaned = CONTROL.sub("", text)
    return cleaned, cleaned != text


class RowReader:
    """The cells of one row, read by field, problems collected with row, column and value."""

    def __init__(
        self, number: int, values: list[Any], mapping: Mapping, specs: Sequence[FieldSpec]
    ) -> None:
        self.number = number
        self.values = values
        self.mapping = mapping
        self.specs = {s.name: s for s in specs}
        self.problems: list[RowProblem] = []

    def has(self, field: str) -> bool:
        return field in self.mapping.columns

    def raw(self, field: str) -> Any:
        index = self.mapping.columns.get(field)
        return None if index is None else self.values[index]

    def flag(self, rule: str, field: str | None, value: object = None, **data: object) -> None:
        """Record a problem; identity numbers are masked (the report is stored and shown)."""
        column = self.mapping.header(field) if field else None
        if field in MASKED_FIELDS and value:
            value = masked(str(value))
        self.problems.append(
            problem(rule, row=self.number, column=column, field=field, value=value, **data)
        )

    def text(self, field: str) -> str:
        """Cleaned text ('' when empty or unmapped); required, length and formula checks."""
        text, had_control = clean_text(self.raw(field))
        spec = self.specs[field]
        if had_control:
            self.flag("control_characters", field, text)
        if not text:
            if spec.required:
                self.flag("required_missing", field)
            return ""
        if len(text) > spec.max_length:
            self.flag("too_long", field, text, length=len(text), limit=spec.max_length)
            return text[: spec.max_length]
        if text.startswith(FORMULA_START) and not re.fullmatch(r"[-+]?[\d\s().-]+", text):
            self.flag("formula_text", field, text)
        return text

    def date(self, field: str) -> PartialDate | None:
        value = self.raw(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if self.specs[field].required:
                self.flag("required_missing", field)
            return None
        found = parse_date(value)
        if found is None:
            self.flag("date_unreadable", field, clean_text(value)[0])
        return found

    def phone(self, field: str) -> str | None:
        """One phone number in its stored form; not a number: a warning, and None."""
        text = self.text(field)
        if not text:
            return None
        try:
            return normalise_phone(text)
        except PhoneError:
            self.flag("phone_invalid", field, text)
            return None

    def flag_bool(self, field: str, default: bool) -> bool:
        text = self.text(field).lower()
        if not text:
            return default
        if text in YES:
            return True
        if text in NO:
            return False
        self.flag("bool_unreadable", field, text)
        return default

    def decimal(self, field: str) -> float | None:
        value = self.raw(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return float(unicodedata.normalize("NFKC", str(value)).strip())
        except ValueError:
            self.flag("number_unreadable", field, clean_text(value)[0])
            return None

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)
