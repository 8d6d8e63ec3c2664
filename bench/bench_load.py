"""Load: 1,000 phones through a working day — sign in and pull in the morning; at the end of
the shift push 100 mutations, upload 2 photos and pull what changed — against gunicorn.

Run ``python bench/bench_load.py`` (1,000 devices, PostgreSQL then SQLite) or ``--quick``
(100 devices). ``--backend postgres|sqlite|both``, ``--devices``, ``--batch`` (mutations per
push; default the app's PUSH_BATCH, 100), ``--max-seconds`` (the whole run's bound).

Two ways to load the server:

* **open loop** (default, the goal's scenario): phones arrive as they would. Morning: every
  phone signs in (Argon2id) and pulls its whole scope, starting at a uniformly random moment
  within ``--window`` seconds; end of shift: every phone runs what the PWA's sync runs
  (pwa/js/sync-client.js: push the outbox in pushes of ``--batch``, upload the photos by tus,
  pull since the morning's cursor), again starting at random within ``--window``. Arrivals do
  not wait for the server, so a slow server shows as latency, not as a politely slower client.
* **closed loop** (``--concurrency N``): N phones at once, each running morning and shift end
  back to back with no pause, as fast as the server answers — a stress test that finds the
  saturation throughput; its latencies are mostly queueing.

The morning has three forms (``--morning``): ``password`` (every phone signs in with its
password: Argon2id), ``renew`` (the realistic morning since device tokens expire: every phone
still holds yesterday's token, made at set-up, and renews it — POST /api/v1/auth/token/renew,
a SHA-256 and a few indexed queries), or ``both``: a renewing morning, then a password
morning of the same phones, in one run, so the two compare under the same machine load.
``--morning-only`` stops after the morning (no end of shift, no exactly-once checks);
``--no-pull`` leaves out the morning's pull, so the sign-in or renewal is all the load.
``--push-only`` times the end of the shift's pushes alone (the photos and the pull follow,
untimed, so the checks still hold): the write path and its version clock without the rest.
Each phase also reports the server's CPU seconds (gunicorn, and the PostgreSQL backends of the
bench's database) per phone, and how many phones per second the machine's CPUs could fit at
most: on a small machine that, not the version clock, is what bounds the knee.

Set-up (the bench's own): a fresh database (PostgreSQL: a new database next to
``WANGGE_TEST_POSTGRES_URL``, dropped afterwards; SQLite: a temporary file), migrated, with a
published grid of N/5 building-group cells (4 households each), N workers on duty there (one
password hash computed once for all), gunicorn (``gunicorn.conf.py``: 2 × CPUs + 1 sync workers,
JSON access logs, rate limits off) on 127.0.0.1; the phones are asyncio + aiohttp tasks in this
process. Checks afterwards, in the database: every mutation logged exactly once
(``sync_mutations`` rows = N × 100 = distinct op_ids), every visit and case present, every photo
available; any HTTP error or non-``applied`` result is an error. During the end-of-shift phase
py-spy samples every gunicorn worker from outside (``--profiler py-spy``, the default); the
report attributes the samples to endpoints and, within the push, to our functions.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import hashlib
import io
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import shapely
import sqlalchemy as sa
from PIL import Image

from bench.sync_setup import uuid7  # op ids and visit ids as the app mints them

PASSWORD = "load test password"
HOUSEHOLDS_PER_CELL = 4
WORKERS_PER_CELL = 5
MUTATIONS = 100
PHOTOS = 2


# --- set-up ------------------------------------------------------------------------------


def _cell_box(i: int) -> Any:
    col, row = i % 100, i // 100
    lon, lat = 121.40 + col * 0.0004, 31.19 + row * 0.0004
    return shapely.box(lon, lat, lon + 0.0003, lat + 0.0003)


def seed(url: str, instance: Path, devices: int) -> list[dict[str, Any]]:
    """Migrate and fill the database; return per device: username, cell code, a point in it,
    and yesterday's device token (device_id, token) for the renewing morning."""
    import secrets

    from flask_migrate import upgrade

    from server import create_app
    from server.accounts.models import ApiToken, Device, User
    from server.accounts.operations import TOKEN_PREFIX, token_digest
    from server.accounts.passwords import hash_password
    from server.enums import CellLevel, DutyRole, GridStatus
    from server.extensions import db
    from server.grid.models import Cell, Duty, GridVersion
    from server.population.models import Household, Resident
    from sync.db import utcnow
    from sync.versions import next_version

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": "bench"})  # fmt: skip
    cells = max(1, devices // WORKERS_PER_CELL)
    plan = []
    with app.app_context():
        upgrade()
        session = db.session
        version = next_version(session)
        grid = GridVersion(name="load", status=GridStatus.PUBLISHED, published_at=utcnow())
        session.add(grid)
        boxes = [_cell_box(i) for i in range(cells)]
        everything = shapely.union_all(boxes).envelope

        def cell(code: str, level: CellLevel, parent: str | None, geom: Any) -> Cell:
            minx, miny, maxx, maxy = geom.bounds
            return Cell(grid_version=grid, code=code, name=code, level=level, parent_code=parent,
                        geometry_wkb=shapely.to_wkb(geom), min_lon=minx, min_lat=miny,
                        max_lon=maxx, max_lat=maxy, area_m2=1.0, version=version)  # fmt: skip

        session.add(cell("S", CellLevel.STREET, None, everything.buffer(0.001)))
        session.add(cell("R", CellLevel.RESIDENTIAL_AREA, "S", everything.buffer(0.0005)))
        session.add(cell("B", CellLevel.BLOCK, "R", everything))
        for i, box in enumerate(boxes):
            session.add(cell(f"G{i:04d}", CellLevel.BUILDING_GROUP, "B", box))
        session.flush()
        password_hash = hash_password(PASSWORD)
        users = [User(username=f"load{n:05d}", display_name=f"load {n}", role="worker",
                      password_hash=password_hash) for n in range(devices)]  # fmt: skip
        session.add_all(users)
        session.flush()
        start = dt.date.today() - dt.timedelta(days=1)
        for n, user in enumerate(users):
            code = f"G{n % cells:04d}"
            session.add(Duty(user_id=user.id, cell_code=code, role=DutyRole.GRID_WORKER,
                             starts_on=start))  # fmt: skip
            centre = boxes[n % cells].centroid
            # Yesterday's sign-in: a token 23 hours into its 24, in a chain begun 10 days ago.
            now = utcnow()
            device = Device(id=uuid.uuid4(), user_id=user.id, name="load", created_at=now)
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            session.add(device)
            session.add(ApiToken(device=device, token_sha256=token_digest(token),
                                 prefix=token[:10], created_at=now - dt.timedelta(hours=23),
                                 expires_at=now + dt.timedelta(hours=1),
                                 signed_in_at=now - dt.timedelta(days=10),
                                 session_epoch=user.session_epoch))  # fmt: skip
            plan.append({"username": user.username, "cell": code, "lon": centre.x,
                         "lat": centre.y, "device_id": str(device.id),
                         "token": token})  # fmt: skip
        for i in range(cells):
            for k in range(HOUSEHOLDS_PER_CELL):
                h = Household(address=f"G{i:04d} 室 {k}", road="新华路", building=str(i),
                              room=str(k), cell_code=f"G{i:04d}", version=version)  # fmt: skip
                session.add(h)
                session.flush()
                session.add(Resident(household_id=h.id, name=f"居民{k}", gender="F",
                                     version=version))  # fmt: skip
        session.commit()
        db.engine.dispose()
    return plan


def make_photos(n: int) -> list[bytes]:
    photos = []
    for i in range(n):
        image = Image.new("RGB", (320, 240), ((i * 37) % 256, (i * 11) % 256, (i * 5) % 256))
        image.putpixel((i % 320, (i // 320) % 240), (255, 255, 255))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        photos.append(buffer.getvalue())
    return photos


# --- the phones --------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    mutations_applied: int = 0
    late_starts: list[float] = field(default_factory=list)

    def add(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)


async def timed(stats: Stats, kind: str, call: Any) -> Any:
    started = time.perf_counter()
    async with call as response:
        body = await response.read()
        stats.add(kind, time.perf_counter() - started)
        return response.status, response.headers, body


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@dataclass
class Phone:
    """One device: who it is, what it holds after the morning, what it will send."""

    plan: dict[str, Any]
    photos: list[bytes]
    device_id: str = ""
    auth: dict[str, str] = field(default_factory=dict)
    households: list[str] = field(default_factory=list)
    cursor: str | None = None
    ready: bool = False


async def pull_all(http: aiohttp.ClientSession, base: str, phone: Phone, stats: Stats) -> bool:
    for _ in range(100):
        query = {"limit": "500", **({"cursor": phone.cursor} if phone.cursor else {})}
        status, _, body = await timed(stats, "pull", http.get(
            f"{base}/api/v1/sync/pull", params=query, headers=phone.auth))  # fmt: skip
        if status != 200:
            stats.errors.append(f"pull {status} {body[:200]!r}")
            return False
        page = json.loads(body)
        phone.households += [c["id"] for c in page["changes"] if c["table"] == "households"]
        phone.cursor = page["cursor"]
        if not page["has_more"]:
            return True
    stats.errors.append("pull did not finish in 100 pages")
    return False


async def morning(http: aiohttp.ClientSession, base: str, phone: Phone, stats: Stats,
                  renew: bool = False, pull: bool = True) -> None:  # fmt: skip
    """Sign in (Argon2id) — or renew yesterday's token (``renew``) — and pull the whole
    scope, as a phone does when the shift starts."""
    if renew:
        status, _, body = await timed(stats, "renew", http.post(
            f"{base}/api/v1/auth/token/renew", json={"token": phone.plan["token"]}))  # fmt: skip
    else:
        status, _, body = await timed(stats, "signin", http.post(
            f"{base}/api/v1/auth/token", json={"username": phone.plan["username"],
            "password": PASSWORD, "device_id": phone.device_id,
            "device_name": "load"}))  # fmt: skip
    if status != 201:
        stats.errors.append(f"{'renew' if renew else 'signin'} {status} {body[:200]!r}")
        return
    phone.auth = {"Authorization": f"Bearer {json.loads(body)['token']}"}
    phone.cursor, phone.households, phone.ready = None, [], False  # a fresh phone's pull
    if not pull:
        return
    if not await pull_all(http, base, phone, stats):
        return
    if not phone.households:
        stats.errors.append(f"no households in scope for {phone.plan['username']}")
        return
    phone.ready = True


def outbox(phone: Phone, hashes: list[str]) -> list[dict[str, Any]]:
    """What a day's patrol leaves in the outbox: 98 visits and 2 reports naming the photos."""
    now = dt.datetime.now(dt.UTC).isoformat()
    mutations = []
    for seq in range(1, MUTATIONS + 1):
        if seq > MUTATIONS - PHOTOS:
            name, args = "case.report", {
                "id": str(uuid.uuid4()), "title": "load report", "description": "楼道堆物",
                "address": "新华路", "priority": "normal", "lon": phone.plan["lon"],
                "lat": phone.plan["lat"], "accuracy_m": 8,
                "photos": [hashes[seq % PHOTOS]]}  # fmt: skip
        else:
            name, args = "visit.create", {
                "id": str(uuid7()), "visited_at": now, "situation": "ok",
                "household_id": phone.households[seq % len(phone.households)]}  # fmt: skip
        mutations.append({"seq": seq, "op_id": str(uuid7()), "name": name, "args": args,
                          "recorded_at_device": now})  # fmt: skip
    return mutations


async def shift_end(http: aiohttp.ClientSession, base: str, phone: Phone, batch: int,
                    stats: Stats, push_only: bool = False) -> None:  # fmt: skip
    """The PWA's sync: push the outbox, upload the photos, pull since the morning
    (``push_only``: the pushes alone; `uploads_and_pull` does the rest afterwards)."""
    if not phone.ready:
        return
    hashes = [hashlib.sha256(data).hexdigest() for data in phone.photos]
    mutations = outbox(phone, hashes)
    for start in range(0, MUTATIONS, batch):
        chunk = mutations[start : start + batch]
        status, _, body = await timed(stats, "push", http.post(
            f"{base}/api/v1/sync/push", headers=phone.auth, json={"device_id": phone.device_id,
            "schema_version": 1, "device_now": dt.datetime.now(dt.UTC).isoformat(),
            "mutations": chunk}))  # fmt: skip
        if status != 200:
            stats.errors.append(f"push {status} {body[:300]!r}")
            return
        results = json.loads(body)["results"]
        applied = [r for r in results if r["status"] == "applied"]
        stats.mutations_applied += len(applied)
        if len(applied) != len(chunk):
            stats.errors.append(
                f"push not applied: {[r for r in results if r['status'] != 'applied'][:2]}"
            )
    if not push_only:
        await uploads_and_pull(http, base, phone, stats)


async def uploads_and_pull(http: aiohttp.ClientSession, base: str, phone: Phone,
                           stats: Stats) -> None:  # fmt: skip
    """The rest of the PWA's sync after its pushes: upload the photos by tus, pull."""
    hashes = [hashlib.sha256(data).hexdigest() for data in phone.photos]
    for data, sha in zip(phone.photos, hashes, strict=True):
        tus = {**phone.auth, "Tus-Resumable": "1.0.0"}
        status, headers, body = await timed(stats, "upload", http.post(
            f"{base}/api/v1/uploads/", headers={**tus, "Upload-Length": str(len(data)),
            "Upload-Metadata": f"sha256 {_b64(sha)},mime {_b64('image/jpeg')}"}))  # fmt: skip
        if status != 201:
            stats.errors.append(f"tus create {status} {body[:200]!r}")
            continue
        if int(headers["Upload-Offset"]) == len(data):
            continue
        status, _, body = await timed(stats, "upload", http.patch(
            base + headers["Location"], data=data, headers={**tus, "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream"}))  # fmt: skip
        if status != 204:
            stats.errors.append(f"tus patch {status} {body[:200]!r}")
    await pull_all(http, base, phone, stats)


async def open_loop(http: aiohttp.ClientSession, phones: list[Phone], window: float, seed: int,
                    step: Any, stats: Stats, deadline: float) -> None:  # fmt: skip
    """Start each phone's `step` at a uniformly random moment in `window` (a Poisson process
    given the count), whether or not earlier phones are done."""
    rng = random.Random(seed)
    starts = sorted((rng.uniform(0, window), n) for n in range(len(phones)))
    began = time.perf_counter()
    tasks = []
    for at, n in starts:
        delay = at - (time.perf_counter() - began)
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            stats.late_starts.append(-delay)
        tasks.append(asyncio.create_task(step(http, phones[n], stats)))
    await finish(tasks, deadline, stats)


async def closed_loop(http: aiohttp.ClientSession, phones: list[Phone], concurrency: int,
                      steps: list[Any], stats: Stats, deadline: float) -> None:  # fmt: skip
    gate = asyncio.Semaphore(concurrency)

    async def one(phone: Phone) -> None:
        async with gate:
            for step in steps:
                await step(http, phone, stats)

    await finish([asyncio.create_task(one(p)) for p in phones], deadline, stats)


async def finish(tasks: list[Any], deadline: float, stats: Stats) -> None:
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, timeout=max(1.0, deadline - time.monotonic()))
    for task in pending:
        task.cancel()
        stats.errors.append("device did not finish within --max-seconds")
    for task in done:
        if not task.cancelled() and task.exception():
            stats.errors.append(f"client error: {task.exception()!r}")


# --- profiling the workers from outside ---------------------------------------------------


class WorkerProfile:
    """py-spy sampling gunicorn's master and workers (``--subprocesses``) while a phase runs."""

    def __init__(self, master_pid: int, out: Path, rate: int = 97) -> None:
        self.out = out
        self.command = [
            str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(master_pid),
            "--subprocesses", "--rate", str(rate), "--format", "raw", "--nonblocking",
            "--full-filenames",
            "--output", str(out),
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None
        self.log = out.with_suffix(".log")

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if not self.out.exists():
            raise RuntimeError(f"py-spy wrote no profile: {self.log.read_text()[-1000:]}")


_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
#: A sample is put under the first of these views it passes through.
_ENDPOINTS = {
    ("server/fieldsync/api.py", "push"): "push",
    ("server/fieldsync/api.py", "pull"): "pull",
    ("server/accounts/api.py", None): "sign-in",
    ("server/photos/", None): "upload (tus)",
}
_LAYERS = (
    ("psycopg", "database driver (executes; waits on PostgreSQL or SQLite's lock)"),
    ("sqlite3", "database driver (executes; waits on PostgreSQL or SQLite's lock)"),
    ("sqlalchemy", "SQLAlchemy"),
    ("marshmallow", "marshmallow / webargs"),
    ("webargs", "marshmallow / webargs"),
    ("flask_smorest", "Flask / Werkzeug"),
    ("werkzeug", "Flask / Werkzeug"),
    ("flask", "Flask / Werkzeug"),
    ("argon2", "Argon2id"),
    ("json", "JSON"),
    ("logging", "logging"),
    ("prometheus_client", "metrics"),
    ("gunicorn", "gunicorn"),
)


def _parse_raw(path: Path) -> list[tuple[list[tuple[str, str]], int]]:
    samples = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = []
        for text in stack.split(";"):
            match = _FRAME.match(text)
            if match:
                frames.append((match["func"], match["file"]))
        samples.append((frames, int(count)))
    return samples


def _ours(file: str) -> str | None:
    for top in ("server/", "sync/", "geo/"):
        at = file.find(top)
        if at >= 0 and "site-packages" not in file:
            return file[at:]
    return None


def _endpoint(frames: list[tuple[str, str]]) -> str:
    for func, file in frames:
        mine = _ours(file)
        if mine is None:
            continue
        for (prefix, name), label in _ENDPOINTS.items():
            if mine.startswith(prefix) and (name is None or name == func):
                return label
    return "other (gunicorn, framework, idle)"


#: SQLAlchemy's calls into the DB-API driver: a C driver (sqlite3, psycopg's C parts) shows
#: no Python frame of its own, so its time (executing, waiting for PostgreSQL or for SQLite's
#: write lock) is sampled here.
_DRIVER_CALLS = {"do_execute", "do_executemany", "do_execute_no_params", "do_commit",
                 "do_rollback", "do_begin", "do_release_savepoint", "do_savepoint"}  # fmt: skip


def _layer(frames: list[tuple[str, str]]) -> str:
    func, file = frames[-1]
    if func.rsplit(".", 1)[-1] in _DRIVER_CALLS and "sqlalchemy" in file:
        return "database driver (executes; waits on PostgreSQL or SQLite's lock)"
    if _ours(file):
        return "our code (server/, sync/)"
    for marker, label in _LAYERS:
        if f"/{marker}/" in file or f"/{marker}.py" in file or file.startswith(marker):
            return label
    return "Python and other libraries"


def summarise_profile(path: Path, top: int) -> list[str]:
    samples = _parse_raw(path)
    total = sum(count for _, count in samples)
    if not total:
        return ["py-spy recorded no samples"]
    by_endpoint: dict[str, int] = {}
    push_layers: dict[str, int] = {}
    push_functions: dict[str, int] = {}
    push_total = 0
    for frames, count in samples:
        endpoint = _endpoint(frames)
        by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + count
        if endpoint != "push" or not frames:
            continue
        push_total += count
        layer = _layer(frames)
        push_layers[layer] = push_layers.get(layer, 0) + count
        seen = set()
        for func, file in frames:
            mine = _ours(file)
            if mine and (mine, func) not in seen:
                seen.add((mine, func))
                key = f"{func} ({mine})"
                push_functions[key] = push_functions.get(key, 0) + count
    lines = [f"{total:,} samples of busy worker threads (py-spy, {path.name})", "by endpoint:"]
    for name, count in sorted(by_endpoint.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {100 * count / total:5.1f} %  {name}")
    if push_total:
        lines.append("inside the push, by where the sampled frame was (self time):")
        for name, count in sorted(push_layers.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {100 * count / push_total:5.1f} %  {name}")
        lines.append(f"inside the push, our functions by inclusive time (top {top}):")
        ranked = sorted(push_functions.items(), key=lambda kv: -kv[1])[:top]
        for name, count in ranked:
            lines.append(f"  {100 * count / push_total:5.1f} %  {name}")
    return lines


# --- checks, report ---------------------------------------------------------------------


def check_database(url: str, devices: int) -> dict[str, Any]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        q = lambda sql: conn.scalar(sa.text(sql))  # noqa: E731
        found = {
            "mutation rows": q("SELECT count(*) FROM sync_mutations"),
            "distinct op_ids": q("SELECT count(DISTINCT op_id) FROM sync_mutations"),
            "visits": q("SELECT count(*) FROM visits"),
            "reported cases": q("SELECT count(*) FROM cases"),
            "photos available": q("SELECT count(*) FROM photos WHERE status = 'available'"),
        }
    engine.dispose()
    expected = {
        "mutation rows": devices * MUTATIONS,
        "distinct op_ids": devices * MUTATIONS,
        "visits": devices * (MUTATIONS - PHOTOS),
        "reported cases": devices * PHOTOS,
        "photos available": devices * PHOTOS,
    }
    return {k: (found[k], expected[k]) for k in expected}


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a live process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def server_cpu(master_pid: int, database: str | None) -> tuple[float, float]:
    """CPU seconds used so far by gunicorn (master and workers) and by the PostgreSQL backends
    serving `database` (those connected now; the app's pooled connections live for the run).
    What bounds the knee on a small machine is this, per phone (docs/scaling.md)."""
    app = db = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _proc_stat(entry)
        if stat is None:
            continue
        parent, seconds = stat
        if int(entry) == master_pid or parent == master_pid:
            app += seconds
        elif database is not None:
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if command.startswith(b"postgres: ") and f" {database} ".encode() in command:
                db += seconds
    return app, db


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def report(label: str, stats: Stats, elapsed: float, cpu: float,
           server: tuple[float, float] | None = None, phones: int = 0) -> None:  # fmt: skip
    requests_total = sum(len(v) for v in stats.latencies.values())
    late = max(stats.late_starts, default=0.0)
    behind = f"; latest start {late * 1000:.0f} ms behind schedule" if late > 0.05 else ""
    print(f"  {label}: wall {elapsed:.1f} s; {requests_total:,} requests = "
          f"{requests_total / elapsed:.1f} req/s; {stats.mutations_applied / elapsed:.0f} "
          f"mutations/s applied; load generator CPU {cpu:.1f} s{behind}")  # fmt: skip
    if server is not None and phones:
        app, db = server
        per_phone = (app + db) / phones
        cpus = os.cpu_count() or 1
        print(f"    server CPU: app {app:.1f} s + database {db:.1f} s = {per_phone * 1000:.0f} "
              f"ms per phone; {cpus} CPUs fit at most {cpus / per_phone:.1f} phones/s "
              f"of this phase")  # fmt: skip
    for kind in ("signin", "renew", "pull", "upload", "push"):
        values = stats.latencies.get(kind, [])
        if values:
            p50, p95, p99 = (percentile(values, q) for q in (0.50, 0.95, 0.99))
            mean = statistics.fmean(values) * 1000
            top = max(values) * 1000
            print(f"    {kind:<7} n={len(values):>6,}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
                  f"  p99 {p99:7.1f} ms  mean {mean:7.1f} ms  max {top:7.0f} ms")  # fmt: skip


async def run_day(base: str, phones: list[Phone], args: Any, profile: WorkerProfile | None,
                  stats: dict[str, Stats], cpu_of_server: Any,
                  server_cpus: dict[str, tuple[float, float]],
                  ) -> dict[str, tuple[float, float]]:  # fmt: skip
    """The morning, then the end of the shift; returns (wall, client CPU) per phase and fills
    `server_cpus` with the server's CPU seconds (app, database) per phase."""

    def spent(since: tuple[float, float]) -> tuple[float, float]:
        app, db = cpu_of_server()
        return app - since[0], db - since[1]

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=args.request_timeout)
    deadline = time.monotonic() + args.max_seconds
    times: dict[str, tuple[float, float]] = {}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        first = lambda h, p, s: morning(h, base, p, s, args.morning == "renew")  # noqa: E731
        second = lambda h, p, s: shift_end(h, base, p, args.batch, s, args.push_only)  # noqa: E731
        if args.concurrency:
            if profile:
                profile.start()
            wall, cpu = time.perf_counter(), time.process_time()
            await closed_loop(http, phones, args.concurrency, [first, second],
                              stats["day"], deadline)  # fmt: skip
            times["day"] = (time.perf_counter() - wall, time.process_time() - cpu)
        else:
            # Warm every worker (imports, connections) before the first timed phase.
            bogus = {"Authorization": "Bearer wg_warm-up"}
            await asyncio.gather(*(timed(Stats(), "warm", http.get(
                f"{base}/api/v1/auth/me", headers=bogus)) for _ in range(40)))  # fmt: skip
            mornings = {
                "password": [("morning", False)],
                "renew": [("morning", True)],
                "both": [("morning (renew)", True), ("morning (password)", False)],
            }
            for phase, renew in mornings[args.morning]:
                step = lambda h, p, s, r=renew: morning(h, base, p, s, r, not args.no_pull)  # noqa: E731
                wall, cpu, used = time.perf_counter(), time.process_time(), cpu_of_server()
                await open_loop(http, phones, args.window, 1, step, stats[phase], deadline)
                times[phase] = (time.perf_counter() - wall, time.process_time() - cpu)
                server_cpus[phase] = spent(used)
            if args.morning_only:
                return times
            if profile:
                profile.start()
            wall, cpu, used = time.perf_counter(), time.process_time(), cpu_of_server()
            await open_loop(http, phones, args.window, 2, second, stats["shift end"], deadline)
            times["shift end"] = (time.perf_counter() - wall, time.process_time() - cpu)
            server_cpus["shift end"] = spent(used)
            if args.push_only:  # untimed: the photos and the pull, so the checks hold
                gate = asyncio.Semaphore(8)

                async def rest(phone: Phone) -> None:
                    async with gate:
                        if phone.ready:
                            await uploads_and_pull(http, base, phone, Stats())

                await asyncio.gather(*(rest(phone) for phone in phones))
        if profile:
            profile.stop()
    return times


def run(backend: str, args: Any) -> bool:
    import tests.live
    from tests.live import LiveServer

    # On a loaded machine the first /healthz of each worker can take seconds.
    tests.live._START_TIMEOUT_S = max(tests.live._START_TIMEOUT_S, 180)

    folder = Path(tempfile.mkdtemp(prefix=f"wangge-load-{backend}-"))
    admin = None
    if backend == "postgres":
        admin_url = os.environ.get("WANGGE_TEST_POSTGRES_URL",
                                   "postgresql+psycopg://postgres@127.0.0.1:5432/test")  # fmt: skip
        name = f"wangge_load_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{folder / 'load.db'}"
    try:
        t = time.perf_counter()
        plan = seed(url, folder / "seed", args.devices)
        photos = make_photos(PHOTOS * args.devices)
        phones = [Phone(p, photos[PHOTOS * n : PHOTOS * n + PHOTOS], device_id=p["device_id"])
                  for n, p in enumerate(plan)]  # fmt: skip
        workers = min(2 * (os.cpu_count() or 1) + 1, 12)
        server = LiveServer(url, folder / "live", workers=workers, RATELIMIT_ENABLED="false")
        server.start()
        assert server.process is not None
        profile = (WorkerProfile(server.process.pid, folder / "py-spy.txt")
                   if args.profiler == "py-spy" else None)  # fmt: skip
        mode = (f"closed loop, {args.concurrency} phones at once" if args.concurrency else
                f"open loop, arrivals at random within {args.window:.0f} s; morning: "
                f"{args.morning}")  # fmt: skip
        print(f"\n== {backend}: {args.devices} devices, {mode}; {MUTATIONS} mutations in "
              f"pushes of {args.batch}, {PHOTOS} photos each; gunicorn {workers} sync workers "
              f"on {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} "
              f"(set-up {time.perf_counter() - t:.0f} s)")  # fmt: skip
        mornings = (["morning (renew)", "morning (password)"] if args.morning == "both"
                    else ["morning"])  # fmt: skip
        phases = ["day"] if args.concurrency else mornings + (
            [] if args.morning_only else ["shift end"])  # fmt: skip
        stats = {phase: Stats() for phase in phases}
        master = server.process.pid
        database = name if backend == "postgres" else None
        server_cpus: dict[str, tuple[float, float]] = {}
        used = lambda: server_cpu(master, database)  # noqa: E731
        try:
            times = asyncio.run(run_day(server.url, phones, args, profile, stats, used,
                                        server_cpus))  # fmt: skip
        finally:
            server.stop()
        for phase in phases:
            report(phase, stats[phase], *times.get(phase, (float("nan"), 0.0)),
                   server_cpus.get(phase), args.devices)  # fmt: skip
        if args.morning_only:
            errors = [e for s in stats.values() for e in s.errors]
            print(f"  errors: {len(errors)}" + (f" e.g. {errors[:3]}" if errors else ""))
            return not errors
        checks = check_database(url, args.devices)
        exact = all(found == expected for found, expected in checks.values())
        for label, (found, expected) in checks.items():
            print(f"  {label:<17} {found:>8,} (expected {expected:,})")
        errors = [e for s in stats.values() for e in s.errors]
        pushes = [v for s in stats.values() for v in s.latencies.get("push", [])]
        push_p95 = percentile(pushes, 0.95)
        print(f"  errors: {len(errors)}" + (f" e.g. {errors[:3]}" if errors else ""))
        print(f"  goal: exactly once {'OK' if exact else 'FAILED'}; zero errors "
              f"{'OK' if not errors else 'FAILED'}; push p95 {push_p95:.0f} ms "
              f"{'<=' if push_p95 <= 500 else '>'} 500 ms")  # fmt: skip
        if profile:
            print("  where the workers' time went (py-spy, the phase above that was profiled):")
            for line in summarise_profile(profile.out, args.profile_lines):
                print("   ", line)
        elif args.profiler == "pyinstrument":
            text = profile_push(url, folder / "profile", plan[0], args.batch)
            print("  profile of the push path (pyinstrument, in-process, 10 pushes):")
            for line in text.splitlines()[: args.profile_lines]:
                print("   ", line)
        return exact and not errors
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def profile_push(url: str, instance: Path, plan: dict[str, Any], batch: int) -> str:
    """pyinstrument over 10 in-process pushes by one more device (where py-spy cannot attach)."""
    from pyinstrument import Profiler

    from server import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})  # fmt: skip
    client = app.test_client()
    device_id = str(uuid.uuid4())
    token = client.post("/api/v1/auth/token", json={"username": plan["username"],
        "password": PASSWORD, "device_id": device_id, "device_name": "profile"}).get_json()["token"]  # fmt: skip # noqa: E501
    auth = {"Authorization": f"Bearer {token}"}
    page = client.get("/api/v1/sync/pull?limit=500", headers=auth).get_json()
    household = next(c["id"] for c in page["changes"] if c["table"] == "households")
    now = dt.datetime.now(dt.UTC).isoformat()
    seq = 0
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(10):
        mutations = []
        for _ in range(batch):
            seq += 1
            mutations.append({"seq": seq, "op_id": str(uuid7()), "name": "visit.create",
                              "recorded_at_device": now, "args": {"id": str(uuid7()),
                              "household_id": household, "visited_at": now}})  # fmt: skip
        answer = client.post("/api/v1/sync/push", headers=auth, json={"device_id": device_id,
            "schema_version": 1, "device_now": now, "mutations": mutations})  # fmt: skip
        assert answer.status_code == 200
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    with app.app_context():
        from server.extensions import db

        db.engine.dispose()
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 devices, 60 s windows")
    parser.add_argument("--devices", type=int)
    parser.add_argument("--window", type=float, help="seconds over which phones arrive (open loop)")
    parser.add_argument("--concurrency", type=int, help="closed loop: this many phones at once")
    parser.add_argument("--batch", type=int, default=100, help="mutations per push (the app's)")
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--request-timeout", type=float, default=120)
    parser.add_argument("--profiler", choices=["py-spy", "pyinstrument", "none"], default="py-spy")
    parser.add_argument("--profile-lines", type=int, default=20)
    parser.add_argument("--morning", choices=["password", "renew", "both"], default="password",
                        help="phones sign in with the password, renew yesterday's token, or "
                        "both mornings one after the other")  # fmt: skip
    parser.add_argument("--morning-only", action="store_true", help="stop after the morning")
    parser.add_argument("--push-only", action="store_true",
                        help="time the shift end's pushes alone (photos and pull after, untimed):"
                        " the write path and its version clock without the rest")  # fmt: skip
    parser.add_argument("--no-pull", action="store_true",
                        help="the morning is the sign-in (or renewal) alone; implies "
                        "--morning-only")  # fmt: skip
    args = parser.parse_args()
    args.devices = args.devices or (100 if args.quick else 1000)
    args.morning_only = args.morning_only or args.no_pull
    args.window = args.window or (60.0 if args.quick else 300.0)
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    ok = all([run(b, args) for b in backends])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
