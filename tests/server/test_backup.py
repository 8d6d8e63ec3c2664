"""`flask backup` / `flask restore`: online, under write load, every record and photo comes back."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.ops import backup as backups
from server.ops.backup import BackupError, Target
from tests.server import photo_samples as samples
from tests.server.test_uploads_api import upload_all
from tests.sync.conftest import Phone, build_world, visit_args


@pytest.fixture
def fresh_target(fresh_database_url: str, tmp_path: Path) -> Target:
    """An empty instance of the same kind as the test's, with an empty disk photo store."""
    return Target(fresh_database_url, tmp_path / "photos2")


def _source(app) -> Target:
    return Target(app.config["SQLALCHEMY_DATABASE_URI"], Path(app.config["PHOTO_DIR"]))


def _ids(url: str, table: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                str(r[0]).replace("-", "") for r in conn.execute(sa.text(f"SELECT id FROM {table}"))
            }
    finally:
        engine.dispose()


def test_a_backup_under_write_load_restores_every_committed_record_and_photo(
    app, client, fresh_target, tmp_path, monkeypatch
):
    world = build_world(db.session)
    phone = Phone(client, world.users["wa"])
    photos = [samples.jpeg(seed=seed) for seed in range(3)]
    for photo in photos:
        assert upload_all(client, phone.token, photo).status_code == 204
    households = world.households["G1"]

    committed: list[str] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            while not stop.is_set():
                args = visit_args(households[len(committed) % len(households)])
                phone.add("visit.create", args)
                body = phone.push()
                assert body["results"][-1]["status"] == "applied"
                committed.append(args["id"].replace("-", ""))
        except BaseException as error:  # noqa: BLE001  (re-raised in the test thread)
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    while len(committed) < 10 and thread.is_alive():
        time.sleep(0.01)
    before_backup = set(committed)
    real_copy_out = backups.blobs.copy_out

    def copy_out_while_writing(*args, **kwargs):
        # The writes must overlap the backup whatever the machine's load: the photo copy
        # (after the database snapshot) starts only once the writer has committed more.
        snapshot_at = len(committed)
        deadline = time.monotonic() + 120
        while len(committed) < snapshot_at + 3 and thread.is_alive():
            assert time.monotonic() < deadline, "the writer made no progress for 120 s"
            time.sleep(0.01)
        return real_copy_out(*args, **kwargs)

    monkeypatch.setattr(backups.blobs, "copy_out", copy_out_while_writing)
    manifest = backups.backup(_source(app), tmp_path / "backup")
    during = len(committed) - len(before_backup)
    stop.set()
    thread.join(timeout=60)
    assert not errors, errors
    assert during >= 3, "the writer stopped during the backup"

    restored = backups.restore(tmp_path / "backup", fresh_target)
    assert restored["finished_at"] == manifest["finished_at"]
    visits = _ids(fresh_target.database_url, "visits")
    assert before_backup <= visits  # every visit committed before the backup started
    assert len(visits) == manifest["database"]["counts"]["visits"]
    for photo in photos:
        sha = samples.sha256_hex(photo)
        stored = fresh_target.photo_dir / "blobs" / "photos" / sha[:2] / sha
        assert stored.read_bytes() == photo
        assert (fresh_target.photo_dir / "blobs" / "thumbs" / sha[:2] / f"{sha}.jpg").is_file()
    assert manifest["photos"]["files"] == 2 * len(photos)


def test_the_manifest_lists_sizes_hashes_revision_counts_and_times(app, client, tmp_path):
    build_world(db.session)
    manifest = backups.backup(_source(app), tmp_path / "b")
    on_disk = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert on_disk == manifest
    assert (
        manifest["database"]["revision"]
        == db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    )
    assert manifest["database"]["counts"]["households"] == 6
    assert manifest["started_at"] <= manifest["finished_at"]
    for entry in manifest["files"]:
        assert backups.file_sha256(tmp_path / "b" / entry["path"]) == entry["sha256"]


def test_restore_refuses_a_target_with_data_unless_forced(app, tmp_path):
    build_world(db.session)
    backups.backup(_source(app), tmp_path / "b")
    db.session.remove()
    with pytest.raises(BackupError, match="holds data"):
        backups.restore(tmp_path / "b", _source(app))
    db.engine.dispose()
    backups.restore(tmp_path / "b", _source(app), force=True)


def test_restore_refuses_a_damaged_backup_before_touching_anything(
    app, client, tmp_path, fresh_target
):
    world = build_world(db.session)
    phone = Phone(client, world.users["wa"])
    upload_all(client, phone.token, samples.jpeg(seed=1))
    manifest = backups.backup(_source(app), tmp_path / "b")
    damaged = next(f for f in manifest["files"] if f["path"].startswith("photos/"))
    (tmp_path / "b" / damaged["path"]).write_bytes(b"rot")
    with pytest.raises(BackupError, match="damaged"):
        backups.restore(tmp_path / "b", fresh_target)
    assert not fresh_target.photo_dir.exists()


def test_a_backup_needs_an_empty_destination(app, tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        backups.backup(_source(app), tmp_path / "b")


def test_the_cli_backs_up_and_restores_with_force(app, tmp_path):
    build_world(db.session)
    runner = app.test_cli_runner()
    made = runner.invoke(args=["backup", str(tmp_path / "b")])
    assert made.exit_code == 0, made.output
    assert "backup of revision" in made.output
    refused = runner.invoke(args=["restore", str(tmp_path / "b")])
    assert refused.exit_code != 0 and "--force" in refused.output
    forced = runner.invoke(args=["restore", str(tmp_path / "b"), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "restored and verified" in forced.output


# --- issue 19: backups an administrator can trust -------------------------------------------


def test_a_since_backup_survives_damage_to_the_earlier_one(app, client, tmp_path, fresh_target):
    """Copied (reflinked where the filesystem can), never hard-linked: damage is not shared."""
    world = build_world(db.session)
    phone = Phone(client, world.users["wa"])
    upload_all(client, phone.token, samples.jpeg(seed=3))
    monday = backups.backup(_source(app), tmp_path / "monday")
    tuesday = backups.backup(_source(app), tmp_path / "tuesday", since=tmp_path / "monday")
    photos = [f for f in monday["files"] if f["path"].startswith("photos/")]
    assert photos and tuesday["photos"]["linked"] == len(photos)
    for entry in photos:
        earlier = tmp_path / "monday" / entry["path"]
        later = tmp_path / "tuesday" / entry["path"]
        assert earlier.stat().st_ino != later.stat().st_ino
        with earlier.open("r+b") as handle:  # damage in place, as a bad sector or a bad tool
            handle.write(b"\0" * 64)
    with pytest.raises(BackupError, match="damaged"):
        backups.verify(tmp_path / "monday", monday)
    backups.verify(tmp_path / "tuesday", tuesday)
    db.session.remove()
    restored = backups.restore(tmp_path / "tuesday", fresh_target)
    assert restored["restored"]["photos_copied"] == len(photos)


def test_clone_or_copy_makes_an_independent_file(tmp_path):
    from server.ops.backup_photos import clone_or_copy

    (tmp_path / "a").write_bytes(b"x" * 10_000)
    how = clone_or_copy(tmp_path / "a", tmp_path / "b")
    assert how in {"reflink", "copy"}
    (tmp_path / "a").write_bytes(b"y" * 10_000)
    assert (tmp_path / "b").read_bytes() == b"x" * 10_000


def _one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_a_full_destination_is_one_line_and_leaves_nothing(app, client, tmp_path, monkeypatch):
    world = build_world(db.session)
    phone = Phone(client, world.users["wa"])
    upload_all(client, phone.token, samples.jpeg(seed=4))
    import errno

    from server.ops import backup_photos

    def full(source, dest: Path):  # the disk fills while the photos are written
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(source.read(100))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backup_photos, "copy_stream", full)
    for dest in (tmp_path / "new", tmp_path / "empty"):
        if dest.name == "empty":
            dest.mkdir()
        line = _one_line_error(app.test_cli_runner().invoke(args=["backup", str(dest)]))
        assert "no space left" in line and "choose another destination" in line
        assert not dest.exists() if dest.name == "new" else not any(dest.iterdir())


def test_backup_without_a_suitable_pg_dump_names_the_package(
    postgres_database, tmp_path, monkeypatch
):
    from server import create_app

    fake = tmp_path / "bin"
    fake.mkdir()
    old = fake / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    monkeypatch.setattr(backups, "PG_BIN_DIRS", [str(tmp_path / "nowhere")])
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": postgres_database,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "x",
        }
    )
    for path, expect in ((str(fake), "is version 9"), (str(tmp_path / "empty"), "not found")):
        monkeypatch.setenv("PATH", path)
        dest = tmp_path / "b"
        line = _one_line_error(app.test_cli_runner().invoke(args=["backup", str(dest)]))
        assert expect in line and "apt-get install postgresql-client-" in line, line
        assert not dest.exists()


def test_restore_into_a_database_that_does_not_exist_says_to_create_it(
    app, postgres_database, tmp_path
):
    from server import create_app

    build_world(db.session)
    backups.backup(_source(app), tmp_path / "b")
    if sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "sqlite":
        target_url = sa.make_url(postgres_database).set(database="wangge_absent_19")
        with pytest.raises(BackupError, match="backup of sqlite, target is postgresql"):
            backups.restore(tmp_path / "b", Target(target_url.render_as_string(False), None))
        return
    missing = sa.make_url(postgres_database).set(database="wangge_absent_19")
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": missing.render_as_string(hide_password=False),
            "INSTANCE_PATH": str(tmp_path / "instance2"),
            "PHOTO_DIR": str(tmp_path / "photos2"),
            "SECRET_KEY": "x",
        }
    )
    for args in (["restore", str(tmp_path / "b")], ["restore", str(tmp_path / "b"), "--force"]):
        with other.app_context():  # the command runs in the current app context: this one
            line = _one_line_error(other.test_cli_runner().invoke(args=args))
        assert 'database "wangge_absent_19" does not exist' in line
        assert "createdb" in line
    assert not (tmp_path / "photos2").exists()  # nothing written before the database answered
