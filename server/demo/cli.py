"""`flask demo load`: build the Xinhua demo district (idempotent) and print its accounts."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from server.extensions import db


@click.group("demo", help="The demo district of Xinhua subdistrict.")
def demo_cli() -> None:
    """Group of demo commands."""


@demo_cli.command("load")
@with_appcontext
def load() -> None:
    """Load the demo district once; running it again changes nothing."""
    from server.demo.loader import load_demo
    from server.demo.staff import DEMO_PASSWORD

    result = load_demo(db.session)
    db.session.commit()
    if result.loaded:
        counts = ", ".join(f"{v} {k}" for k, v in result.counts.items())
        click.echo(f"demo district loaded: {counts}")
    else:
        click.echo("demo district already loaded: nothing changed")
    click.echo(f"demo accounts (password for all: {DEMO_PASSWORD}):")
    for username, role, name in result.accounts:
        click.echo(f"  {username:<12} {role:<11} {name}")


@demo_cli.command("files")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--today", default="2026-11-26", show_default=True, help="Duties start a year before."
)
def files_command(folder: Path, today: str) -> None:
    """Write the demo's register, address, staff and unit files (docs/samples/) into FOLDER."""
    import datetime as dt

    from server.demo.district import build_district
    from server.demo.files import all_samples

    folder.mkdir(parents=True, exist_ok=True)
    for name, data in all_samples(build_district(), dt.date.fromisoformat(today)).items():
        (folder / name).write_bytes(data)
        click.echo(f"wrote {folder / name} ({len(data):,} bytes)")
