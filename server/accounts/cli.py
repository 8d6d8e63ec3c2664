"""`flask users …`: create, list, disable and re-enable accounts, set passwords, reset links."""

from __future__ import annotations

import datetime as dt
import sys
import uuid

import click
from flask import current_app, url_for
from flask.cli import with_appcontext

from server import clock
from server.accounts import operations as accounts
from server.accounts import resets
from server.audit.operations import AccessContext
from server.enums import Role
from server.exceptions import WanggeError
from server.extensions import db


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.UsageError("no password on standard input")
        return password
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _fail(error: WanggeError) -> None:
    db.session.rollback()
    where = f" ({error.field})" if error.field else ""
    raise click.ClickException(f"{error.message} [{error.code}{where}]")


@click.group("users", help="Manage user accounts.")
def users_cli() -> None:
    """Group of account commands."""


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--display-name", default=None, help="Name shown in the UI (e.g. 张三).")
@click.option("--phone", default=None)
@click.option("--email", default=None, help="Where self-service password-reset links go.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create(
    username: str,
    role: str,
    display_name: str | None,
    phone: str | None,
    email: str | None,
    password_stdin: bool,
) -> None:
    """Create USERNAME with ROLE; the password comes from a prompt or standard input."""
    password = _read_password(password_stdin)
    try:
        user = accounts.create_user(
            db.session,
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            phone=phone,
            email=email,
        )
    except WanggeError as error:
        _fail(error)
        return
    db.session.commit()
    click.echo(f"created {user.username} ({user.role})")


@users_cli.command("list")
@with_appcontext
def list_users() -> None:
    """List every account with its role and state."""
    for user in accounts.list_users(db.session):
        state = "active" if user.is_active else "disabled"
        click.echo(f"{user.username:<20} {user.role:<11} {state:<9} {user.display_name}")


@users_cli.command("disable")
@click.argument("username")
@with_appcontext
def disable(username: str) -> None:
    """Disable USERNAME: sessions end and device tokens are revoked."""
    try:
        user = accounts.set_active(db.session, username, False)
    except WanggeError as error:
        _fail(error)
        return
    db.session.commit()
    click.echo(f"disabled {user.username}")


@users_cli.command("enable")
@click.argument("username")
@with_appcontext
def enable(username: str) -> None:
    """Re-enable USERNAME (devices must sign in again)."""
    try:
        user = accounts.set_active(db.session, username, True)
    except WanggeError as error:
        _fail(error)
        return
    db.session.commit()
    click.echo(f"enabled {user.username}")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True)
@with_appcontext
def set_password(username: str, password_stdin: bool) -> None:
    """Set USERNAME's password (ends their sessions)."""
    password = _read_password(password_stdin)
    try:
        user = accounts.set_password(db.session, username, password)
    except WanggeError as error:
        _fail(error)
        return
    db.session.commit()
    click.echo(f"password changed for {user.username}")


@users_cli.command("set-email")
@click.argument("username")
@click.argument("email")
@with_appcontext
def set_email(username: str, email: str) -> None:
    """Set USERNAME's e-mail address for reset links ("" removes it)."""
    try:
        user = accounts.set_email(db.session, username, email)
    except WanggeError as error:
        _fail(error)
        return
    db.session.commit()
    click.echo(f"e-mail of {user.username}: {user.email or '(none)'}")


@users_cli.command("reset-link")
@click.argument("username")
@click.option(
    "--hours",
    type=click.IntRange(1, 24 * 14),
    default=None,
    help="How long the link works (default: WANGGE_PASSWORD_RESET_HOURS, 24).",
)
@with_appcontext
def reset_link(username: str, hours: int | None) -> None:
    """Print a one-time link for USERNAME to set a new password (older links stop working)."""
    lifetime = dt.timedelta(hours=hours or int(current_app.config["PASSWORD_RESET_HOURS"]))
    now = clock.now()
    try:
        user = accounts.get_user(db.session, username)
        token = resets.issue_reset_link(
            db.session,
            user,
            at=now,
            lifetime=lifetime,
            channel="cli",
            context=AccessContext(actor_id=None),
        )
    except WanggeError as error:
        _fail(error)
        return
    db.session.commit()
    public = current_app.config.get("PUBLIC_URL")
    with current_app.test_request_context():  # url_for needs a request (script root)
        path = url_for("password_reset.reset", token=token)
    click.echo(str(public).rstrip("/") + path if public else path)
    expires = (now + lifetime).isoformat(timespec="minutes")
    click.echo(f"valid once, until {expires} (UTC), for {user.username}", err=True)
    if not public:
        click.echo("prefix the path with the server's address (or set WANGGE_PUBLIC_URL)", err=True)


@users_cli.command("devices")
@click.argument("username")
@with_appcontext
def devices(username: str) -> None:
    """List USERNAME's devices with last-seen times and state."""
    try:
        user = accounts.get_user(db.session, username)
    except WanggeError as error:
        _fail(error)
        return
    for device in sorted(user.devices, key=lambda d: d.created_at):
        seen = device.last_seen_at.isoformat(timespec="minutes") if device.last_seen_at else "-"
        state = "revoked" if device.revoked_at else "active"
        click.echo(f"{device.id}  {state:<8} last seen {seen:<25} {device.name}")


@users_cli.command("revoke-device")
@click.argument("device_id", type=click.UUID)
@with_appcontext
def revoke_device(device_id: uuid.UUID) -> None:
    """Revoke a lost or stolen device: its tokens stop working at once."""
    try:
        device = accounts.revoke_device(db.session, device_id)
    except WanggeError as error:
        _fail(error)
        return
    db.session.commit()
    click.echo(f"revoked device {device.id} ({device.name})")
