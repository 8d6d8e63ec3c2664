"""Typed query arguments and path integers: a value no column or calendar can hold is refused
(or, for a pure filter, ignored) here, never in the database or in date arithmetic.

The route fuzzer (tests/server/test_route_fuzz.py) found the same three faults on a score of
pages: `request.args.get(..., type=int)` lets 99999999999999999999 through to the driver
(SQLite: OverflowError; PostgreSQL: out of range), `date.fromisoformat` accepts 0001-01-01 and
9999-12-31, whose neighbours (a day before, a day after, +08:00) do not exist, and an unknown
enum value reached code that assumed a known one. Each reader below takes one argument:

- `strict=True` (the value decides what is shown: an export's window, a list's status):
  a bad value raises InvalidInput (422) with a machine code and the argument as `field`;
- `strict=False` (a pure filter: a page number, a worker to narrow by): a bad value is
  ignored, as if the argument were absent, and the page shows its default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from marshmallow import fields
from werkzeug.routing import IntegerConverter

from server.exceptions import InvalidInput

#: The largest id: primary keys are INTEGER, 32 bits on PostgreSQL, and SQLAlchemy casts
#: a compared value to the column's type (2**31 is "integer out of range" there, while
#: SQLite, 64 bits, takes it). Every integer argument and path value here is an id or a
#: page number.
MAX_ID = 2**31 - 1
#: Dates a person can mean on these pages: outside it, date arithmetic (a day either side,
#: a time zone) could leave Python's calendar (years 1 to 9999).
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)
#: The last page number any list offers (10 000 pages of 50 rows).
MAX_PAGE = 10_000


def int_arg(
    name: str,
    default: int | None = None,
    *,
    low: int = -MAX_ID,
    high: int = MAX_ID,
    strict: bool = False,
) -> int | None:
    """An integer in [low, high] (ASCII digits only; `１２` and `1e20` are not integers)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if digits.isascii() and digits.isdigit() and len(digits) <= 19:
        value = int(text)
        if low <= value <= high:
            return value
    if strict:
        raise InvalidInput(
            _l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high),
            code="invalid_integer",
            field=name,
        )
    return default


def parse_id(raw: object) -> int | None:
    """An id from a form or a path: ASCII digits that a 32-bit id column holds, else None.

    >>> parse_id("42"), parse_id("99999999999999999999"), parse_id("²"), parse_id(None)
    (42, None, None, None)
    """
    text = str(raw) if raw is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def in_calendar(day: dt.date | dt.datetime) -> bool:
    """Whether a date (or a date-time's date) lies in [EARLIEST, LATEST].

    >>> in_calendar(dt.date(2026, 12, 3)), in_calendar(dt.date(1, 1, 1))
    (True, False)
    """
    if isinstance(day, dt.datetime):
        day = day.date()
    return EARLIEST <= day <= LATEST


def parse_date(raw: str | None) -> dt.date | None:
    """A YYYY-MM-DD date in the calendar range, else None.

    >>> parse_date("2026-12-03"), parse_date("9999-12-31"), parse_date("2026-02-30")
    (datetime.date(2026, 12, 3), None, None)
    """
    try:
        day = dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return day if in_calendar(day) else None


def parse_datetime(raw: str | None) -> dt.datetime | None:
    """An ISO date-time (naive or with an offset) in the calendar range, else None."""
    try:
        value = dt.datetime.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return value if in_calendar(value) else None


def date_arg(name: str, default: dt.date | None = None, *, strict: bool = False) -> dt.date | None:
    """A YYYY-MM-DD date between 1900 and 2100."""
    raw = request.args.get(name)
    if not raw:
        return default
    day = parse_date(raw)
    if day is None and strict:
        raise InvalidInput(
            _l("Dates are YYYY-MM-DD, between 1900 and 2100."), code="invalid_date", field=name
        )
    return default if day is None else day


def datetime_arg(
    name: str, default: dt.datetime | None = None, *, strict: bool = False
) -> dt.datetime | None:
    """An ISO date-time between 1900 and 2100 (as given: naive or aware)."""
    raw = request.args.get(name)
    if not raw:
        return default
    value = parse_datetime(raw)
    if value is None and strict:
        raise InvalidInput(
            _l("Not a date and time between 1900 and 2100 (e.g. 2026-11-01T08:00:00+08:00)."),
            code="invalid_datetime",
            field=name,
        )
    return default if value is None else value


def choice_arg(
    name: str, choices: Iterable[str], default: str | None = None, *, strict: bool = False
) -> str | None:
    """One of `choices`."""
    raw = request.args.get(name)
    if not raw:
        return default
    allowed = [str(c) for c in choices]
    if raw in allowed:
        return raw
    if strict:
        raise InvalidInput(
            _l("Choose one of: %(choices)s.", choices=", ".join(allowed)),
            code="invalid_choice",
            field=name,
            details={"choices": allowed},
        )
    return default


class BoundedIntegerConverter(IntegerConverter):
    """`<int:…>` that matches only what an id column can hold: a larger id is a 404
    ("no such page") like any other missing one, not a driver's overflow."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Install the bounded `int` converter; before any blueprint adds its rules."""
    app.url_map.converters["int"] = BoundedIntegerConverter


class BoundedInteger(fields.Integer):
    """marshmallow's Integer for input ids: a number no id column holds (2**31, 10**30)
    is "not a valid integer" (422 naming the field), not a driver's overflow later."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        number = super()._deserialize(value, attr, data, **kwargs)
        if number is not None and not -MAX_ID <= number <= MAX_ID:
            raise self.make_error("invalid")
        return number
