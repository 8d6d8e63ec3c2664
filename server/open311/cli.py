"""`flask --app wsgi open311 partner-create NAME` / `partner-revoke NAME` / `partners`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

open311_cli = AppGroup("open311", help="Open311 partner systems and their API keys.")


@open311_cli.command("partner-create")
@click.argument("name")
def partner_create(name: str) -> None:
    """Register a partner system and print its api_key (shown this once only)."""
    from server import clock
    from server.exceptions import WanggeError
    from server.extensions import db
    from server.open311.operations import create_partner

    try:
        partner, key = create_partner(db.session, name, at=clock.now())
    except WanggeError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"partner {partner.name} (id {partner.id}); api_key, shown once:")
    click.echo(key)


@open311_cli.command("partner-revoke")
@click.argument("name")
def partner_revoke(name: str) -> None:
    """Revoke a partner's key: its next request gets 403."""
    from server import clock
    from server.exceptions import WanggeError
    from server.extensions import db
    from server.open311.operations import revoke_partner

    try:
        partner = revoke_partner(db.session, name, at=clock.now())
    except WanggeError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"partner {partner.name}: key {partner.key_prefix}… revoked")


@open311_cli.command("partners")
def partners() -> None:
    """List partners: name, key prefix, created, last used, revoked."""
    from sqlalchemy import select

    from server.extensions import db
    from server.open311.models import ApiPartner

    for p in db.session.scalars(select(ApiPartner).order_by(ApiPartner.name)):
        state = f"revoked {p.revoked_at:%Y-%m-%d}" if p.revoked_at else "active"
        click.echo(f"{p.name}\t{p.key_prefix}…\t{p.created_at:%Y-%m-%d}\t{state}")
