"""`flask catalogue load`: load the intake catalogue, units and care tags from the data files."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from server.exceptions import WanggeError
from server.extensions import db


@click.group("catalogue", help="The intake catalogue (7/36 affairs, 8/112 services).")
def catalogue_cli() -> None:
    """Group of catalogue commands."""


@catalogue_cli.command("load")
@click.option(
    "--file",
    "path",
    type=click.Path(path_type=Path, dir_okay=False),
    # loading.DATA_FILE, spelled out: importing loading (pypinyin) costs ~0.25 s per start.
    default=Path(__file__).parent / "data" / "catalogue.toml",
    show_default=True,
)
@click.option("--update", is_flag=True, help="Also overwrite rows that differ from the file.")
@with_appcontext
def load(path: Path, update: bool) -> None:
    """Insert what is missing (and with --update refresh what changed)."""
    from server.catalogue import loading

    try:
        report = loading.load_catalogue(db.session, loading.read_toml(path), update=update)
        tags = loading.load_care_tags(
            db.session, loading.read_toml(loading.CARE_TAGS_FILE), update=update
        )
    except (WanggeError, KeyError, ValueError) as error:
        db.session.rollback()
        message = error.message if isinstance(error, WanggeError) else repr(error)
        raise click.ClickException(f"catalogue not loaded: {message}") from None
    db.session.commit()
    click.echo(f"catalogue: {report.summary()}; care tags: {tags.summary()}")
