"""Opening hours as points write them ("周一至周五 9:00–16:00", "每日 11:00–13:00、17:00–18:30").

`parse` reads the days and the time ranges; `OpeningHours.covers` says whether a slot falls on
an opening day and inside a range. Text we cannot read yields None: nothing is hidden then.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

WEEKDAYS = "一二三四五六日"  # Monday = 0, as datetime.weekday()
_DAY = r"(?:周|星期)([一二三四五六日天])"
_RANGE = re.compile(_DAY + r"\s*(?:至|到|-|–|—|~)\s*" + _DAY)
_ONE = re.compile(_DAY)
_TIMES = re.compile(r"(\d{1,2})[::](\d{2})\s*(?:-|–|—|~|至|到)\s*(\d{1,2})[::](\d{2})")


def _weekday(char: str) -> int:
    return 6 if char in "日天" else WEEKDAYS.index(char)


@dataclass(frozen=True)
class OpeningHours:
    days: frozenset[int]
    ranges: tuple[tuple[dt.time, dt.time], ...]

    def open_on(self, when: dt.datetime) -> bool:
        """True if the local time `when` falls on an opening day."""
        return when.weekday() in self.days

    def covers(self, start: dt.datetime, end: dt.datetime) -> bool:
        """True if the local `start`–`end` lies on an opening day within one time range."""
        if start.weekday() not in self.days:
            return False
        if not self.ranges:
            return True
        return start.date() == end.date() and any(
            a <= start.time() and end.time() <= b for a, b in self.ranges
        )


def parse(text: str) -> OpeningHours | None:
    """The days and ranges in `text`, or None if it names no days we understand."""
    text = text.strip()
    days: set[int] = set()
    if "每日" in text or "每天" in text or "全天" in text:
        days = set(range(7))
    elif "工作日" in text:
        days = set(range(5))
    for a, b in _RANGE.findall(text):
        first, last = _weekday(a), _weekday(b)
        days.update(
            range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        )
    days.update(_weekday(c) for c in _ONE.findall(text))
    if not days:
        return None
    ranges = tuple(
        (dt.time(int(h1), int(m1)), dt.time(min(int(h2), 23), int(m2) if int(h2) < 24 else 59))
        for h1, m1, h2, m2 in _TIMES.findall(text)
        if int(h1) < 24
    )
    return OpeningHours(frozenset(days), ranges)
