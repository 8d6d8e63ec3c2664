"""Online backups that restore: the database and the photo store, with a manifest of hashes.

Layout of a backup folder:

    manifest.json             files (path, size, sha256), db revision, rows per table, times
    db/wangge.db              SQLite: a consistent copy made with SQLite's online backup API
    db/wangge.dump            PostgreSQL: `pg_dump -Fc` of the same snapshot the counts saw
    photos/blobs/photos/…     every stored photo and thumbnail, by hash (disk store)

Order matters: the database is copied first, photos second. Photo files are immutable and
written before the row that names them commits, so every photo the database copy names is on
disk by the time the photo store is walked (later photos may come along too; harmless).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

MANIFEST = "manifest.json"
FORMAT = 1
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class Target:
    """Where the data of one instance lives: its database URL and its disk photo root."""

    database_url: str
    photo_dir: Path | None  # None: photos are in an object store (not part of this backup)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _copy_hashing(source: Path, dest: Path) -> tuple[int, str]:
    """Copy `source` to `dest` and return its size and SHA-256, reading it once.

    Not fsynced here: callers sync once after the whole batch (`_sync_to_disk`).
    """
    digest = hashlib.sha256()
    size = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, dest.open("wb") as out:
        while block := src.read(_CHUNK):
            digest.update(block)
            out.write(block)
            size += len(block)
    return size, digest.hexdigest()


def _sync_to_disk() -> None:
    """One sync for the whole batch of copies (an fsync per small file costs ~10x the copy)."""
    os.sync()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _table_counts(conn: sa.Connection) -> dict[str, int]:
    names = sorted(n for n in sa.inspect(conn).get_table_names() if n != "alembic_version")
    return {n: int(conn.scalar(sa.text(f'SELECT count(*) FROM "{n}"')) or 0) for n in names}


def _revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.scalar(sa.text("SELECT version_num FROM alembic_version"))


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _libpq_url(url: sa.URL) -> str:
    """`postgresql+psycopg://…` → `postgresql://…` for pg_dump and pg_restore."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


# --- backup ------------------------------------------------------------------------------


def _backup_sqlite(url: sa.URL, dest: Path) -> dict[str, Any]:
    # One step (pages=-1): a single read transaction, i.e. one snapshot. In WAL mode writers
    # go on meanwhile; a stepwise backup would restart whenever they write.
    source = sqlite3.connect(_sqlite_path(url))
    target = sqlite3.connect(dest)
    try:
        source.backup(target, pages=-1)
    finally:
        target.close()
        source.close()
    engine = sa.create_engine(f"sqlite:///{dest}")
    try:
        with engine.connect() as conn:
            return {"revision": _revision(conn), "counts": _table_counts(conn)}
    finally:
        engine.dispose()


def _backup_postgres(url: sa.URL, dest: Path) -> dict[str, Any]:
    # Counts and dump see the same snapshot: a REPEATABLE READ transaction exports it and
    # stays open while pg_dump runs with --snapshot.
    engine = sa.create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            snapshot = conn.scalar(sa.text("SELECT pg_export_snapshot()"))
            info = {"revision": _revision(conn), "counts": _table_counts(conn)}
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={dest}",
                    f"--dbname={_libpq_url(url)}",
                ]
            )
            conn.rollback()
    finally:
        engine.dispose()
    return info


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _photo_files(root: Path) -> Iterator[Path]:
    """Stored blobs (photos and thumbnails), sorted; never the staging area of open uploads."""
    blobs = root / "blobs"
    if blobs.is_dir():
        for path in sorted(blobs.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path


def backup(source: Target, dest: Path) -> dict[str, Any]:
    """Back up `source` into the empty or new folder `dest`; return the manifest written there.

    Raises BackupError if `dest` is not empty or the database cannot be copied.
    """
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    started = _now()
    url = sa.make_url(source.database_url)
    (dest / "db").mkdir()
    if url.get_backend_name() == "sqlite":
        db_file = Path("db/wangge.db")
        info = _backup_sqlite(url, dest / db_file)
    elif url.get_backend_name() == "postgresql":
        db_file = Path("db/wangge.dump")
        info = _backup_postgres(url, dest / db_file)
    else:
        raise BackupError(f"no backup for {url.get_backend_name()}")
    files = [
        {
            "path": str(db_file),
            "size": (dest / db_file).stat().st_size,
            "sha256": file_sha256(dest / db_file),
        }
    ]
    if source.photo_dir is not None:
        for path in _photo_files(source.photo_dir):
            relative = Path("photos") / path.relative_to(source.photo_dir)
            size, sha = _copy_hashing(path, dest / relative)
            files.append({"path": str(relative), "size": size, "sha256": sha})
    _sync_to_disk()
    manifest = {
        "format": FORMAT,
        "started_at": started,
        "finished_at": _now(),
        "database": {"dialect": url.get_backend_name(), "file": str(db_file), **info},
        "photos": {
            "store": "disk" if source.photo_dir else "external",
            "files": sum(1 for f in files if f["path"].startswith("photos/")),
        },
        "files": files,
        "bytes": sum(int(f["size"]) for f in files),
    }
    tmp = dest / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, dest / MANIFEST)  # the manifest appears last: its presence means complete
    return manifest


# --- restore -----------------------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} has no {MANIFEST}: not a (complete) backup")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def verify(source: Path, manifest: dict[str, Any]) -> None:
    """Check every file's size and SHA-256 against the manifest; BackupError on the first bad."""
    for entry in manifest["files"]:
        path = source / entry["path"]
        if not path.is_file():
            raise BackupError(f"missing from the backup: {entry['path']}")
        if path.stat().st_size != entry["size"] or file_sha256(path) != entry["sha256"]:
            raise BackupError(f"damaged in the backup: {entry['path']}")


def target_is_empty(target: Target) -> bool:
    """No table with a row in the target database, and no stored photo in its photo store."""
    url = sa.make_url(target.database_url)
    if url.get_backend_name() != "sqlite" or _sqlite_path(url).exists():
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                counts = _table_counts(conn)
        finally:
            engine.dispose()
        if any(n for name, n in counts.items() if name != "sync_clock"):
            return False
    return target.photo_dir is None or next(_photo_files(target.photo_dir), None) is None


def restore(source: Path, target: Target, *, force: bool = False) -> dict[str, Any]:
    """Restore the backup in `source` into `target`; return its manifest once all is checked.

    Verifies every hash in the backup first, refuses a target holding data unless `force`,
    and after copying checks the restored database's revision and row counts and every
    restored photo's hash. Open uploads come back as failed: their partial bytes were not
    backed up, and a phone answered 410 starts the upload anew (docs/photos.md).
    """
    manifest = read_manifest(source)
    verify(source, manifest)
    if not force and not target_is_empty(target):
        raise BackupError("the target instance holds data: use --force to overwrite it")
    db_info = manifest["database"]
    url = sa.make_url(target.database_url)
    if url.get_backend_name() != db_info["dialect"]:
        raise BackupError(f"backup of {db_info['dialect']}, target is {url.get_backend_name()}")
    if db_info["dialect"] == "sqlite":
        _restore_sqlite(source / db_info["file"], _sqlite_path(url))
    else:
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={_libpq_url(url)}",
                str(source / db_info["file"]),
            ]
        )
    photo_entries = [f for f in manifest["files"] if f["path"].startswith("photos/")]
    if photo_entries:
        if target.photo_dir is None:
            raise BackupError("the backup has photos but the target has no disk photo store")
        for entry in photo_entries:
            dest = target.photo_dir / Path(entry["path"]).relative_to("photos")
            size, sha = _copy_hashing(source / entry["path"], dest)
            if (size, sha) != (entry["size"], entry["sha256"]):
                raise BackupError(f"restored file differs: {dest}")
        _sync_to_disk()
    _check_restored_database(url, db_info)
    return manifest


def _restore_sqlite(backup_file: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".restore-")
    os.close(fd)
    shutil.copyfile(backup_file, tmp)
    for suffix in ("-wal", "-shm"):  # a stale WAL would be replayed onto the restored file
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, target)


def _check_restored_database(url: sa.URL, db_info: dict[str, Any]) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if _revision(conn) != db_info["revision"]:
                raise BackupError("the restored database is at another schema revision")
            counts = _table_counts(conn)
            if counts != db_info["counts"]:
                differing = sorted(
                    k
                    for k in counts.keys() | db_info["counts"].keys()
                    if counts.get(k) != db_info["counts"].get(k)
                )
                raise BackupError(f"restored row counts differ in {', '.join(differing)}")
            if "uploads" in counts:
                conn.execute(sa.text("UPDATE uploads SET status = 'failed' WHERE status = 'open'"))
    finally:
        engine.dispose()
