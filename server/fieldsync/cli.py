"""`flask sync prune`: forget scope exits older than the kept history."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from server.extensions import db


@click.group("sync", help="Offline sync housekeeping.")
def sync_cli() -> None:
    """Group of sync commands."""


@sync_cli.command("prune")
@click.option("--keep-days", type=click.IntRange(min=0), default=90, show_default=True)
@with_appcontext
def prune(keep_days: int) -> None:
    """Delete scope exits older than KEEP_DAYS; phones with older cursors then rebuild."""
    from sync.db import utcnow
    from sync.history import prune_history

    report = prune_history(db.session, older_than=utcnow() - dt.timedelta(days=keep_days))
    db.session.commit()
    click.echo(f"scope exits deleted: {report.exits_deleted}; history horizon: {report.horizon}")
