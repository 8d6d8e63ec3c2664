"""Times on the public pages in the deployment's zone and the reader's date forms.

Chinese: 2026年12月4日周五 09:00 (a day heading: 12月4日周五); English: Fri, Dec 4, 2026 09:00.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask import current_app
from flask_babel import get_locale


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _locale() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def long_datetime(value: dt.datetime | None) -> str:
    """Date with weekday and time, e.g. 2026年12月4日周五 09:00; "—" for none."""
    if value is None:
        return "—"
    day = format_skeleton("yMMMEd", value, tzinfo=_zone(), locale=_locale())
    return f"{day} {clock_time(value)}"


def day_label(value: dt.datetime) -> str:
    """The local day with its weekday, e.g. 12月4日周五."""
    return format_skeleton("MMMEd", value, tzinfo=_zone(), locale=_locale())


def clock_time(value: dt.datetime) -> str:
    """The local time of day, 24-hour: 09:00."""
    return value.astimezone(_zone()).strftime("%H:%M")


def local_day(value: dt.datetime) -> dt.date:
    return value.astimezone(_zone()).date()


FILTERS = {
    "long_datetime": long_datetime,
    "day_label": day_label,
    "clock_time": clock_time,
    "local_day": local_day,
}
