"""Pulls served by a real PostgreSQL streaming replica, and only when it has caught up.

PostgreSQL only (it is about PostgreSQL replication): the primary and its standby are
started for the session by tests/pg_replica.py. Replay is paused with
`pg_wal_replay_pause()` to make the replica lag on purpose, and the standby is shut down to
make it unreachable. Which database answered is read from the pull-source metric.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from server.extensions import db
from server.fieldsync.scope import SHANGHAI
from server.grid import operations as grid
from server.grid.models import Duty
from server.replica import make_replica, replica_of
from sync.pull import decode_cursor
from sync.versions import current_version
from tests.conftest import IsolatedClient, _migrate, _truncate_all
from tests.pg_replica import ReplicaCluster, replica_cluster_fixture  # noqa: F401
from tests.sync.conftest import (
    Phone,
    make_case,
    office_close,
    office_edit,
    visit_args,
)
from tests.sync.test_pull_sources import Sources

#: Tables every install of one user holds the same way (rejections are per device).
SHARED = ("cells", "households", "residents", "cases", "visits", "catalogue_items", "conflicts")


# --- fixtures: the app on the replica cluster's primary, reading pulls from its standby ----


@pytest.fixture(scope="session")
def replica_database(
    replica_cluster: ReplicaCluster, tmp_path_factory: pytest.TempPathFactory
) -> str:
    _migrate(replica_cluster.primary_url, tmp_path_factory.mktemp("replica-instance"))
    return replica_cluster.primary_url


@pytest.fixture
def database_url(replica_database: str, replica_cluster: ReplicaCluster) -> Iterator[str]:
    """Overrides tests/conftest.py: the cluster's primary, emptied after each test."""
    replica_cluster.reset()
    yield replica_database
    replica_cluster.reset()
    _truncate_all(replica_database)


@pytest.fixture
def app(make_app: Callable[..., Flask], replica_cluster: ReplicaCluster) -> Iterator[Flask]:
    """Overrides tests/conftest.py: an app whose pulls may read the standby."""
    app = make_app(DATABASE_REPLICA_URL=replica_cluster.standby_url)
    with app.app_context():
        yield app
    replica = replica_of(app)
    assert replica is not None
    replica.engine.dispose()


@pytest.fixture
def primary_only(make_app: Callable[..., Flask]) -> IsolatedClient:
    """Another app server on the same database, configured without the replica."""
    client = make_app().test_client()
    assert isinstance(client, IsolatedClient)
    return client


# --- helpers ---------------------------------------------------------------------------


def cursor_version(phone: Phone) -> int:
    assert phone.cursor
    return decode_cursor(phone.cursor)[0].version


def no_resets(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert not any(p.get("reset") for p in pages), pages
    return pages


def assert_same_as_a_new_install(phone: Phone, client: Any) -> None:
    """What `phone` pulled step by step equals what a new install of its user pulls."""
    fresh = Phone(client, phone.user)
    no_resets(fresh.pull())
    for table in SHARED:
        assert phone.table(table) == fresh.table(table), table


def _today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


# --- tests -----------------------------------------------------------------------------


def test_a_pull_is_served_by_the_replica_once_it_has_caught_up(replica_cluster, phone, world):
    make_case(db.session, world, cell="G1", assignee="wa")
    replica_cluster.wait_caught_up()
    wa = phone("wa")
    sources = Sources()
    no_resets(wa.pull(limit=4))
    assert set(sources.since()) == {("replica", "fresh")}
    assert len(wa.table("households")) == 3 and len(wa.table("cases")) == 1
    assert cursor_version(wa) == current_version(db.session)


def test_a_phone_sees_its_own_push_at_once_while_the_replica_is_behind(
    replica_cluster, phone, world
):
    wa = phone("wa")
    no_resets(wa.pull())
    with replica_cluster.paused():
        case_id = make_case(db.session, world, cell="G1", assignee="wa")
        visit = wa.add("visit.create", visit_args(world.households["G1"][0]))
        wa.push()
        sources = Sources()
        no_resets(wa.pull())
        assert sources.since() == {("primary", "lag"): 1}
        assert visit["args"]["id"] in wa.table("visits")  # its own write
        assert str(case_id) in wa.table("cases")  # and everything else it is owed
        assert cursor_version(wa) == current_version(db.session)
        no_resets(wa.pull())  # still behind the cursor: the primary again
        assert sources.since() == {("primary", "lag"): 1}
    replica_cluster.wait_caught_up()
    assert wa.pull()[-1]["changes"] == []
    assert sources.since() == {("replica", "fresh"): 1}


def test_a_replica_behind_the_cursor_never_hands_out_an_older_cursor(
    replica_cluster, client, phone, world, primary_only
):
    wa, wb = phone("wa"), phone("wb")
    no_resets(wa.pull())
    replica_cluster.wait_caught_up()
    with replica_cluster.paused():
        replayed = current_version(db.session)
        case_id = make_case(db.session, world, cell="G1", assignee="wa")
        # wa's last pull went through an app server without the replica: its cursor is ahead.
        wa.client = primary_only
        no_resets(wa.pull())
        assert str(case_id) in wa.table("cases")
        ahead = cursor_version(wa)
        assert ahead > replayed
        wa.client = client
        sources = Sources()
        pages = no_resets(wa.pull())
        assert sources.since() == {("primary", "lag"): 1}
        assert pages[-1]["changes"] == [] and cursor_version(wa) == ahead
        # A first pull owes nothing yet: the replica answers, with a cursor at what it has.
        no_resets(wb.pull())
        assert sources.since() == {("replica", "fresh"): 1}
        assert cursor_version(wb) == replayed
    replica_cluster.wait_caught_up()
    no_resets(wb.pull())
    assert sources.since() == {("replica", "fresh"): 1}
    assert_same_as_a_new_install(wa, primary_only)
    assert_same_as_a_new_install(wb, primary_only)


def test_a_scope_change_the_replica_cannot_describe_goes_to_the_primary_not_to_a_reset(
    replica_cluster, client, world, primary_only
):
    """The cursor's scope is recorded on the primary only: the replica would answer a reset."""
    replica_cluster.wait_caught_up()
    with replica_cluster.paused():
        grid.assign_duty(
            db.session, None, cell_code="G2", username="wa", role="grid_worker", starts_on=_today()
        )
        db.session.commit()
        wa = Phone(primary_only, world.users["wa"])  # a first pull in scope {G1, G2}
        no_resets(wa.pull())
        assert len(wa.table("households")) == 6
        db.session.execute(delete(Duty).where(Duty.cell_code == "G2", Duty.user_id == wa.user.id))
        db.session.commit()
        wa.client = client
        sources = Sources()
        # Back to {G1}, as the replica sees it too, but it lacks the row of {G1, G2}.
        no_resets(wa.pull())
        assert sources.since() == {("primary", "reset"): 1}
        assert len(wa.table("households")) == 3
    assert_same_as_a_new_install(wa, primary_only)


def test_a_stopped_replica_leaves_pulls_on_the_primary_until_it_is_back(
    app, replica_cluster, phone, world
):
    replica = replica_of(app)
    assert replica is not None
    replica.retry_s = 0.5
    wa = phone("wa")
    no_resets(wa.pull())
    sources = Sources()
    with replica_cluster.stopped():
        case_id = make_case(db.session, world, cell="G1", assignee="wa")
        no_resets(wa.pull())
        assert sources.since() == {("primary", "error"): 1}
        assert str(case_id) in wa.table("cases")
        no_resets(wa.pull())  # not tried again at once
        assert sources.since() == {("primary", "resting"): 1}
    replica_cluster.wait_caught_up()
    time.sleep(replica.retry_s)
    assert not replica.resting
    no_resets(wa.pull())
    assert sources.since() == {("replica", "fresh"): 1}


@pytest.mark.parametrize("server", ["standby", "primary"])
def test_a_write_through_a_replica_session_fails(app, replica_cluster, server):
    """Read-only by the connection's own setting: even pointed at the primary, writes fail."""
    url = replica_cluster.standby_url if server == "standby" else replica_cluster.primary_url
    replica = make_replica(url)
    before = current_version(db.session)
    db.session.rollback()
    try:
        with replica.session() as session, pytest.raises(sa.exc.DBAPIError, match="read-only"):
            session.execute(sa.text("UPDATE sync_clock SET version = version + 1"))
            session.commit()
    finally:
        replica.engine.dispose()
    assert current_version(db.session) == before


def test_the_apps_replica_session_refuses_writes(app):
    replica = replica_of(app)
    assert replica is not None
    with replica.session() as session, pytest.raises(sa.exc.DBAPIError, match="read-only"):
        session.execute(sa.text("DELETE FROM sync_marks"))


ACTIONS = st.lists(
    st.sampled_from(["pause", "resume", "case", "edit", "close", "visit", "pull", "pull"]),
    min_size=4,
    max_size=14,
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_pulls_never_skip_a_change_whatever_the_replica_has_replayed(
    replica_cluster, world, client, primary_only, actions
):
    replica_cluster.reset()
    wa = Phone(client, world.users["wa"])
    cases = [make_case(db.session, world, cell="G1", assignee="wa")]
    pushed: list[dict[str, Any]] = []
    for action in actions:
        if action == "pause" and not replica_cluster.replay_paused():
            replica_cluster.pause()
        elif action == "resume":
            replica_cluster.resume()
        elif action == "case":
            cases.append(make_case(db.session, world, cell="G1", assignee="wa"))
        elif action == "edit":
            office_edit(db.session, world, cases[-1], title=f"edited {len(actions)}")
        elif action == "close" and len(cases) > 1:
            office_close(db.session, world, cases.pop(0))
        elif action == "visit":
            pushed.append(wa.add("visit.create", visit_args(world.households["G1"][0])))
            wa.push()
        elif action == "pull":
            before = cursor_version(wa) if wa.cursor else 0
            page = no_resets([wa.pull_page(limit=3)])[0]
            assert before <= cursor_version(wa) <= current_version(db.session)
            db.session.rollback()
            if not page["has_more"]:  # caught up: its own visits are there (read-your-writes)
                assert {m["args"]["id"] for m in pushed} <= set(wa.table("visits"))
    replica_cluster.reset()
    no_resets(wa.pull(limit=3))
    assert_same_as_a_new_install(wa, primary_only)


def test_the_fixture_cluster_really_streams(replica_cluster):
    """The standby is a hot standby in recovery, streaming from the primary."""
    engine = sa.create_engine(replica_cluster.standby_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(sa.func.pg_is_in_recovery())) is True
            assert conn.exec_driver_sql("SELECT status FROM pg_stat_wal_receiver").scalar() == (
                "streaming"
            )
    finally:
        engine.dispose()
    assert Path(replica_cluster.standby_dir, "standby.signal").exists()
