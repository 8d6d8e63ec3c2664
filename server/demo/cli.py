"""`flask demo load`: build the Xinhua demo district (idempotent) and print its accounts."""

from __future__ import annotations

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
