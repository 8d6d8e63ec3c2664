"""Load: N phones sign in, pull their scope, push 100 mutations and upload 2 photos each.

Run ``python bench/bench_load.py`` (1,000 devices, 100 at a time, PostgreSQL then SQLite) or
``--quick`` (50 devices). Options: ``--devices``, ``--concurrency`` (phones active at once),
``--batch`` (mutations per push), ``--backend postgres|sqlite|both``, ``--max-seconds``.

Set-up (the bench's own): a fresh database (PostgreSQL: a new database next to
``WANGGE_TEST_POSTGRES_URL``, dropped afterwards; SQLite: a temporary file), migrated, with a
published grid of N/5 building-group cells (4 households each), N workers on duty there
(one password hash computed once for all), and gunicorn (``gunicorn.conf.py``, 2 × CPUs + 1
sync workers, rate limits off) on 127.0.0.1. Each phone (asyncio + aiohttp, loopback only):
  1. ``POST /api/v1/auth/token`` (Argon2id verify);
  2. pulls its scope page by page;
  3. uploads 2 real JPEGs by tus (POST + one PATCH each);
  4. pushes 98 ``visit.create`` and 2 ``case.report`` (naming the photos) in batches.
Checks afterwards, in the database: every mutation logged exactly once (``sync_mutations``
rows = N × 100 = distinct op_ids), every visit and case present, every photo available; any
HTTP error or non-``applied`` result is an error. Then a pyinstrument profile of the push path
in-process (same database, 10 pushes of one batch) shows where a push spends its time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import hashlib
import io
import os
import statistics
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
    """Migrate and fill the database; return per device: username, cell code, a point in it."""
    from flask_migrate import upgrade

    from server import create_app
    from server.accounts.models import User
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
            plan.append({"username": user.username, "cell": code, "lon": centre.x,
                         "lat": centre.y})  # fmt: skip
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


async def phone(http: aiohttp.ClientSession, base: str, plan: dict[str, Any],
                photos: list[bytes], batch: int, stats: Stats) -> None:  # fmt: skip
    import json

    device_id = str(uuid.uuid4())
    status, _, body = await timed(stats, "signin", http.post(f"{base}/api/v1/auth/token", json={
        "username": plan["username"], "password": PASSWORD, "device_id": device_id,
        "device_name": "load"}))  # fmt: skip
    if status != 201:
        stats.errors.append(f"signin {status} {body[:200]!r}")
        return
    auth = {"Authorization": f"Bearer {json.loads(body)['token']}"}
    households: list[str] = []
    cursor = None
    for _ in range(100):
        query = {"limit": "500", **({"cursor": cursor} if cursor else {})}
        status, _, body = await timed(stats, "pull", http.get(
            f"{base}/api/v1/sync/pull", params=query, headers=auth))  # fmt: skip
        if status != 200:
            stats.errors.append(f"pull {status} {body[:200]!r}")
            return
        page = json.loads(body)
        households += [c["id"] for c in page["changes"] if c["table"] == "households"]
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    if not households:
        stats.errors.append(f"no households in scope for {plan['username']}")
        return
    hashes = []
    for data in photos:
        sha = hashlib.sha256(data).hexdigest()
        hashes.append(sha)
        tus = {**auth, "Tus-Resumable": "1.0.0"}
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
    now = dt.datetime.now(dt.UTC).isoformat()
    mutations = []
    for seq in range(1, MUTATIONS + 1):
        if seq > MUTATIONS - PHOTOS:
            name, args = "case.report", {
                "id": str(uuid.uuid4()), "title": "load report", "description": "楼道堆物",
                "address": "新华路", "priority": "normal", "lon": plan["lon"],
                "lat": plan["lat"], "accuracy_m": 8, "photos": [hashes[seq % PHOTOS]]}  # fmt: skip
        else:
            name, args = "visit.create", {
                "id": str(uuid.uuid4()), "household_id": households[seq % len(households)],
                "visited_at": now, "situation": "ok"}  # fmt: skip
        mutations.append({"seq": seq, "op_id": str(uuid.uuid4()), "name": name, "args": args,
                          "recorded_at_device": now})  # fmt: skip
    for start in range(0, MUTATIONS, batch):
        chunk = mutations[start : start + batch]
        status, _, body = await timed(stats, "push", http.post(
            f"{base}/api/v1/sync/push", headers=auth, json={"device_id": device_id,
            "schema_version": 1, "device_now": now, "mutations": chunk}))  # fmt: skip
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


async def drive(base: str, plan: list[dict[str, Any]], photos: list[bytes], args: Any,
                stats: Stats) -> float:  # fmt: skip
    gate = asyncio.Semaphore(args.concurrency)
    connector = aiohttp.TCPConnector(limit=args.concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def one(n: int, device: dict[str, Any]) -> None:
            async with gate:
                mine = photos[PHOTOS * n : PHOTOS * n + PHOTOS]
                await phone(http, base, device, mine, args.batch, stats)

        started = time.perf_counter()
        tasks = [asyncio.create_task(one(n, d)) for n, d in enumerate(plan)]
        done, pending = await asyncio.wait(tasks, timeout=args.max_seconds)
        for task in pending:
            task.cancel()
            stats.errors.append("device did not finish within --max-seconds")
        for task in done:
            if task.exception():
                stats.errors.append(f"client error: {task.exception()!r}")
        return time.perf_counter() - started


# --- checks, profile, report --------------------------------------------------------------


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


def profile_push(url: str, instance: Path, plan: dict[str, Any], batch: int) -> str:
    """pyinstrument over 10 in-process pushes of one batch each by one more device."""
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
            mutations.append({"seq": seq, "op_id": str(uuid.uuid4()), "name": "visit.create",
                              "recorded_at_device": now, "args": {"id": str(uuid.uuid4()),
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def run(backend: str, args: Any) -> bool:
    from tests.live import LiveServer

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
        plan = seed(url, folder / "seed", args.devices + 1)
        profile_device, plan = plan[-1], plan[:-1]
        photos = make_photos(PHOTOS * args.devices)
        workers = min(2 * (os.cpu_count() or 1) + 1, 12)
        server = LiveServer(url, folder / "live", workers=workers, RATELIMIT_ENABLED="false")
        server.env["GUNICORN_ACCESSLOG"] = ""
        server.start()
        print(f"\n== {backend}: {args.devices} devices, {args.concurrency} at once, "
              f"{MUTATIONS} mutations in pushes of {args.batch}, {PHOTOS} photos each; "
              f"gunicorn {workers} sync workers on {os.cpu_count()} CPUs "
              f"(set-up {time.perf_counter() - t:.0f} s)")  # fmt: skip
        stats = Stats()
        try:
            elapsed = asyncio.run(drive(server.url, plan, photos, args, stats))
        finally:
            server.stop()
        requests_total = sum(len(v) for v in stats.latencies.values())
        print(f"  wall {elapsed:.1f} s; {requests_total:,} requests = "
              f"{requests_total / elapsed:.0f} req/s; "
              f"{stats.mutations_applied / elapsed:.0f} mutations/s applied")  # fmt: skip
        for kind in ("signin", "pull", "upload", "push"):
            values = stats.latencies.get(kind, [])
            if values:
                p50, p95, p99 = (percentile(values, q) for q in (0.50, 0.95, 0.99))
                mean = statistics.fmean(values) * 1000
                print(f"  {kind:<7} n={len(values):>6,}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
                      f"  p99 {p99:7.1f} ms  mean {mean:7.1f} ms")  # fmt: skip
        checks = check_database(url, args.devices)
        exact = all(found == expected for found, expected in checks.values())
        for label, (found, expected) in checks.items():
            print(f"  {label:<17} {found:>8,} (expected {expected:,})")
        push_p95 = percentile(stats.latencies.get("push", []), 0.95)
        print(
            f"  errors: {len(stats.errors)}" + (f" e.g. {stats.errors[:3]}" if stats.errors else "")
        )
        print(f"  goal: exactly once {'OK' if exact else 'FAILED'}; zero errors "
              f"{'OK' if not stats.errors else 'FAILED'}; push p95 {push_p95:.0f} ms "
              f"{'<=' if push_p95 <= 500 else '>'} 500 ms")  # fmt: skip
        if args.profile:
            text = profile_push(url, folder / "profile", profile_device, args.batch)
            print("  profile of the push path (pyinstrument, in-process, 10 pushes):")
            for line in text.splitlines()[: args.profile_lines]:
                print("   ", line)
        return exact and not stats.errors
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--devices", type=int)
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--profile-lines", type=int, default=45)
    args = parser.parse_args()
    args.devices = args.devices or (50 if args.quick else 1000)
    args.concurrency = args.concurrency or min(args.devices, 50 if args.quick else 100)
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    ok = all([run(b, args) for b in backends])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
