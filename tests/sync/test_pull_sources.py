"""Where pulls are read, on both backends: the primary by default, a configured replica when fresh.

The replica here is the test's own database under a second, read-only engine (no lag): it
checks the routing, the counting and the read-only sessions everywhere. Real replication lag
is tested against a real standby in tests/sync/test_replica_pull.py (PostgreSQL).
"""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from server.ops.metrics import metrics
from server.replica import make_replica, replica_of
from tests.sync.conftest import Phone, visit_args


def pull_sources() -> Counter[tuple[str, str]]:
    """Pull pages answered so far in this process, by (source, reason)."""
    counts: Counter[tuple[str, str]] = Counter()
    for family in metrics().registry.collect():
        for sample in family.samples:
            if sample.name == "wangge_sync_pull_source_total":
                counts[(sample.labels["source"], sample.labels["reason"])] += int(sample.value)
    return counts


class Sources:
    """The pull pages answered since the last call, by (source, reason)."""

    def __init__(self) -> None:
        self.seen = pull_sources()

    def since(self) -> dict[tuple[str, str], int]:
        now = pull_sources()
        new = dict(now - self.seen)
        self.seen = now
        return new


def test_without_a_replica_every_pull_reads_the_primary(app, phone, world):
    assert replica_of(app) is None
    wa = phone("wa")
    sources = Sources()
    pages = wa.pull(limit=2)
    assert sources.since() == {("primary", "no_replica"): len(pages)}
    assert len(wa.table("households")) == 3


def test_a_fresh_replica_serves_pulls_and_the_primary_records_the_scope(
    make_app, database_url, world
):
    app = make_app(DATABASE_REPLICA_URL=database_url)
    try:
        wa = Phone(app.test_client(), world.users["wa"])
        wa.add("visit.create", visit_args(world.households["G1"][0]))
        wa.push()
        sources = Sources()
        pages = wa.pull(limit=2)
        assert sources.since() == {("replica", "fresh"): len(pages)}
        assert len(wa.table("households")) == 3 and len(wa.table("visits")) == 1
        assert pages[-1]["last_seq"] == 1
    finally:
        replica = replica_of(app)
        assert replica is not None
        replica.engine.dispose()


def test_a_bad_cursor_is_answered_by_the_primary(make_app, database_url, world):
    app = make_app(DATABASE_REPLICA_URL=database_url)
    try:
        wa = Phone(app.test_client(), world.users["wa"])
        wa.cursor = "not-a-cursor"
        sources = Sources()
        body = wa.pull_page()
        assert body["reset"] == "bad_cursor"
        assert sources.since() == {("primary", "reset"): 1}
    finally:
        replica = replica_of(app)
        assert replica is not None
        replica.engine.dispose()


def test_a_replica_session_refuses_writes_even_on_a_writable_database(app, database_url):
    replica = make_replica(database_url)
    try:
        with replica.session() as session:
            assert session.execute(sa.text("SELECT version FROM sync_clock")).scalar() == 0
            with pytest.raises(sa.exc.DBAPIError, match=r"read-only|readonly"):
                session.execute(sa.text("UPDATE sync_clock SET version = version + 1"))
    finally:
        replica.engine.dispose()
