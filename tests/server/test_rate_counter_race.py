"""The public forms' rate counter under the race a loaded server met: a request's UPDATE finds
no row for the window, another request's row is committed before this one looks again, and
the hit must count against that row, not answer 429 (seen as one 429 among forty bookings of
one slot on PostgreSQL, with the limit far away)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from server.exceptions import Throttled
from server.extensions import db
from server.residents.limits import spend
from server.residents.models import RateCounter

AT = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
HOUR = 3600


def _window_start() -> int:
    now_s = int(AT.timestamp())
    return now_s - now_s % HOUR


# PostgreSQL only: SQLite lets no other connection write while this request's UPDATE holds
# the database's write lock, so the interleaving cannot happen there.
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_row_inserted_between_the_update_and_the_look_counts_the_hit(
    app: Any, database_url: str
) -> None:
    """After this request's UPDATE matched nothing, another connection commits the window's
    row (count 1). The request must count its hit on it (2), not throttle."""
    other = sa.create_engine(database_url)
    fired: list[str] = []

    def another_request_wins(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE RATE_COUNTERS") and not fired:
            fired.append(statement)
            with other.begin() as side:
                side.execute(
                    sa.insert(RateCounter.__table__).values(
                        key="book-ip:10.0.0.1", window_start=_window_start(), count=1
                    )
                )

    engine = db.engine
    sa.event.listen(engine, "after_cursor_execute", another_request_wins)
    try:
        spend(db.session, "book-ip:10.0.0.1", limit=1000, window_s=HOUR, at=AT)
        db.session.commit()
    finally:
        sa.event.remove(engine, "after_cursor_execute", another_request_wins)
        other.dispose()
    assert fired, "the race was not staged"
    assert db.session.scalar(sa.select(RateCounter.count)) == 2


def test_the_limit_still_throttles_and_counts_nothing_more(app: Any) -> None:
    for _ in range(3):
        spend(db.session, "book-phone:13900000000", limit=3, window_s=HOUR, at=AT)
    db.session.commit()
    with pytest.raises(Throttled) as raised:
        spend(db.session, "book-phone:13900000000", limit=3, window_s=HOUR, at=AT)
    assert raised.value.retry_after_s == _window_start() + HOUR - int(AT.timestamp())
    db.session.rollback()
    assert db.session.scalar(sa.select(RateCounter.count)) == 3
