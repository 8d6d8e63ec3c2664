"""Shanghai local time: days (case numbers, duties, deadlines shown) are Shanghai days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai_date(at: dt.datetime) -> dt.date:
    """The Shanghai calendar day of an aware instant.

    >>> shanghai_date(dt.datetime(2026, 11, 25, 17, 30, tzinfo=dt.UTC))
    datetime.date(2026, 11, 26)
    """
    return at.astimezone(SHANGHAI).date()
