"""Shared fixtures: real databases (SQLite files, PostgreSQL), the app, and a network guard."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.globals import _cv_app
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from server import create_app
from tests.browser import (  # noqa: F401  (shared browser fixtures)
    add_screenshot_option,
    browser,
    playwright,
    screenshot,
    screenshot_dir,
)
from tests.live import CuttingProxy, LiveServer

PG_URL_ENV = "WANGGE_TEST_POSTGRES_URL"
IN_CI = os.environ.get("CI", "").lower() == "true"

# Property tests judge what is generated, not how fast a shared machine generates it: no
# per-example deadline and no "input generation is slow" failure (a loaded CI machine
# tripped it). Tests that set their own settings inherit these.
settings.register_profile("wangge", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("wangge")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_screenshot_option(parser)


# --- network guard -----------------------------------------------------------------------

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if (
        self.family in (socket.AF_INET, socket.AF_INET6)
        and host
        not in (
            "127.0.0.1",
            "::1",
            "localhost",
        )
        and not str(host).startswith("127.")
    ):
        raise RuntimeError(f"test tried to reach {address!r}: only loopback is allowed")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_outbound_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


# --- databases ---------------------------------------------------------------------------


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "test"}
    )
    with app.app_context():
        upgrade()
        from server.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once; each test gets a copy (fast and fully isolated)."""
    base = tmp_path_factory.mktemp("sqlite-template")
    path = base / "template.db"
    _migrate(f"sqlite:///{path}", base / "instance")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def postgres_admin_url() -> str | None:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        if IN_CI:
            pytest.fail(f"CI=true but {PG_URL_ENV} is not set: PostgreSQL tests cannot run")
        pytest.skip(f"{PG_URL_ENV} not set: PostgreSQL tests skipped")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {url} is unreachable in CI: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def postgres_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    admin_url = postgres_admin_url()
    assert admin_url
    name = f"wangge_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    _migrate(url, tmp_path_factory.mktemp("pg-instance"))
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _truncate_all(url: str) -> None:
    from sync.db import metadata

    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t.name != "sync_clock")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        conn.exec_driver_sql("UPDATE sync_clock SET version = 0")
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a copied SQLite file or the session's PostgreSQL database."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "wangge.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_database")
        yield url
        _truncate_all(url)


# --- an S3-compatible server --------------------------------------------------------------


def _require(module: str) -> Any:
    """Import `module`, or skip the test (fail it under CI: a missing dependency is a bug)."""
    if IN_CI:
        import importlib

        try:
            return importlib.import_module(module)
        except ImportError as error:
            pytest.fail(f"CI=true but {module} cannot be imported: {error}")
    return pytest.importorskip(module)


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto) on 127.0.0.1, for the whole session."""
    _require("boto3")
    server_module = _require("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


# --- the app -----------------------------------------------------------------------------


class IsolatedClient(FlaskClient):
    """A test client whose requests each get a fresh app context, as in production.

    Tests hold an app context open for database work; Flask would reuse it for requests,
    and with it `g` (where Flask-Login and Flask-Babel cache the user and the locale).
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        token = _cv_app.set(None)  # type: ignore[arg-type]
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps on the test's database; extra config as keyword overrides."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        config = {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "test-secret",
            "SERVER_NAME": "localhost",
        }
        config.update(overrides)
        app = create_app(config)
        app.test_client_class = IsolatedClient
        built.append(app)
        return app

    yield build
    from server.extensions import db

    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db_session(app: Flask) -> Any:
    from server.extensions import db

    return db.session


# --- a real server process ---------------------------------------------------------------


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """`gunicorn wsgi:app` on a free 127.0.0.1 port, on this test's database (tests/live.py)."""
    server = LiveServer(database_url, tmp_path / "live-instance")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cutting_proxy(live_server: LiveServer) -> Iterator[CuttingProxy]:
    """A loopback proxy in front of `live_server` that cuts, drops or corrupts on request."""
    proxy = CuttingProxy(live_server.port)
    yield proxy
    proxy.close()
