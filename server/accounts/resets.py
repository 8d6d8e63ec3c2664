"""One-time password-reset links: issue them, look them up, use them (docs/security.md).

A link carries a 256-bit random token; only its SHA-256 is stored, so a copy of the
database cannot be turned into working links. A user has at most one live link: issuing
a new one voids the older unused ones. Using a link sets the password, ends every session
(`session_epoch`) and revokes every device token, in one transaction with its audit entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from server.accounts.models import LoginAttempt, PasswordReset, User
from server.accounts.operations import (
    revoke_all_tokens,
    token_digest,
    validate_password,
    void_reset_links,
)
from server.accounts.passwords import hash_password
from server.audit.operations import AccessContext, record
from server.exceptions import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

CHANNELS = ("admin", "cli", "mail")
#: token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_TOKEN_CHARS = 128

_REASONS = {
    "unknown": _l(
        "This password reset link is not valid. Check that it was copied completely, "
        "or ask for a new one."
    ),
    "used": _l("This password reset link has already been used. Ask for a new one if needed."),
    "expired": _l("This password reset link has expired. Ask for a new one."),
    "voided": _l(
        "This password reset link was cancelled: a newer one was issued, or the password "
        "was changed or the account disabled since."
    ),
    "disabled": _l("This account is disabled. Please contact your administrator."),
}


class ResetLinkInvalid(NotFound):
    """The link cannot be used; `reason` is one of unknown, used, expired, voided, disabled."""

    code = "reset_link_invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(_REASONS[reason], details={"reason": reason})
        self.reason = reason


def issue_reset_link(
    session: Session,
    user: User,
    *,
    at: dt.datetime,
    lifetime: dt.timedelta,
    channel: str,
    context: AccessContext,
) -> str:
    """Void the user's unused links and return a new one's token (shown once, never stored).

    `context.actor_id` is the issuing administrator (None from the CLI or self-service).
    Raises Conflict for a disabled account: enable it first, then reset.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if not user.is_active:
        raise Conflict(
            _l("This account is disabled; enable it before resetting its password."),
            code="account_disabled",
        )
    void_reset_links(session, user.id, at=at)
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(
        user_id=user.id,
        token_sha256=token_digest(token),
        channel=channel,
        issued_by_id=context.actor_id,
        created_at=at,
        expires_at=at + lifetime,
    )
    session.add(reset)
    session.flush()
    record(
        session,
        context,
        action="reset_link_issued",
        subject_type="user",
        subject_id=user.id,
        detail={
            "reset_id": reset.id,
            "channel": channel,
            "expires_at": reset.expires_at.isoformat(),
        },
    )
    return token


def request_reset_by_mail(
    session: Session,
    username: str,
    *,
    at: dt.datetime,
    lifetime: dt.timedelta,
    max_per_hour: int,
    context: AccessContext,
) -> tuple[User, str] | None:
    """Self-service: a new link for an enabled user with an e-mail address, else None.

    The caller answers the same way either way (no enumeration), so every refusal here is
    silent: unknown, disabled, no address, or already `max_per_hour` mailed links in the last
    hour (counted in the database, like failed logins, so every server process agrees).
    """
    name = username.strip().lower()[:64]
    user = session.scalar(select(User).where(User.username == name)) if name else None
    if user is None or not user.is_active or not user.email:
        return None
    recent = session.scalar(
        select(func.count()).where(
            PasswordReset.user_id == user.id,
            PasswordReset.channel == "mail",
            PasswordReset.created_at >= at - dt.timedelta(hours=1),
        )
    )
    if (recent or 0) >= max_per_hour:
        log.warning("password reset mail for user %s refused: %d in the last hour", user.id, recent)
        return None
    token = issue_reset_link(
        session, user, at=at, lifetime=lifetime, channel="mail", context=context
    )
    return user, token


def find_reset(session: Session, token: str, *, at: dt.datetime) -> PasswordReset:
    """The live link for `token`; ResetLinkInvalid says why it cannot be used."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise ResetLinkInvalid("unknown")
    reset = session.scalar(
        select(PasswordReset).where(PasswordReset.token_sha256 == token_digest(token))
    )
    if reset is None:
        raise ResetLinkInvalid("unknown")
    if reset.used_at is not None:
        raise ResetLinkInvalid("used")
    if reset.voided_at is not None:
        raise ResetLinkInvalid("voided")
    if reset.expires_at <= at:
        raise ResetLinkInvalid("expired")
    user = session.get(User, reset.user_id)
    if user is None or not user.is_active:
        raise ResetLinkInvalid("disabled")
    return reset


def live_links(session: Session, *, at: dt.datetime) -> dict[int, PasswordReset]:
    """Each user's unused, unexpired link (for the administrators' list), by user id."""
    rows = session.scalars(
        select(PasswordReset).where(
            PasswordReset.used_at.is_(None),
            PasswordReset.voided_at.is_(None),
            PasswordReset.expires_at > at,
        )
    )
    return {row.user_id: row for row in rows}


def user_of(session: Session, reset: PasswordReset) -> User:
    user = session.get(User, reset.user_id)
    assert user is not None  # a foreign key
    return user


def complete_reset(
    session: Session,
    token: str,
    *,
    password: str,
    confirm: str,
    at: dt.datetime,
    context: AccessContext,
) -> User:
    """Use the link: new Argon2id hash, sessions ended, device tokens revoked, audited.

    Raises ResetLinkInvalid (nothing changed) or InvalidInput (the link stays usable).
    """
    reset = find_reset(session, token, at=at)
    if password != confirm:
        raise InvalidInput(_l("The two passwords are not the same."), field="confirm")
    validate_password(password)
    # Claim the link with one conditional UPDATE: of two requests racing with the same link
    # only one finds it unused, so a link can never set two passwords.
    claimed = session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.id == reset.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.voided_at.is_(None),
        )
        .values(used_at=at)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        raise ResetLinkInvalid("used")
    user = user_of(session, reset)
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    revoked = revoke_all_tokens(user, at=at)
    # A user locked out by failed guesses starts afresh with the password they just chose.
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == user.username))
    record(
        session,
        dataclasses.replace(context, actor_id=user.id),
        action="password_reset",
        subject_type="user",
        subject_id=user.id,
        fields=["password"],
        detail={
            "reset_id": reset.id,
            "channel": reset.channel,
            "issued_by_id": reset.issued_by_id,
            "device_tokens_revoked": revoked,
        },
    )
    return user
