"""Real server processes: killed mid-push and restarted; 50 phones pushing at once.

gunicorn on 127.0.0.1 at a free port, started in its own process group so SIGKILL takes the
master and its workers down together, like a power cut.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from server import REPO_ROOT, create_app
from server.accounts import operations as accounts
from server.extensions import db
from sync.db import utcnow
from tests.conftest import _truncate_all
from tests.sync.conftest import build_world, make_case

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A gunicorn process serving wsgi:app on a database; start, kill -9, start again."""

    def __init__(self, url: str, instance: Path, workers: int = 1) -> None:
        self.url, self.instance, self.workers = url, instance, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "WANGGE_SQLALCHEMY_DATABASE_URI": self.url,
            "WANGGE_INSTANCE_PATH": str(self.instance),
            "WANGGE_SECRET_KEY": "live-test",
        }
        with (self.instance / "gunicorn.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    GUNICORN,
                    "-w",
                    str(self.workers),
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "60",
                    "wsgi:app",
                ],
                cwd=REPO_ROOT,
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/healthz", timeout=5).status_code < 500:
                    return
            except requests.RequestException:
                time.sleep(0.05)
        raise AssertionError("the server did not come up")

    def kill(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None


def _seed(url: str, instance: Path, extra_workers: int = 0) -> dict[str, Any]:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "t"}
    )
    with app.app_context():
        world = build_world(db.session)
        case_id = make_case(db.session, world)
        names = ["wa"]
        from server.accounts.models import User
        from server.accounts.passwords import hash_password

        shared_hash = hash_password("x" * 12)  # hashing once keeps seeding 50 users quick
        for i in range(extra_workers):
            user = User(
                username=f"load{i}",
                display_name=f"load{i}",
                role="worker",
                password_hash=shared_hash,
            )
            db.session.add(user)
            world.users[user.username] = user
            names.append(user.username)
        db.session.flush()
        from server.enums import DutyRole
        from server.grid.models import Duty

        for name in names[1:]:
            db.session.add(
                Duty(
                    user_id=world.users[name].id,
                    cell_code="G1",
                    role=DutyRole.GRID_WORKER,
                    starts_on=utcnow().date().replace(day=1),
                )
            )
        tokens = {}
        for name in names:
            token, device = accounts.issue_device_token(
                db.session, world.users[name], device_id=uuid.uuid4(), device_name="p"
            )
            tokens[name] = (token, str(device.id))
        db.session.commit()
        info = {
            "tokens": tokens,
            "households": [str(h) for h in world.households["G1"]],
            "case_id": str(case_id),
        }
        db.session.remove()
        db.engine.dispose()
    return info


def _visit(household: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "household_id": household, "situation": "ok"}


def _count(url: str, sql: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        value = conn.exec_driver_sql(sql).scalar_one()
    engine.dispose()
    return int(value)


@pytest.fixture
def sqlite_file(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "live.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.mark.slow
def test_a_server_killed_mid_push_twenty_times_loses_and_doubles_nothing(sqlite_file, tmp_path):
    info = _seed(sqlite_file, tmp_path)
    token, device_id = info["tokens"]["wa"]
    headers = {"Authorization": f"Bearer {token}"}
    server = LiveServer(sqlite_file, tmp_path)
    rng = random.Random(20261126)
    outbox: list[dict[str, Any]] = []
    created: list[str] = []
    acknowledged: set[int] = set()
    seq = 0
    kills = 0

    def push_once(timeout: float = 5) -> int | None:
        body = {
            "device_id": device_id,
            "schema_version": 1,
            "device_now": utcnow().isoformat(),
            "mutations": outbox[:25],
        }
        try:
            r = requests.post(
                f"{server.base}/api/v1/sync/push", json=body, headers=headers, timeout=timeout
            )
        except requests.RequestException:
            return None
        if r.status_code != 200:
            return None
        return int(r.json()["last_seq"])

    sends: dict[int, int] = {}

    def add_mutations(n: int) -> None:
        nonlocal seq
        for _ in range(n):
            seq += 1
            m = {
                "seq": seq,
                "op_id": str(uuid.uuid4()),
                "name": "visit.create",
                "args": _visit(rng.choice(info["households"])),
            }
            outbox.append(m)
            created.append(m["args"]["id"])

    try:
        for _ in range(20):
            server.start()
            # One push is acknowledged before each kill is armed: on a loaded machine the
            # timer could otherwise fire before any push of the round got an answer.
            add_mutations(10)
            for m in outbox[:25]:
                sends[m["seq"]] = sends.get(m["seq"], 0) + 1
            last = push_once(timeout=60)
            assert last is not None, "the restarted server answered no push"
            acknowledged.update(m["seq"] for m in outbox if m["seq"] <= last)
            outbox[:] = [m for m in outbox if m["seq"] > last]
            # Keep the phone pushing until the kill lands: it always cuts a push off,
            # in flight (before or after its commit) or at the next connection.
            killer = threading.Timer(rng.uniform(0.05, 0.5), server.kill)
            killer.start()
            for _ in range(200):  # bounded; the kill comes long before
                add_mutations(10)
                for m in outbox[:25]:
                    sends[m["seq"]] = sends.get(m["seq"], 0) + 1
                last = push_once()
                if last is None:
                    break
                acknowledged.update(m["seq"] for m in outbox if m["seq"] <= last)
                outbox[:] = [m for m in outbox if m["seq"] > last]
            killer.join()
            kills += 1
        server.start()
        while outbox:
            last = push_once(timeout=30)
            assert last is not None
            outbox[:] = [m for m in outbox if m["seq"] > last]
    finally:
        server.kill()
    assert kills == 20
    visits = _count(sqlite_file, "SELECT count(*) FROM visits")
    distinct = _count(sqlite_file, "SELECT count(DISTINCT id) FROM visits")
    logged = _count(sqlite_file, "SELECT count(*) FROM sync_mutations")
    assert visits == distinct == logged == len(created) == seq
    assert acknowledged  # batches were acknowledged between kills …
    assert any(n > 1 for n in sends.values())  # … and cut-off batches were sent again


@pytest.fixture
def pg_url(postgres_database: str) -> Iterator[str]:
    yield postgres_database
    _truncate_all(postgres_database)


@pytest.mark.slow
@pytest.mark.postgres
def test_fifty_phones_pushing_at_once_to_several_workers(pg_url, tmp_path):
    info = _seed(pg_url, tmp_path, extra_workers=49)
    server = LiveServer(pg_url, tmp_path, workers=4)
    errors: list[str] = []
    batches, per_batch = 3, 20

    def phone(name: str) -> None:
        token, device_id = info["tokens"][name]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        seq = 0
        for _ in range(batches):
            mutations = []
            for _ in range(per_batch - 1):
                seq += 1
                mutations.append(
                    {
                        "seq": seq,
                        "op_id": str(uuid.uuid4()),
                        "name": "visit.create",
                        "args": _visit(info["households"][seq % 3]),
                    }
                )
            seq += 1
            mutations.append(
                {
                    "seq": seq,
                    "op_id": str(uuid.uuid4()),
                    "name": "case.note",
                    "args": {
                        "id": str(uuid.uuid4()),
                        "case_id": info["case_id"],
                        "text": f"{name} was here",
                    },
                }
            )
            body = {"device_id": device_id, "schema_version": 1, "mutations": mutations}
            for _attempt in range(5):
                r = session.post(f"{server.base}/api/v1/sync/push", json=body, timeout=60)
                if r.status_code == 200 and r.json()["last_seq"] == seq:
                    break
                errors.append(f"{name}: {r.status_code} {r.text[:200]}")
                time.sleep(0.2)

    server.start()
    try:
        threads = [threading.Thread(target=phone, args=(n,)) for n in info["tokens"]]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a phone hung (deadlock?)"
        elapsed = time.monotonic() - started
        print(f"50 phones x {batches} batches: {elapsed:.1f} s")
    finally:
        server.kill()
    assert errors == []
    total = 50 * batches * per_batch
    assert _count(pg_url, "SELECT count(*) FROM sync_mutations") == total
    assert _count(pg_url, "SELECT count(*) FROM sync_mutations WHERE status = 'applied'") == total
    assert _count(pg_url, "SELECT count(*) FROM visits") == 50 * batches * (per_batch - 1)
    notes = _count(pg_url, "SELECT count(*) FROM case_events WHERE kind = 'note'")
    assert notes == 50 * batches
    seqs = _count(pg_url, "SELECT count(DISTINCT seq) FROM case_events")
    assert seqs == _count(pg_url, "SELECT count(*) FROM case_events")  # timeline order unique
    assert elapsed < 120
