"""`flask backup DEST` and `flask restore SRC`: see docs/operations.md."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from server.extensions import db
from server.ops import backup as backups
from server.photos.storage import blob_store


def _target() -> backups.Target:
    config = current_app.config
    url = config["SQLALCHEMY_DATABASE_URI"]
    if config.get("BLOB_STORE", "disk") == "disk":
        return backups.Target(url, Path(config["PHOTO_DIR"]))
    return backups.Target(url, None, blob_store(current_app))


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--since",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="An earlier backup: photos it holds are copied from it (reflinked where the filesystem "
    "can), not fetched again; each backup restores on its own.",
)
@click.option(
    "--allow-missing",
    is_flag=True,
    help="Succeed even if photos the database names are missing or damaged in the store.",
)
@with_appcontext
def backup_command(dest: Path, since: Path | None, allow_missing: bool) -> None:
    """Back up the database and the photo store (disk or S3) into DEST (new or empty), online."""
    try:
        manifest = backups.backup(_target(), dest, since=since, allow_missing=allow_missing)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    rows = sum(manifest["database"]["counts"].values())
    photos = manifest["photos"]
    click.echo(
        f"backup of revision {manifest['database']['revision']}: {rows} rows, "
        f"{photos['files']} photo files ({photos['store']} store"
        + (f", {photos['linked']} linked from {since}" if since else "")
        + f"), {manifest['bytes']} bytes in {dest}"
    )
    if photos["missing"] or photos["damaged"]:
        click.echo(
            f"warning: {len(photos['missing'])} photo blobs missing from the store, "
            f"{len(photos['damaged'])} damaged (listed in {dest / backups.MANIFEST})",
            err=True,
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
    restored = manifest["restored"]
    click.echo(
        f"restored and verified {len(manifest['files'])} files "
        f"({restored['photos_copied']} photo blobs copied, {restored['photos_kept']} already "
        f"there), revision {manifest['database']['revision']}, started {manifest['started_at']}"
    )
