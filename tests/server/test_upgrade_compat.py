"""Rolling upgrades: the previous release keeps serving while the schema moves ahead of it.

The code at head-1 (its migration scripts without the newest one) is asked for readiness
against a database at head; the newest migration is checked to be expand-only (every table
and column the previous release uses is still there, nothing new it does not fill is
required); a database behind the code, or on another line, is not ready.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import inspect, text

from server import REPO_ROOT
from server.extensions import db
from server.ops.schema import LINEAGE_TABLE, CodeRevisions

MIGRATIONS = REPO_ROOT / "migrations"


def _previous_release(tmp_path: Path) -> tuple[CodeRevisions, str]:
    """The migration scripts as the release before the newest migration shipped them."""
    newest = CodeRevisions.from_directory(str(MIGRATIONS))
    copy = tmp_path / "migrations-previous"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (newest_file,) = [
        p
        for p in (copy / "versions").glob("*.py")
        if f'revision = "{newest.head}"' in p.read_text()
    ]
    newest_file.unlink()
    previous = CodeRevisions.from_directory(str(copy))
    assert previous.head != newest.head and previous.head in newest.ancestors
    return previous, newest.head


def _ready(app: Flask, code: CodeRevisions | None = None) -> tuple[int, dict[str, Any]]:
    if code is not None:
        app.extensions["wangge.code_revisions"] = code
    response = app.test_client().get("/healthz/ready")
    return response.status_code, response.get_json()


def test_the_previous_release_stays_ready_on_the_newest_schema(app, tmp_path):
    previous, head = _previous_release(tmp_path)
    status, body = _ready(app, previous)
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["migrations"] == {
        "current": head,
        "head": previous.head,
        "at_head": False,
        "state": "ahead",
        "ready": True,
    }


def test_the_newest_release_is_not_ready_on_the_previous_schema(app, tmp_path):
    from flask_migrate import downgrade, upgrade

    previous, _head = _previous_release(tmp_path)
    db.session.remove()
    downgrade(revision=previous.head)
    try:
        status, body = _ready(app)
        assert status == 503
        assert body["status"] == "migrations_pending"
        assert body["migrations"]["state"] == "behind"
        # …while the previous release, meeting its own schema, is ready
        assert _ready(app, previous)[0] == 200
    finally:
        db.session.remove()
        upgrade()  # PostgreSQL's test database is shared by the session


def test_a_revision_on_another_line_is_not_ready(app, tmp_path):
    previous, head = _previous_release(tmp_path)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'elsewhere1'"))
    try:
        for code in (None, previous):
            status, body = _ready(app, code)
            assert status == 503
            assert body["status"] == "schema_unknown"
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})


def test_the_lineage_follows_upgrades_and_downgrades(app, tmp_path):
    from flask_migrate import downgrade, upgrade

    newest = CodeRevisions.from_directory(str(MIGRATIONS))

    def lineage() -> dict[str, set[str]]:
        with db.engine.connect() as conn:
            if not inspect(conn).has_table(LINEAGE_TABLE):
                return {}
            rows = conn.execute(text(f"SELECT head, revision FROM {LINEAGE_TABLE}")).all()
        found: dict[str, set[str]] = {}
        for head, revision in rows:
            found.setdefault(head, set()).add(revision)
        return found

    assert lineage() == {newest.head: newest.ancestors}
    previous = sorted(newest.ancestors - {newest.head})[-1]
    db.session.remove()
    downgrade(revision=previous)
    assert newest.head not in lineage()
    upgrade()
    assert lineage() == {newest.head: newest.ancestors}


def _schema() -> dict[str, dict[str, dict[str, Any]]]:
    db.session.remove()
    found = inspect(db.engine)
    return {
        table: {c["name"]: c for c in found.get_columns(table)}
        for table in found.get_table_names()
        if table != "alembic_version"
    }


# A contract migration (dropping what the release before it stopped using) names here, per
# revision, the "table" or "table.column" it removes; nothing else may disappear.
CONTRACTS: dict[str, set[str]] = {}


@pytest.mark.slow
def test_the_newest_migration_only_expands(app, tmp_path):
    """What the previous release reads and writes survives the newest migration."""
    from flask_migrate import downgrade, upgrade

    previous, head = _previous_release(tmp_path)
    db.session.remove()
    downgrade(revision=previous.head)
    before = _schema()
    upgrade()
    after = _schema()
    allowed = CONTRACTS.get(head, set())
    for table, columns in before.items():
        if table in allowed:
            continue
        assert table in after, f"migration {head} drops table {table}"
        for name, column in columns.items():
            if f"{table}.{name}" in allowed:
                continue
            assert name in after[table], f"migration {head} drops {table}.{name}"
            if column["nullable"]:
                assert after[table][name]["nullable"], f"{head} makes {table}.{name} required"
        for name, column in after[table].items():
            if name not in columns and not column["nullable"]:
                assert column.get("default") is not None or column.get("autoincrement") is True, (
                    f"migration {head} adds required {table}.{name} without a server default: "
                    "the previous release's inserts would fail"
                )
