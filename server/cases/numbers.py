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
    day = at.astimezone(SHANGHAI).strftime("%Y%m%d")
    stem = f"{prefix}-{day}-"
    last = session.scalar(select(func.max(Case.number)).where(Case.number.like(f"{stem}%")))
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{n:04d}"
