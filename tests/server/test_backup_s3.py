"""`flask backup` / `flask restore` with photos in an S3-compatible store (a real moto server)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from server.extensions import db
from server.ops import backup as backups
from server.ops.backup import BackupError, PhotosMissing, Target
from server.photos.operations import photo_key, thumb_key
from server.photos.storage import blob_store
from sync.blobs import BlobStore, DiskBlobStore, make_blob_store
from tests.server import photo_samples as samples
from tests.server.test_uploads_api import upload_all
from tests.sync.conftest import Phone, build_world, s3_app_settings, visit_args


@pytest.fixture
def s3_app(
    make_app: Callable[..., Flask], moto_s3_endpoint: str, tmp_path: Path
) -> Iterator[Flask]:
    """The test's instance with BLOB_STORE=s3 on a new bucket (and no disk photo folder)."""
    app = make_app(**s3_app_settings(moto_s3_endpoint), PHOTO_DIR=str(tmp_path / "no-photos"))
    with app.app_context():
        yield app


@pytest.fixture
def new_bucket(moto_s3_endpoint: str) -> Callable[[], BlobStore]:
    """Makes an S3 store on a new, empty bucket of the same server."""

    def make() -> BlobStore:
        settings = s3_app_settings(moto_s3_endpoint)
        return make_blob_store(
            "s3",
            bucket=settings["S3_BUCKET"],
            prefix="restored",
            endpoint_url=moto_s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    return make


def _s3_source(app: Flask) -> Target:
    return Target(app.config["SQLALCHEMY_DATABASE_URI"], None, blob_store(app))


def _disk_source(app: Flask) -> Target:
    return Target(app.config["SQLALCHEMY_DATABASE_URI"], Path(app.config["PHOTO_DIR"]))


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


_TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"


def _available_photos(url: str) -> set[str]:
    return {r[0] for r in _rows(url, "SELECT sha256 FROM photos WHERE status = 'available'")}


def _store_of(target: Target) -> BlobStore:
    store = target.photo_store
    assert store is not None
    return store


def _assert_every_named_photo_is_there(target: Target) -> set[str]:
    """Every photo the restored database names is in its store, bytes hashing to the name."""
    store = _store_of(target)
    named = _available_photos(target.database_url)
    for sha in named:
        assert samples.sha256_hex(store.get(photo_key(sha))) == sha
        assert store.exists(thumb_key(sha))
    return named


def _uploaded(client: Any, phone: Phone, seeds: range) -> list[bytes]:
    photos = [samples.jpeg(seed=seed) for seed in seeds]
    for photo in photos:
        assert upload_all(client, phone.token, photo).status_code == 204
    return photos


def test_a_backup_of_s3_photos_under_write_load_restores_into_a_fresh_bucket(
    s3_app: Flask,
    fresh_database_url: str,
    new_bucket: Callable[[], BlobStore],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = s3_app.test_client()
    world = build_world(db.session)
    phone = Phone(client, world.users["wa"])
    photos = _uploaded(client, phone, range(3))
    households = world.households["G1"]
    committed: list[str] = []
    sent_photos: list[bytes] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            while not stop.is_set():
                args = visit_args(households[len(committed) % len(households)])
                phone.add("visit.create", args)
                assert phone.push()["results"][-1]["status"] == "applied"
                committed.append(args["id"].replace("-", ""))
                if len(committed) % 4 == 0:  # a photo upload now and then, during the backup
                    sent_photos.extend(
                        _uploaded(client, phone, range(100 + len(committed), 101 + len(committed)))
                    )
        except BaseException as error:  # noqa: BLE001  (re-raised in the test thread)
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    while len(committed) < 10 and thread.is_alive():
        time.sleep(0.01)
    before_backup = set(committed)
    photos_before = list(sent_photos)
    real_copy_out = backups.blobs.copy_out

    def copy_out_while_writing(*args: Any, **kwargs: Any) -> Any:
        # The writes must overlap the backup whatever the machine's load: the photo copy
        # (after the database snapshot) starts only once the writer has committed more.
        snapshot_at = len(committed)
        deadline = time.monotonic() + 120
        while len(committed) < snapshot_at + 3 and thread.is_alive():
            assert time.monotonic() < deadline, "the writer made no progress for 120 s"
            time.sleep(0.01)
        return real_copy_out(*args, **kwargs)

    monkeypatch.setattr(backups.blobs, "copy_out", copy_out_while_writing)
    manifest = backups.backup(_s3_source(s3_app), tmp_path / "backup")
    after_backup = len(committed)
    stop.set()
    thread.join(timeout=60)
    assert not errors, errors
    assert after_backup > len(before_backup), "the writer stopped during the backup"
    assert manifest["photos"]["store"] == "s3"
    assert manifest["photos"]["missing"] == [] and manifest["photos"]["damaged"] == []

    target = Target(fresh_database_url, None, new_bucket())
    restored = backups.restore(tmp_path / "backup", target)
    assert restored["restored"]["photos_copied"] == manifest["photos"]["files"]
    visits = {
        str(r[0]).replace("-", "") for r in _rows(fresh_database_url, "SELECT id FROM visits")
    }
    assert before_backup <= visits
    assert len(visits) == manifest["database"]["counts"]["visits"]
    named = _assert_every_named_photo_is_there(target)
    for photo in photos + photos_before:
        sha = samples.sha256_hex(photo)
        assert sha in named
        assert _store_of(target).get(photo_key(sha)) == photo


@pytest.mark.parametrize("direction", ["s3 to disk", "disk to s3"])
def test_a_backup_restores_across_store_kinds_and_the_restored_instance_serves_the_photo(
    direction: str,
    make_app: Callable[..., Flask],
    moto_s3_endpoint: str,
    fresh_database_url: str,
    new_bucket: Callable[[], BlobStore],
    tmp_path: Path,
) -> None:
    from_s3 = direction == "s3 to disk"
    settings = s3_app_settings(moto_s3_endpoint) if from_s3 else {}
    app = make_app(**settings)
    with app.app_context():
        client = app.test_client()
        phone = Phone(client, build_world(db.session).users["wa"])
        photos = _uploaded(client, phone, range(2))
        source = _s3_source(app) if from_s3 else _disk_source(app)
        manifest = backups.backup(source, tmp_path / "backup")
        db.session.remove()
    assert manifest["photos"]["store"] == ("s3" if from_s3 else "disk")
    assert manifest["photos"]["files"] == 2 * len(photos)

    if from_s3:
        target = Target(fresh_database_url, tmp_path / "restored-photos")
        target_settings: dict[str, Any] = {"PHOTO_DIR": str(target.photo_dir)}
    else:
        store = new_bucket()
        target = Target(fresh_database_url, None, store)
        target_settings = {
            **s3_app_settings(moto_s3_endpoint),
            "S3_BUCKET": store.bucket,  # type: ignore[attr-defined]
            "S3_PREFIX": "restored",
        }
    backups.restore(tmp_path / "backup", target)
    assert _assert_every_named_photo_is_there(target) == {samples.sha256_hex(p) for p in photos}

    restored_app = make_app(SQLALCHEMY_DATABASE_URI=fresh_database_url, **target_settings)
    with restored_app.app_context():
        auth = {"Authorization": f"Bearer {phone.token}"}  # tokens come back with the database
        sha = samples.sha256_hex(photos[0])
        with restored_app.test_client().get(f"/api/v1/photos/{sha}", headers=auth) as got:
            assert got.status_code == 200 and got.data == photos[0]
        db.session.remove()


def test_a_photo_the_database_names_but_the_store_lacks_fails_the_backup_and_is_listed(
    s3_app: Flask, tmp_path: Path
) -> None:
    client = s3_app.test_client()
    phone = Phone(client, build_world(db.session).users["wa"])
    photos = _uploaded(client, phone, range(2))
    lost = photo_key(samples.sha256_hex(photos[0]))
    blob_store(s3_app).delete(lost)

    with pytest.raises(PhotosMissing, match=r"1 photo blobs .* missing") as refused:
        backups.backup(_s3_source(s3_app), tmp_path / "b1")
    assert refused.value.missing == [lost]
    written = json.loads((tmp_path / "b1" / "manifest.json").read_text())
    assert written["photos"]["missing"] == [lost]
    assert f"photos/blobs/{lost}" not in {f["path"] for f in written["files"]}

    accepted = backups.backup(_s3_source(s3_app), tmp_path / "b2", allow_missing=True)
    assert accepted["photos"]["missing"] == [lost]
    assert accepted["photos"]["files"] == 3


def test_the_cli_exits_non_zero_on_a_missing_photo_unless_allowed(
    s3_app: Flask, tmp_path: Path
) -> None:
    client = s3_app.test_client()
    phone = Phone(client, build_world(db.session).users["wa"])
    (photo,) = _uploaded(client, phone, range(1))
    blob_store(s3_app).delete(thumb_key(samples.sha256_hex(photo)))
    runner = s3_app.test_cli_runner()
    failed = runner.invoke(args=["backup", str(tmp_path / "b1")])
    assert failed.exit_code != 0
    assert "missing from the store" in failed.output and "thumbs/" in failed.output
    allowed = runner.invoke(args=["backup", str(tmp_path / "b2"), "--allow-missing"])
    assert allowed.exit_code == 0, allowed.output
    assert "1 photo files (s3 store" in allowed.output
    assert "warning: 1 photo blobs missing" in allowed.output


def test_an_incremental_backup_still_reports_a_photo_the_store_lost_since_the_earlier_one(
    s3_app: Flask, tmp_path: Path
) -> None:
    client = s3_app.test_client()
    phone = Phone(client, build_world(db.session).users["wa"])
    (photo,) = _uploaded(client, phone, range(1))
    backups.backup(_s3_source(s3_app), tmp_path / "monday")
    lost = photo_key(samples.sha256_hex(photo))
    blob_store(s3_app).delete(lost)
    with pytest.raises(PhotosMissing) as refused:
        backups.backup(_s3_source(s3_app), tmp_path / "tuesday", since=tmp_path / "monday")
    assert refused.value.missing == [lost]


def test_a_store_that_cannot_be_read_fails_the_backup_with_a_clear_message(
    s3_app: Flask, tmp_path: Path
) -> None:
    build_world(db.session)
    store = blob_store(s3_app)
    gone = Target(s3_app.config["SQLALCHEMY_DATABASE_URI"], None, store)
    store.client.delete_bucket(Bucket=store.bucket)  # type: ignore[attr-defined]
    with pytest.raises(BackupError, match=r"cannot list the photo store: .*NoSuchBucket"):
        backups.backup(gone, tmp_path / "b")
    assert not (tmp_path / "b" / "manifest.json").exists()


def test_a_photo_whose_bytes_do_not_match_its_hash_in_the_store_is_reported_damaged(
    s3_app: Flask, tmp_path: Path
) -> None:
    client = s3_app.test_client()
    phone = Phone(client, build_world(db.session).users["wa"])
    (photo,) = _uploaded(client, phone, range(1))
    key = photo_key(samples.sha256_hex(photo))
    blob_store(s3_app).put(key, photo[:-1] + b"?")
    with pytest.raises(PhotosMissing, match="1 do not match their hash") as refused:
        backups.backup(_s3_source(s3_app), tmp_path / "b")
    assert refused.value.damaged == [key]
    assert not (tmp_path / "b" / "photos" / "blobs" / key).exists()


def test_restore_refuses_a_backup_with_a_corrupted_photo_and_changes_nothing(
    s3_app: Flask, fresh_database_url: str, new_bucket: Callable[[], BlobStore], tmp_path: Path
) -> None:
    client = s3_app.test_client()
    phone = Phone(client, build_world(db.session).users["wa"])
    _uploaded(client, phone, range(2))
    manifest = backups.backup(_s3_source(s3_app), tmp_path / "b")
    entry = next(f for f in manifest["files"] if f["path"].startswith("photos/blobs/photos/"))
    path = tmp_path / "b" / entry["path"]
    path.write_bytes(path.read_bytes()[:-1] + b"!")  # same size, other bytes

    target = Target(fresh_database_url, None, new_bucket())
    with pytest.raises(BackupError, match="damaged in the backup"):
        backups.restore(tmp_path / "b", target)
    assert list(_store_of(target).list_blobs()) == []
    url = sa.make_url(fresh_database_url)
    if url.get_backend_name() == "sqlite":
        assert not Path(url.database or "").exists()
    else:
        assert not _rows(fresh_database_url, _TABLES)


def test_an_incremental_backup_copies_the_photos_an_earlier_one_holds(
    s3_app: Flask, fresh_database_url: str, new_bucket: Callable[[], BlobStore], tmp_path: Path
) -> None:
    client = s3_app.test_client()
    phone = Phone(client, build_world(db.session).users["wa"])
    first = _uploaded(client, phone, range(2))
    backups.backup(_s3_source(s3_app), tmp_path / "monday")
    later = _uploaded(client, phone, range(2, 3))
    manifest = backups.backup(_s3_source(s3_app), tmp_path / "tuesday", since=tmp_path / "monday")

    assert manifest["photos"]["linked"] == 2 * len(first)
    assert manifest["photos"]["files"] == 2 * len(first + later)
    for photo in first:
        relative = f"photos/blobs/{photo_key(samples.sha256_hex(photo))}"
        monday, tuesday = tmp_path / "monday" / relative, tmp_path / "tuesday" / relative
        # Copied locally (not fetched), never hard-linked: each backup stands on its own.
        assert os.stat(monday).st_ino != os.stat(tuesday).st_ino
        assert monday.read_bytes() == tuesday.read_bytes()
    target = Target(fresh_database_url, None, new_bucket())
    backups.restore(tmp_path / "tuesday", target)
    assert len(_assert_every_named_photo_is_there(target)) == 3


def test_an_incremental_backup_fetches_again_a_photo_that_rotted_in_the_earlier_one(
    s3_app: Flask, tmp_path: Path
) -> None:
    client = s3_app.test_client()
    phone = Phone(client, build_world(db.session).users["wa"])
    (photo,) = _uploaded(client, phone, range(1))
    backups.backup(_s3_source(s3_app), tmp_path / "monday")
    relative = f"photos/blobs/{photo_key(samples.sha256_hex(photo))}"
    (tmp_path / "monday" / relative).write_bytes(photo[:-1] + b"#")
    manifest = backups.backup(_s3_source(s3_app), tmp_path / "tuesday", since=tmp_path / "monday")
    assert manifest["photos"]["linked"] == 1  # the thumbnail only
    assert (tmp_path / "tuesday" / relative).read_bytes() == photo


def test_restore_keeps_objects_already_there_with_the_same_bytes_and_replaces_others(
    s3_app: Flask, fresh_database_url: str, new_bucket: Callable[[], BlobStore], tmp_path: Path
) -> None:
    client = s3_app.test_client()
    phone = Phone(client, build_world(db.session).users["wa"])
    (photo,) = _uploaded(client, phone, range(1))
    sha = samples.sha256_hex(photo)
    backups.backup(_s3_source(s3_app), tmp_path / "b")
    store = new_bucket()
    store.put(photo_key(sha), photo)  # already there, same bytes
    store.put(thumb_key(sha), b"not the thumbnail")
    target = Target(fresh_database_url, None, store)
    with pytest.raises(BackupError, match="holds data"):
        backups.restore(tmp_path / "b", target)
    restored = backups.restore(tmp_path / "b", target, force=True)
    assert restored["restored"] == {"photos_copied": 1, "photos_kept": 1}
    assert store.get(thumb_key(sha)) == blob_store(s3_app).get(thumb_key(sha))


def test_the_cli_backs_up_and_restores_an_s3_instance(s3_app: Flask, tmp_path: Path) -> None:
    client = s3_app.test_client()
    phone = Phone(client, build_world(db.session).users["wa"])
    _uploaded(client, phone, range(2))
    runner = s3_app.test_cli_runner()
    made = runner.invoke(args=["backup", str(tmp_path / "b")])
    assert made.exit_code == 0, made.output
    assert "4 photo files (s3 store)" in made.output
    forced = runner.invoke(args=["restore", str(tmp_path / "b"), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "0 photo blobs copied, 4 already there" in forced.output


def test_a_disk_backup_lists_a_missing_photo_file_too(app: Flask, tmp_path: Path) -> None:
    client = app.test_client()
    phone = Phone(client, build_world(db.session).users["wa"])
    (photo,) = _uploaded(client, phone, range(1))
    DiskBlobStore(app.config["PHOTO_DIR"]).delete(photo_key(samples.sha256_hex(photo)))
    with pytest.raises(PhotosMissing) as refused:
        backups.backup(_disk_source(app), tmp_path / "b")
    assert refused.value.missing == [photo_key(samples.sha256_hex(photo))]
