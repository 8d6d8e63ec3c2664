"""`flask backup DEST` and `flask restore SRC`: see docs/operations.md."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from server.extensions import db
from server.ops import backup as backups


def _target() -> backups.Target:
    config = current_app.config
    disk = config.get("BLOB_STORE", "disk") == "disk"
    return backups.Target(
        config["SQLALCHEMY_DATABASE_URI"], Path(config["PHOTO_DIR"]) if disk else None
    )


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(dest: Path) -> None:
    """Back up the database and the photo store into DEST (new or empty), while running."""
    try:
        manifest = backups.backup(_target(), dest)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    rows = sum(manifest["database"]["counts"].values())
    click.echo(
        f"backup of revision {manifest['database']['revision']}: {rows} rows, "
        f"{manifest['photos']['files']} photo files, {manifest['bytes']} bytes in {dest}"
    )


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an instance that already holds data.")
@with_appcontext
def restore_command(src: Path, force: bool) -> None:
    """Restore a backup made by `flask backup` into this (stopped, fresh) instance."""
    db.session.remove()
    db.engine.dispose()  # no pooled connection may outlive the file we replace
    try:
        manifest = backups.restore(src, _target(), force=force)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"restored and verified {len(manifest['files'])} files, revision "
        f"{manifest['database']['revision']}, started {manifest['started_at']}"
    )
