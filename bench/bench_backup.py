"""Benchmark `flask backup` and `flask restore` for a simulated district, next to plain copies.

Run ``python bench/bench_backup.py`` (200,000 cases, 2 GiB of photos) or ``--quick``
(20,000 cases, 100 MiB). Builds a migrated SQLite file with the cases (and one timeline event
each) and a disk photo store of random "photos" (~200 KiB each, stored under their SHA-256
like real ones, with a ~16 KiB thumbnail each), then measures in the same run:
  - baseline: ``sqlite3 db ".backup copy"`` plus ``shutil.copytree`` of the photo store
    (no hashing, no manifest), and the same copy back for restore;
  - ours: ``backup`` (online backup API, every file read once to copy and hash, manifest),
    ``restore`` (verify every hash, copy the database, copy and re-hash every photo, check
    revision and row counts).

With photos in an S3-compatible store (``--s3-objects N``, default 150 photos + thumbnails;
0 skips it) a moto S3 server is started as its own process and, in the same run, measured:
  - baseline: a plain boto3 loop (list, ``get_object``, write) of the same objects, and a
    plain ``put_object`` loop back into a new bucket;
  - ours: ``backup`` of the photos with 1 and with 8 workers (hashed, manifest), ``backup
    --since`` the previous one (every blob linked), ``restore`` into a new bucket.
moto is slow and shares the machine's CPUs with the client, so absolute S3 figures are far
below a real store's; the ratio to the plain loop is the figure to read.

20 GB of photos is extrapolated linearly from the measured photo throughput (photos are
read and written sequentially; the per-file cost is included because the simulated files
have the real size). Files just written sit in the page cache, so both sides read from
memory: on a cold disk both are bounded by the disk instead, the ratio stays.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from flask_migrate import upgrade

from server import create_app
from server.cases.models import Case, CaseEvent
from server.extensions import db
from server.ops import backup as backups
from server.photos.operations import photo_key, thumb_key
from sync.blobs import BlobStore, make_blob_store

PHOTO_BYTES = 200 * 1024
THUMB_BYTES = 16 * 1024
TARGET_BYTES = 20 * 10**9


def build(folder: Path, cases: int, photo_bytes_total: int) -> backups.Target:
    url = f"sqlite:///{folder / 'src' / 'wangge.db'}"
    (folder / "src").mkdir(parents=True)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(folder / "src"), "SECRET_KEY": "b"}
    )
    rng = random.Random(1)
    with app.app_context():
        upgrade()
        for start in range(0, cases, 10_000):
            rows = []
            events = []
            for i in range(start, min(start + 10_000, cases)):
                case_id = uuid.uuid4()
                rows.append(
                    {
                        "id": case_id,
                        "number": f"XH-B-{i:07d}",
                        "channel": "hotline",
                        "status": rng.choice(["reported", "dispatched", "handling", "closed"]),
                        "title": f"模拟案件 {i}",
                        "description": "楼道堆物，影响通行，请尽快处理。" * 4,
                        "address": f"新华路{i % 700}弄{i % 40}号",
                        "lon": 121.42 + rng.random() / 100,
                        "lat": 31.20 + rng.random() / 100,
                        "placement": "in",
                        "cell_code": f"XH-{i % 100:03d}",
                        "version": i + 1,
                        "field_versions": {},
                    }
                )
                events.append({"case_id": case_id, "seq": 1, "kind": "reported", "version": i + 1})
            db.session.execute(sa.insert(Case), rows)
            db.session.execute(sa.insert(CaseEvent), events)
            db.session.commit()
        db.engine.dispose()
    blobs = folder / "src" / "photos" / "blobs"
    for n in range(max(1, photo_bytes_total // PHOTO_BYTES)):
        data = rng.randbytes(PHOTO_BYTES)
        sha = hashlib.sha256(data).hexdigest()
        for key, payload in (
            (f"photos/{sha[:2]}/{sha}", data),
            (f"thumbs/{sha[:2]}/{sha}.jpg", data[:THUMB_BYTES]),
        ):
            path = blobs / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(payload)
        del n
    return backups.Target(url, folder / "src" / "photos")


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def s3_case(folder: Path, database_url: str, photos: int) -> None:
    """Backup and restore with photos in S3 (moto), next to plain boto3 loops; prints lines."""
    import boto3

    server, endpoint = start_moto()
    settings = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "bench",
        "aws_secret_access_key": "bench",
    }
    client = boto3.client("s3", **settings)

    def bucket(name: str) -> BlobStore:
        client.create_bucket(Bucket=name)
        return make_blob_store("s3", bucket=name, prefix="wangge", **settings)

    try:
        store = bucket("bench-src")
        rng = random.Random(2)
        for _ in range(photos):
            data = rng.randbytes(PHOTO_BYTES)
            sha = hashlib.sha256(data).hexdigest()
            store.put(photo_key(sha), data)
            store.put(thumb_key(sha), data[:THUMB_BYTES])
        size = photos * (PHOTO_BYTES + THUMB_BYTES)
        print(f"S3 (moto server, loopback): {2 * photos} objects, {size / 2**20:.0f} MiB")

        def plain_download(out: Path) -> None:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket="bench-src"):
                for item in page.get("Contents", []):
                    path = out / item["Key"]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    body = client.get_object(Bucket="bench-src", Key=item["Key"])["Body"]
                    path.write_bytes(body.read())

        def plain_upload(source: Path) -> None:
            client.create_bucket(Bucket="bench-plain")
            for path in sorted(p for p in source.rglob("*") if p.is_file()):
                key = path.relative_to(source).as_posix()
                client.put_object(Bucket="bench-plain", Key=key, Body=path.read_bytes())

        source = backups.Target(database_url, None, store)
        db_part = timed(
            lambda: backups.backup(backups.Target(database_url, None), folder / "s3-db")
        )
        rows = [
            ("baseline boto3 get loop", timed(lambda: plain_download(folder / "s3-plain")), 0.0),
            (
                "flask backup, 1 worker",
                timed(lambda: backups.backup(source, folder / "s3-b1", workers=1)),
                db_part,
            ),
            (
                "flask backup, 8 workers",
                timed(lambda: backups.backup(source, folder / "s3-b8", workers=8)),
                db_part,
            ),
            (
                "flask backup --since (linked)",
                timed(lambda: backups.backup(source, folder / "s3-inc", since=folder / "s3-b8")),
                db_part,
            ),
            ("baseline boto3 put loop", timed(lambda: plain_upload(folder / "s3-plain")), 0.0),
        ]
        target = backups.Target(
            f"sqlite:///{folder / 's3-restored' / 'wangge.db'}", None, bucket("bench-restored")
        )
        db_restore = timed(
            lambda: backups.restore(
                folder / "s3-db",
                backups.Target(f"sqlite:///{folder / 's3-dbr' / 'wangge.db'}", None),
            )
        )
        restore_s = timed(lambda: backups.restore(folder / "s3-b8", target, workers=8))
        rows.append(("flask restore, 8 workers", restore_s, db_restore))
        for label, total, db_s in rows:
            photo_s = max(total - db_s, 1e-9)
            print(
                f"  {label:<30} {total:7.2f} s   photos {photo_s:6.2f} s"
                f"  ({size / 2**20 / photo_s:5.1f} MiB/s, {2 * photos / photo_s:6.0f} objects/s)"
            )
        print(f"  (database part, subtracted: backup {db_part:.2f} s, restore {db_restore:.2f} s)")
    finally:
        server.terminate()
        server.wait(timeout=10)


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    """moto's S3 server in its own process (in ours it would share the GIL with the client)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as conn:
            if conn.connect_ex(("127.0.0.1", port)) == 0:
                return server, f"http://127.0.0.1:{port}"
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("moto_server did not start")


def disk_case(folder: Path, source: backups.Target, db_path: Path, photo_size: int) -> None:
    """Backup and restore with photos on disk, next to sqlite3 .backup and cp; prints lines."""
    assert source.photo_dir is not None
    base = folder / "baseline"
    base.mkdir()
    sqlite_backup = ["sqlite3", str(db_path), f".backup {base / 'wangge.db'}"]
    base_db = timed(lambda: subprocess.run(sqlite_backup, check=True))
    base_photos = timed(lambda: shutil.copytree(source.photo_dir, base / "photos"))
    restore_base = folder / "baseline-restore"
    base_restore = timed(
        lambda: (
            shutil.copytree(base / "photos", restore_base / "photos"),
            shutil.copyfile(base / "wangge.db", restore_base / "wangge.db"),
        )
    )

    ours = folder / "backup"
    manifest: dict = {}
    ours_backup = timed(lambda: manifest.update(backups.backup(source, ours)))
    target = backups.Target(
        f"sqlite:///{folder / 'restored' / 'wangge.db'}", folder / "restored" / "photos"
    )
    ours_restore = timed(lambda: backups.restore(ours, target))

    # Split our backup: the database part, measured alone once more.
    db_only = timed(
        lambda: backups.backup(backups.Target(source.database_url, None), folder / "dbonly")
    )
    scale = TARGET_BYTES / photo_size

    def line(label: str, total: float, db_part: float) -> None:
        photos = max(total - db_part, 0.0)
        rate = photo_size / 2**20 / max(photos, 1e-9)
        print(
            f"  {label:<28} {total:7.2f} s   ({rate:6.0f} MiB/s photos)"
            f"   20 GB extrapolated: {db_part + photos * scale:7.0f} s"
        )

    print(f"  (photos part scaled x{scale:.1f} to 20 GB; database part as measured)")
    line("baseline sqlite3 .backup+cp", base_db + base_photos, base_db)
    line("baseline restore (cp)", base_restore, 0.0)
    line("flask backup (hash+manifest)", ours_backup, db_only)
    line("flask restore (verify+copy)", ours_restore, 0.0)
    print(f"  database alone: sqlite3 .backup {base_db:.2f} s, backup API + counts {db_only:.2f} s")
    print(f"  manifest: {len(manifest['files']):,} files, {manifest['bytes'] / 2**20:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--s3-objects", type=int, default=150, help="photos in S3; 0 skips")
    parser.add_argument("--s3-only", action="store_true", help="skip the disk store part")
    args = parser.parse_args()
    cases = 20_000 if args.quick else 200_000
    photo_total = (100 if args.quick else 2048) * 1024 * 1024
    if args.s3_only:
        photo_total = PHOTO_BYTES
    folder = Path(tempfile.mkdtemp(prefix="wangge-bench-backup-"))
    try:
        t = time.perf_counter()
        source = build(folder, cases, photo_total)
        db_path = Path(sa.make_url(source.database_url).database or "")
        db_size = db_path.stat().st_size
        photo_files = sum(1 for p in (source.photo_dir or folder).rglob("*") if p.is_file())
        photo_size = sum(
            p.stat().st_size for p in (source.photo_dir or folder).rglob("*") if p.is_file()
        )
        print(
            f"district: {cases:,} cases + {cases:,} events, db {db_size / 2**20:.0f} MiB; "
            f"{photo_files:,} photo files, {photo_size / 2**20:.0f} MiB "
            f"(built in {time.perf_counter() - t:.0f} s)"
        )

        if not args.s3_only:
            disk_case(folder, source, db_path, photo_size)
        if args.s3_objects:
            s3_case(folder, source.database_url, args.s3_objects)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
