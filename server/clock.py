"""The server's "now", controllable in tests: `create_app({"CLOCK": callable})`.

Domain code takes `at`/`now` as arguments; only views and CLI commands ask this module.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app

from sync.db import utcnow


def now() -> dt.datetime:
    """The configured clock's time (timezone-aware UTC), else the real time."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock else utcnow()


def today() -> dt.date:
    """Today's date in Shanghai (duties and visit schedules are by local date)."""
    from zoneinfo import ZoneInfo

    return now().astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
