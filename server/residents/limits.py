"""Fixed-window counters in the database: the public forms' per-IP and per-phone limits.

Kept behind one function (`spend`) so it can be swapped for the project's Flask-Limiter
storage (Redis) once that lands, without touching the callers.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.exceptions import Throttled
from server.residents.models import RateCounter


def spend(session: Session, key: str, *, limit: int, window_s: int, at: dt.datetime) -> None:
    """Count one hit for `key` in the current window; Throttled once `limit` is used up.

    The increment is one conditional UPDATE (`count < limit`), so parallel requests cannot
    slip past the limit. The first hit of a window inserts the row; a request that finds the
    row only after its UPDATE missed it (another request inserted it in between, or won the
    insert) counts against that row instead. Only a row at its limit throttles.
    """
    now_s = int(at.timestamp())
    start = now_s - now_s % window_s
    for _attempt in range(3):
        done = session.execute(
            update(RateCounter)
            .where(
                RateCounter.key == key,
                RateCounter.window_start == start,
                RateCounter.count < limit,
            )
            .values(count=RateCounter.count + 1)
        )
        if done.rowcount:  # type: ignore[attr-defined]
            return
        count = session.scalar(
            select(RateCounter.count).where(
                RateCounter.key == key, RateCounter.window_start == start
            )
        )
        if count is not None:
            if count >= limit:
                raise Throttled(
                    _l("Too many attempts. Please wait and try again."),
                    retry_after_s=start + window_s - now_s,
                )
            continue  # the window's row appeared after the UPDATE looked: count against it
        try:
            with session.begin_nested():
                session.add(RateCounter(key=key[:100], window_start=start, count=1))
            return
        except IntegrityError:
            continue  # someone inserted the window's row meanwhile: count against it
    raise Throttled(_l("Too many attempts. Please wait and try again."), retry_after_s=window_s)
