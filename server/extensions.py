"""Flask extensions, created unbound and bound in the factory."""

from __future__ import annotations

import sqlite3
from typing import Any

import click
from flask import Flask
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from sync.db import Base

db = SQLAlchemy(model_class=Base)


class LazyMigrate:
    """Flask-Migrate, imported only when a migration command runs.

    Importing flask_migrate imports Alembic (~0.2 s), which every worker start, test app and
    `flask` command paid for nothing. `init_app` registers a `db` command group and an
    `app.extensions["migrate"]` stand-in; the first use of either sets up the real one.
    """

    def __init__(self, **alembic_options: Any) -> None:
        self.alembic_options = alembic_options

    def init_app(self, app: Flask, db: SQLAlchemy, directory: str) -> None:
        app.extensions["migrate"] = _PendingMigrate(app, db, directory, self.alembic_options)
        app.cli.add_command(_LazyDbGroup("db", help="Database migrations (Flask-Migrate)."))


class _PendingMigrate:
    def __init__(self, app: Flask, db: SQLAlchemy, directory: str, options: dict[str, Any]):
        self._setup = (app, db, directory, options)

    def __getattr__(self, name: str) -> Any:
        from flask_migrate import Migrate

        app, db, directory, options = self._setup
        Migrate(app, db, directory=directory, **options)  # replaces this stand-in
        return getattr(app.extensions["migrate"], name)


class _LazyDbGroup(click.Group):
    """`flask db …`: Flask-Migrate's own group, imported when a `db` command runs.

    Its options (-d, -x), its callback (which sets `g.directory`) and its commands are all
    taken from the real group at that moment; it reaches the real Flask-Migrate through
    `app.extensions["migrate"]`.
    """

    @staticmethod
    def _real() -> click.Group:
        from flask_migrate.cli import db as db_group

        return db_group

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return self._real().get_params(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        return self._real().invoke(ctx)


migrate = LazyMigrate(render_as_batch=True, compare_type=True)
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL so readers never block the writer; foreign keys on; wait instead of failing on locks."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
