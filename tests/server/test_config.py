"""Configuration: defaults, WANGGE_* variables, the instance secret key, SQLite pragmas."""

from __future__ import annotations

import os
import stat

from sqlalchemy import text

from server import create_app
from server.extensions import db


def test_defaults_are_sqlite_and_photos_under_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("WANGGE_SQLALCHEMY_DATABASE_URI", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'wangge.db'}"
    assert app.config["PHOTO_DIR"] == str(tmp_path / "photos")
    with app.app_context():
        db.engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_on(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        db.engine.dispose()


def test_a_missing_secret_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("WANGGE_SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_prefixed_environment_variables_configure_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("WANGGE_SECRET_KEY", "from-env")
    monkeypatch.setenv("WANGGE_NEAR_DISTANCE_M", "25")
    monkeypatch.setenv("WANGGE_PHOTO_DIR", str(tmp_path / "elsewhere"))
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["NEAR_DISTANCE_M"] == 25  # parsed as JSON: a number, not a string
    assert app.config["PHOTO_DIR"] == str(tmp_path / "elsewhere")
    assert not (tmp_path / "secret_key").exists()
