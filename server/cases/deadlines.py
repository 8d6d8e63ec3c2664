"""Deadlines: the clock starts at dispatch (urgent: at intake), stands still while 缓办, runs out.

Pure functions of a case and a time, so the queue, escalation and the dashboard agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from server.cases.workflow import CLOCK_STATUSES
from server.enums import CaseStatus, Priority


class Timed(Protocol):
    status: CaseStatus
    due_at: dt.datetime | None
    paused_since: dt.datetime | None


def effective_due(case: Timed, now: dt.datetime) -> dt.datetime | None:
    """The deadline as of `now`: a running pause pushes it back by the time paused so far.

    (`due_at` already includes pauses that have ended: resuming moves it.)
    """
    if case.due_at is None:
        return None
    if case.paused_since is not None and now > case.paused_since:
        return case.due_at + (now - case.paused_since)
    return case.due_at


def time_left(case: Timed, now: dt.datetime) -> dt.timedelta | None:
    """Time until the deadline (negative when overdue); None when no clock runs."""
    if case.status not in CLOCK_STATUSES:
        return None
    due = effective_due(case, now)
    return None if due is None else due - now


def is_overdue(case: Timed, now: dt.datetime) -> bool:
    left = time_left(case, now)
    return left is not None and left.total_seconds() < 0


def starts_at_intake(priority: Priority) -> bool:
    """An urgent matter's clock starts when it is taken in, not when it is dispatched.

    >>> starts_at_intake(Priority.URGENT), starts_at_intake(Priority.NORMAL)
    (True, False)
    """
    return priority == Priority.URGENT


def due_after_dispatch(dispatched_at: dt.datetime, limit_hours: float) -> dt.datetime:
    """The deadline of a case whose clock started at `dispatched_at` (or intake, urgent).

    >>> due_after_dispatch(dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC), 2).isoformat()
    '2026-11-26T08:00:00+00:00'
    """
    return dispatched_at + dt.timedelta(hours=limit_hours)


# How a duration reads: day, hour and minute formats per language (Chinese has no spaces).
DURATION_UNITS = {
    "en": ("{}d", "{}h", "{}m", " "),
    "zh": ("{}天", "{}小时", "{}分钟", ""),
}


def humanize(delta: dt.timedelta, language: str = "en") -> str:
    """Compact "time left": 2d 3h, 5h 10m, 12m; negative values get a minus sign.

    >>> humanize(dt.timedelta(hours=-5, minutes=-10))
    '−5h 10m'
    >>> humanize(dt.timedelta(days=2, hours=3))
    '2d 3h'
    >>> humanize(dt.timedelta(days=15, hours=22), "zh")
    '15天22小时'
    >>> humanize(dt.timedelta(minutes=59), "zh")
    '59分钟'
    """
    day, hour, minute, gap = DURATION_UNITS.get(language, DURATION_UNITS["en"])
    seconds = int(delta.total_seconds())
    sign = "−" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return sign + day.format(days) + gap + hour.format(hours)
    if hours:
        return sign + hour.format(hours) + gap + minute.format(minutes)
    return sign + minute.format(minutes)
