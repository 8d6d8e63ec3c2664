"""Online backups that restore: the database and the photo store, with a manifest of hashes.

Layout of a backup folder:

    manifest.json             files (path, size, sha256), db revision, rows per table, times
    db/wangge.db              SQLite: a consistent copy made with SQLite's online backup API
    db/wangge.dump            PostgreSQL: `pg_dump -Fc` of the same snapshot the counts saw
    photos/blobs/photos/…     every stored photo and thumbnail, by hash (disk or S3 store alike)

Order matters: the database is copied first, photos second. Photo blobs are immutable and
stored before the row that names them commits, so every photo the database copy names is in
the store by the time it is walked (later photos may come along too; harmless). One the copy
names that the store lacks is reported (`photos.missing`), never skipped silently. Restore
goes the other way round: photos first, then the database that names them.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.ops import backup_photos as blobs
from server.photos.operations import photo_key, thumb_key
from sync.blobs import BlobStore, DiskBlobStore

MANIFEST = "manifest.json"
FORMAT = 1
#: Parallel transfers to and from an object store (botocore pools 10 connections).
OBJECT_STORE_WORKERS = 8


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


class PhotosMissing(BackupError):
    """The backup was written, but photos the database names are missing or damaged in the store.

    The manifest lists them under `photos.missing` and `photos.damaged`.
    """

    def __init__(self, dest: Path, manifest: dict[str, Any]) -> None:
        self.dest, self.manifest = dest, manifest
        self.missing: list[str] = manifest["photos"]["missing"]
        self.damaged: list[str] = manifest["photos"]["damaged"]
        shown = ", ".join((self.missing + self.damaged)[:5])
        more = " …" if len(self.missing) + len(self.damaged) > 5 else ""
        super().__init__(
            f"{len(self.missing)} photo blobs the database names are missing from the store and "
            f"{len(self.damaged)} do not match their hash ({shown}{more}); the backup in {dest} "
            "lists them in manifest.json (photos.missing, photos.damaged)"
        )


@dataclass(frozen=True)
class Target:
    """Where the data of one instance lives: its database URL and its photo store.

    `photo_dir` is the disk store's root (BLOB_STORE=disk); `object_store` the store when
    photos live in an S3-compatible bucket, and then `photo_dir` is None.
    """

    database_url: str
    photo_dir: Path | None
    object_store: BlobStore | None = None

    @property
    def photo_store(self) -> BlobStore | None:
        if self.object_store is not None:
            return self.object_store
        return DiskBlobStore(self.photo_dir) if self.photo_dir is not None else None

    @property
    def photo_store_kind(self) -> str:
        if self.object_store is not None:
            return "disk" if isinstance(self.object_store, DiskBlobStore) else "s3"
        return "disk" if self.photo_dir is not None else "none"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _sync_to_disk() -> None:
    """One sync for the whole batch of copies (an fsync per small file costs ~10x the copy)."""
    os.sync()


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return blobs.stream_sha256(handle)[1]


def _table_counts(conn: sa.Connection) -> dict[str, int]:
    names = sorted(n for n in sa.inspect(conn).get_table_names() if n != "alembic_version")
    return {n: int(conn.scalar(sa.text(f'SELECT count(*) FROM "{n}"')) or 0) for n in names}


def _named_blobs(conn: sa.Connection) -> list[str]:
    """The blob keys the database names: each available photo and its thumbnail."""
    if not sa.inspect(conn).has_table("photos"):
        return []
    rows = conn.execute(
        sa.text("SELECT sha256, storage_key FROM photos WHERE status = 'available'")
    )
    return [key for sha, stored in rows for key in (stored or photo_key(sha), thumb_key(sha))]


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


def _backup_sqlite(url: sa.URL, dest: Path) -> tuple[dict[str, Any], list[str]]:
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
            info = {"revision": _revision(conn), "counts": _table_counts(conn)}
            return info, _named_blobs(conn)
    finally:
        engine.dispose()


def _backup_postgres(url: sa.URL, dest: Path) -> tuple[dict[str, Any], list[str]]:
    # Counts and dump see the same snapshot: a REPEATABLE READ transaction exports it and
    # stays open while pg_dump runs with --snapshot.
    engine = sa.create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            snapshot = conn.scalar(sa.text("SELECT pg_export_snapshot()"))
            info = {"revision": _revision(conn), "counts": _table_counts(conn)}
            named = _named_blobs(conn)
            pg_dump = pg_tool("pg_dump", _server_major(conn))
            _run(
                [
                    pg_dump,
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
    return info, named


def _run(command: list[str]) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise BackupError(f"cannot run {command[0]}: {error.strerror}") from error
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit status {done.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {detail}")


# Debian/Ubuntu install each major version's client tools here (postgresql-client-NN).
PG_BIN_DIRS = ["/usr/lib/postgresql/{major}/bin"]


def _tool_major(path: str) -> int | None:
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    found = re.search(r"\b(\d+)(?:\.\d+)?", done.stdout)
    return int(found.group(1)) if done.returncode == 0 and found else None


def pg_tool(name: str, server_major: int) -> str:
    """`pg_dump`/`pg_restore` able to work with a server of `server_major` (same or newer).

    The version's own folder first (Debian keeps several side by side), then PATH. Else a
    BackupError that names the package to install.
    """
    candidates = [str(Path(d.format(major=server_major)) / name) for d in PG_BIN_DIRS]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    seen: list[str] = []
    for candidate in candidates:
        major = _tool_major(candidate) if Path(candidate).is_file() else None
        if major is None:
            continue
        if major >= server_major:
            return candidate
        seen.append(f"{candidate} is version {major}")
    found = f" ({'; '.join(seen)})" if seen else ""
    raise BackupError(
        f"{name} for PostgreSQL {server_major} not found{found}: install it "
        f"(apt-get install postgresql-client-{server_major}) and run the command again"
    )


def _server_major(conn: sa.Connection) -> int:
    return int(conn.scalar(sa.text("SHOW server_version_num"))) // 10000


def _database_error(url: sa.URL, error: sa.exc.SQLAlchemyError) -> BackupError:
    """One line naming the fix for the usual reasons a database cannot be reached."""
    text = str(getattr(error, "orig", None) or error)
    name = url.database or ""
    if "does not exist" in text and name and f'"{name}"' in text:
        return BackupError(
            f'database "{name}" does not exist on {url.host or "localhost"}: create it first '
            f"(sudo -u postgres createdb -O {url.username or 'wangge'} {name}), then run "
            "the command again"
        )
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)
    return BackupError(f"cannot reach the database {url.render_as_string()}: {first}")


def _write_error(dest: Path, error: OSError) -> BackupError:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return BackupError(
            f"no space left on the device of {dest}: free some space or choose another "
            "destination (nothing was kept there)"
        )
    return BackupError(f"cannot write the backup into {dest}: {error.strerror or error}")


def _remove_partial(dest: Path, created: bool) -> None:
    """Leave no half-written backup: the folder we made, or what we put in an empty one."""
    if created:
        shutil.rmtree(dest, ignore_errors=True)
    elif dest.is_dir():
        for child in dest.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


def backup(
    source: Target,
    dest: Path,
    *,
    since: Path | None = None,
    allow_missing: bool = False,
    workers: int | None = None,
) -> dict[str, Any]:
    """Back up `source` into the empty or new folder `dest`; return the manifest written there.

    With `since` (an earlier backup folder) photo blobs it already holds are copied from it
    (reflinked where the filesystem can, never hard-linked) and re-hashed, not fetched again.
    Raises BackupError, with a one-line message naming the fix, if `dest` is not empty, the
    database cannot be reached or copied, or the destination fills up — and then removes what
    it wrote, so no half-written backup remains. Raises PhotosMissing (after writing the
    backup in full) if photos the database names are missing or damaged in the store, unless
    `allow_missing`.
    """
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty")
    previous = read_manifest(since) if since is not None else None
    created = not dest.exists()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _write_error(dest, error) from error
    url = sa.make_url(source.database_url)
    try:
        return _backup_into(source, dest, since, previous, allow_missing, workers)
    except PhotosMissing:
        raise  # the backup is complete; the command reports what the store lacked
    except BackupError:
        _remove_partial(dest, created)
        raise
    except OSError as error:
        _remove_partial(dest, created)
        raise _write_error(dest, error) from error
    except sqlite3.Error as error:  # the SQLite backup API writes the copy itself
        _remove_partial(dest, created)
        if "full" in str(error):
            raise _write_error(dest, OSError(errno.ENOSPC, str(error))) from error
        raise BackupError(f"cannot copy the SQLite database: {error}") from error
    except sa.exc.SQLAlchemyError as error:
        _remove_partial(dest, created)
        raise _database_error(url, error) from error


def _backup_into(
    source: Target,
    dest: Path,
    since: Path | None,
    previous: dict[str, Any] | None,
    allow_missing: bool,
    workers: int | None,
) -> dict[str, Any]:
    started = _now()
    url = sa.make_url(source.database_url)
    (dest / "db").mkdir()
    if url.get_backend_name() == "sqlite":
        db_file = Path("db/wangge.db")
        info, named = _backup_sqlite(url, dest / db_file)
    elif url.get_backend_name() == "postgresql":
        db_file = Path("db/wangge.dump")
        info, named = _backup_postgres(url, dest / db_file)
    else:
        raise BackupError(f"no backup for {url.get_backend_name()}")
    files: list[dict[str, Any]] = [
        {
            "path": str(db_file),
            "size": (dest / db_file).stat().st_size,
            "sha256": file_sha256(dest / db_file),
        }
    ]
    copied = _backup_photos(source, named, dest, since, previous, workers)
    files.extend(copied.files)
    _sync_to_disk()
    manifest = {
        "format": FORMAT,
        "started_at": started,
        "finished_at": _now(),
        "database": {"dialect": url.get_backend_name(), "file": str(db_file), **info},
        "photos": {
            "store": source.photo_store_kind,
            "files": len(copied.files),
            "missing": copied.missing,
            "damaged": copied.damaged,
            "since": str(since) if since is not None else None,
            "linked": copied.linked,
        },
        "files": files,
        "bytes": sum(int(f["size"]) for f in files),
    }
    tmp = dest / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, dest / MANIFEST)  # the manifest appears last: its presence means complete
    if (copied.missing or copied.damaged) and not allow_missing:
        raise PhotosMissing(dest, manifest)
    return manifest


def _backup_photos(
    source: Target,
    named: list[str],
    dest: Path,
    since: Path | None,
    previous: dict[str, Any] | None,
    workers: int | None,
) -> blobs.CopiedOut:
    store = source.photo_store
    if store is None:
        return blobs.CopiedOut(missing=sorted(set(named)))
    if workers is None:  # a local disk gains nothing from threads; a network store does
        workers = OBJECT_STORE_WORKERS if source.object_store is not None else 1
    earlier = {f["path"]: f for f in previous["files"]} if previous else None
    try:
        return blobs.copy_out(
            store, named, dest, previous=since, previous_files=earlier, workers=workers
        )
    except blobs.PhotoCopyError as error:
        raise BackupError(str(error)) from error


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
    store = target.photo_store
    try:
        return store is None or not blobs.list_blobs(store)
    except blobs.PhotoCopyError as error:
        raise BackupError(str(error)) from error


def restore(
    source: Path, target: Target, *, force: bool = False, workers: int = OBJECT_STORE_WORKERS
) -> dict[str, Any]:
    """Restore the backup in `source` into `target`; return its manifest once all is checked.

    Verifies every hash in the backup first, refuses a target holding data unless `force`,
    puts the photos in the target's store (disk or object store, whichever the backup came
    from; blobs already there with the same bytes are kept), then restores the database and
    checks its revision and row counts. Open uploads come back as failed: their partial bytes
    were not backed up, and a phone answered 410 starts the upload anew (docs/photos.md).
    The manifest returned carries `restored`: photo blobs copied and found already in place.
    """
    manifest = read_manifest(source)
    verify(source, manifest)
    db_info = manifest["database"]
    url = sa.make_url(target.database_url)
    if url.get_backend_name() != db_info["dialect"]:
        raise BackupError(f"backup of {db_info['dialect']}, target is {url.get_backend_name()}")
    # Before anything is written: the database must exist and the tools must suit it.
    pg_restore = pg_tool("pg_restore", _reach(url)) if db_info["dialect"] != "sqlite" else ""
    if not force and not target_is_empty(target):
        raise BackupError("the target instance holds data: use --force to overwrite it")
    copied, kept = _restore_photos(source, manifest, target, workers)
    if db_info["dialect"] == "sqlite":
        _restore_sqlite(source / db_info["file"], _sqlite_path(url))
    else:
        _run(
            [
                pg_restore,
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
    _check_restored_database(url, db_info)
    return {**manifest, "restored": {"photos_copied": copied, "photos_kept": kept}}


def _reach(url: sa.URL) -> int:
    """The PostgreSQL server's major version; BackupError naming the fix if unreachable."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return _server_major(conn)
    except sa.exc.SQLAlchemyError as error:
        raise _database_error(url, error) from error
    finally:
        engine.dispose()


def _restore_photos(
    source: Path, manifest: dict[str, Any], target: Target, workers: int
) -> tuple[int, int]:
    """Photos go in before the database that names them: (blobs copied, blobs already there)."""
    entries = [f for f in manifest["files"] if f["path"].startswith("photos/")]
    if not entries:
        return 0, 0
    try:
        if target.object_store is not None:
            return blobs.copy_in(target.object_store, entries, source, workers=workers)
        if target.photo_dir is not None:
            copied = blobs.copy_in_disk(target.photo_dir, entries, source)
            _sync_to_disk()
            return copied, 0
    except blobs.PhotoCopyError as error:
        raise BackupError(str(error)) from error
    raise BackupError("the backup has photos but the target has no photo store")


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
