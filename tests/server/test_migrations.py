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
            connection, opts={"compare_type": True, "render_as_batch": True}
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
