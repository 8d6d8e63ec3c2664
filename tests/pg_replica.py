"""A real PostgreSQL primary and a streaming standby of it, started for a test session.

Both clusters live in a temporary directory owned by the `postgres` system user (PostgreSQL
refuses to run as root), listen on free loopback ports and have their own socket directory, so
the shared server on 5432 is never touched. The standby is made with `pg_basebackup -R` and
streams from the primary; `paused()` stops its replay (`pg_wal_replay_pause()`), `stopped()`
shuts it down, and both put it back as it was.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_BIN = Path(os.environ.get("WANGGE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_USER = "postgres"
#: Seconds to wait for a cluster to start or the standby to catch up.
WAIT_S = 60.0


def _free_ports(n: int) -> list[int]:
    """`n` distinct free loopback ports (held open together, so they differ)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _as_postgres(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary as the `postgres` user; raise with its output if it fails."""
    command = [str(a) for a in args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", PG_USER, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=WAIT_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def _unavailable(why: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but the replica tests cannot run: {why}")
    pytest.skip(why)


@dataclass
class ReplicaCluster:
    """A primary and its streaming standby; URLs are SQLAlchemy URLs for the `wangge` database."""

    root: Path
    primary_port: int
    standby_port: int
    database: str = "wangge"

    def url(self, port: int, database: str | None = None) -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/{database or self.database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def standby_url(self) -> str:
        return self.url(self.standby_port)

    @property
    def primary_dir(self) -> Path:
        return self.root / "primary"

    @property
    def standby_dir(self) -> Path:
        return self.root / "standby"

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        _as_postgres(
            PG_BIN / "initdb",
            "-D",
            self.primary_dir,
            "-U",
            PG_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        with (self.primary_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# tests/pg_replica.py\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                "wal_level = replica\n"
                "max_wal_senders = 4\n"
                "hot_standby = on\n"
                "fsync = off\n"
                "full_page_writes = off\n"
                "max_connections = 60\n"
            )
        with (self.primary_dir / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self._pg_ctl(self.primary_dir, self.primary_port, "start")
        _as_postgres(
            PG_BIN / "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary_port),
            "-U",
            PG_USER,
            "-D",
            self.standby_dir,
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        )
        self._start_standby()
        admin = sa.create_engine(
            self.url(self.primary_port, "postgres"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.database}"')
        admin.dispose()
        self.wait_caught_up()

    def stop(self) -> None:
        for data in (self.standby_dir, self.primary_dir):
            if (data / "postmaster.pid").exists():
                with contextlib.suppress(RuntimeError):
                    _as_postgres(PG_BIN / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")

    def _pg_ctl(self, data: Path, port: int, action: str) -> None:
        _as_postgres(
            PG_BIN / "pg_ctl",
            "-D",
            data,
            "-o",
            f"-p {port}",
            "-l",
            self.root / f"{data.name}.log",
            "-w",
            "-t",
            str(int(WAIT_S)),
            action,
        )

    def _start_standby(self) -> None:
        self._pg_ctl(self.standby_dir, self.standby_port, "start")
        self._wait(self._standby_streaming, "the standby to stream from the primary")

    # --- state ----------------------------------------------------------------------------

    def _standby_sql(self, sql: str) -> object:
        engine = sa.create_engine(self.url(self.standby_port, "postgres"), poolclass=sa.NullPool)
        try:
            with engine.connect() as conn:
                return conn.exec_driver_sql(sql).scalar()
        finally:
            engine.dispose()

    def _standby_streaming(self) -> bool:
        try:
            in_recovery = self._standby_sql("SELECT pg_is_in_recovery()")
            status = self._standby_sql("SELECT status FROM pg_stat_wal_receiver")
        except sa.exc.OperationalError:
            return False
        return bool(in_recovery) and status == "streaming"

    def _caught_up(self) -> bool:
        primary = sa.create_engine(self.url(self.primary_port, "postgres"), poolclass=sa.NullPool)
        try:
            with primary.connect() as conn:
                lsn = conn.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar()
        finally:
            primary.dispose()
        behind = self._standby_sql(f"SELECT pg_wal_lsn_diff('{lsn}', pg_last_wal_replay_lsn()) > 0")
        return behind is False

    def _wait(self, done: object, what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if done():  # type: ignore[operator]
                return
            time.sleep(0.05)
        raise TimeoutError(f"waited {WAIT_S} s for {what}")

    def wait_caught_up(self) -> None:
        """Block until the standby has replayed everything the primary has written so far."""
        self._wait(self._caught_up, "the standby to replay the primary's WAL")

    def replay_paused(self) -> bool:
        return self._standby_sql("SELECT pg_get_wal_replay_pause_state()") != "not paused"

    def pause(self) -> None:
        """Stop replay on the standby (it keeps receiving WAL, it applies none of it)."""
        self._standby_sql("SELECT pg_wal_replay_pause()")
        self._wait(
            lambda: self._standby_sql("SELECT pg_get_wal_replay_pause_state()") == "paused",
            "replay to pause",
        )

    def resume(self) -> None:
        self._standby_sql("SELECT pg_wal_replay_resume()")

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self.pause()
        try:
            yield
        finally:
            self.resume()

    @property
    def standby_running(self) -> bool:
        return (self.standby_dir / "postmaster.pid").exists()

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """The standby shut down (fast) for the block, started and streaming again after it."""
        _as_postgres(PG_BIN / "pg_ctl", "-D", self.standby_dir, "-m", "fast", "-w", "stop")
        try:
            yield
        finally:
            self._start_standby()

    def reset(self) -> None:
        """Back to streaming, replaying and caught up (after a test that failed half-way)."""
        if not self.standby_running:
            self._start_standby()
        if self.replay_paused():
            self.resume()
        self.wait_caught_up()


def _start_cluster() -> Iterator[ReplicaCluster]:
    for binary in ("initdb", "pg_ctl", "pg_basebackup", "postgres"):
        if not (PG_BIN / binary).exists():
            _unavailable(f"{PG_BIN / binary} is missing (PostgreSQL server binaries)")
    try:
        owner = pwd.getpwnam(PG_USER)
    except KeyError:
        _unavailable(f"no `{PG_USER}` system user to run PostgreSQL as")
        raise
    if os.geteuid() == 0 and not shutil.which("runuser"):
        _unavailable("running as root without `runuser` to drop to the postgres user")
    # Not under pytest's tmp_path: its parents are private to root and postgres must reach it.
    root = Path(tempfile.mkdtemp(prefix="wangge-replica-"))
    if os.geteuid() == 0:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    primary_port, standby_port = _free_ports(2)
    cluster = ReplicaCluster(root, primary_port, standby_port)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session", name="replica_cluster")
def replica_cluster_fixture() -> Iterator[ReplicaCluster]:
    """A primary (migrated by the caller) and a streaming standby, for the whole session."""
    yield from _start_cluster()
