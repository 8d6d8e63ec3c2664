"""Human case numbers: PREFIX-YYYYMMDD-NNNN, by the day in Shanghai time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.cases.models import Case

SHANGHAI = ZoneInfo("Asia/Shanghai")


def next_case_number(session: Session, prefix: str, at: dt.datetime) -> str:
    """The next free number of the day. Uniqueness is enforced by the column; callers retry.

    The count is per day prefix, so it stays small and indexed (the number column is unique).
    """
    stem = day_stem(prefix, at)
    last = session.scalar(select(func.max(Case.number)).where(Case.number.like(f"{stem}%")))
    return number_after(last) if last else f"{stem}0001"


def day_stem(prefix: str, at: dt.datetime) -> str:
    """The numbers' common start on the day of `at` in Shanghai.

    >>> day_stem("XH", dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC))
    'XH-20260302-'
    """
    return f"{prefix}-{at.astimezone(SHANGHAI).strftime('%Y%m%d')}-"


def number_after(number: str) -> str:
    """The number following `number` on its day.

    >>> number_after("XH-20260302-0009")
    'XH-20260302-0010'
    """
    stem, n = number.rsplit("-", 1)
    return f"{stem}-{int(n) + 1:04d}"
