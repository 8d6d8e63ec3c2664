"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from server.extensions import db
from sync.db import metadata
from sync.versions import VersionClock


def test_the_migrated_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "render_as_batch": True,
                # Alembic's own bookkeeping, like alembic_version (server/ops/schema.py)
                "include_name": lambda name, kind, _parent: name != "schema_lineage",
            },
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_the_version_clock_row_exists_after_migration(app):
    assert db.session.scalar(select(VersionClock.version).where(VersionClock.id == 1)) == 0


def test_migrations_downgrade_to_nothing_and_upgrade_again(app):
    db.session.remove()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert set(metadata.tables) <= set(inspect(db.engine).get_table_names())


def test_the_flask_db_commands_work_from_the_shell(tmp_path):
    """`make run` migrates with `flask --app wsgi db upgrade`: the real command, end to end."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, WANGGE_INSTANCE_PATH=str(tmp_path))
    env.pop("WANGGE_SQLALCHEMY_DATABASE_URI", None)
    root = Path(__file__).resolve().parents[2]
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db"]
    upgrade = subprocess.run(
        [*flask, "upgrade"], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    assert upgrade.returncode == 0, upgrade.stderr
    current = subprocess.run(
        [*flask, "current"], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert "(head)" in current.stdout


def test_the_photo_proof_migration_gives_existing_links_the_proof_the_rows_show(
    app, make_user, token_for
):
    """Links made before photo proofs: judged by what the rows show (server/photos/access.py)."""
    import datetime as dt
    import uuid

    from sqlalchemy import text

    from server.cases.models import Photo, PhotoLink
    from server.enums import PhotoStatus
    from server.photos.models import Upload, UploadStatus

    now = dt.datetime.now(dt.UTC)
    people = {role: make_user(role) for role in ("dispatcher", "worker")}
    sender, copier = make_user("worker"), make_user("worker")
    devices = {}
    for name, user in (("office", people["dispatcher"]), ("sender", sender), ("copier", copier)):
        devices[name] = uuid.uuid4()
        token_for(user, device_id=devices[name])
    sha = "cd" * 32
    db.session.add(Photo(sha256=sha, status=PhotoStatus.AVAILABLE, created_at=now))
    for user, device, dedupe in ((sender, "sender", False), (copier, "copier", True)):
        db.session.add(
            Upload(
                device_id=devices[device],
                user_id=user.id,
                sha256=sha,
                mime="image/jpeg",
                upload_length=10,
                upload_offset=10,
                status=UploadStatus.FINISHED,
                deduplicated=dedupe,
                expires_at=now,
            )
        )
    expected = {}
    for name, user, device in (
        ("phone of the sender", sender, "sender"),
        ("phone of a dedupe-only copier", copier, "copier"),
        ("phone of the office", people["dispatcher"], "office"),
        ("back-office form", people["worker"], None),
        ("resident's report", None, None),
    ):
        link = PhotoLink(
            photo_sha256=sha,
            added_by_id=user.id if user else None,
            device_id=devices[device] if device else None,
        )
        db.session.add(link)
        db.session.flush()
        expected[link.id] = name
    db.session.commit()
    db.session.remove()
    downgrade(revision=_before("Photo links carry a proof"))
    upgrade()
    with db.engine.connect() as conn:
        found = {
            uuid.UUID(str(row.id)): row.proof  # a UUID on PostgreSQL, hex text on SQLite
            for row in conn.execute(text("SELECT id, proof FROM photo_links"))
        }
    assert {expected[key]: proof for key, proof in found.items()} == {
        "phone of the sender": "upload",
        "phone of a dedupe-only copier": None,
        "phone of the office": "access",
        "back-office form": "upload",
        "resident's report": "upload",
    }


def _before(title: str) -> str:
    """The revision below the one whose message starts with `title` (numbers get renumbered)."""
    from alembic.script import ScriptDirectory
    from flask import current_app

    ext = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(ext.migrate.get_config(directory=ext.directory))
    found = next(r for r in script.walk_revisions() if (r.doc or "").startswith(title))
    return str(found.down_revision)
