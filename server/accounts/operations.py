"""Everything that changes accounts: users, logins, devices and tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, joinedload

from server.accounts.models import ApiToken, Device, LoginAttempt, PasswordReset, User
from server.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    NO_PASSWORD,
    hash_password,
    needs_rehash,
    verify_password,
)
from server.enums import Role
from server.exceptions import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Throttled,
)
from sync.db import utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
#: One "@", no spaces, a dot in the domain: enough to catch typos; the mail server decides.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
TOKEN_PREFIX = "wg_"
#: A device's last-seen time is written at most this often (saves a write per request).
TOUCH_EVERY = dt.timedelta(minutes=1)


#: What a failed renewal (an unknown token) is counted under in `login_attempts`: not a
#: username anyone can have (USERNAME_RE), so only the per-address count sees it.
RENEWAL_ATTEMPT = "#token"


@dataclass(frozen=True)
class ThrottlePolicy:
    window_s: int
    max_per_user: int
    max_per_ip: int


@dataclass(frozen=True)
class TokenPolicy:
    """How long device tokens live and may be renewed (settings TOKEN_*, docs/security.md)."""

    lifetime: dt.timedelta = dt.timedelta(hours=24)
    renew_grace: dt.timedelta = dt.timedelta(days=7)
    absolute: dt.timedelta = dt.timedelta(days=30)
    retry: dt.timedelta = dt.timedelta(minutes=5)


class RenewalRefused(AuthenticationFailed):
    """The token cannot be renewed; the device must sign in with the password.

    `code` says why: token_unknown, token_revoked, token_expired, token_reused,
    password_changed, account_disabled, token_rotated (a concurrent renewal won).
    """


def validate_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise InvalidInput(
            _l("A username is 2–32 characters: lower-case letters, digits, '.', '_' or '-'."),
            field="username",
        )
    return name


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _l("A password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )


def validate_email(email: str | None) -> str | None:
    """An address as stored (trimmed), or None for "no address"; InvalidInput if malformed."""
    address = (email or "").strip()
    if not address:
        return None
    if len(address) > 254 or not EMAIL_RE.match(address):
        raise InvalidInput(_l("This is not an e-mail address."), field="email")
    return address


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(
            _l("Unknown role; use one of: %(roles)s.", roles=", ".join(r.value for r in Role)),
            field="role",
        ) from None


def create_user(
    session: Session,
    *,
    username: str,
    password: str | None,
    role: str,
    display_name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> User:
    """Create an account. Raises InvalidInput or Conflict and then changes nothing.

    ``password`` None: the account has no password until its owner follows a reset link.
    """
    name = validate_username(username)
    if password is not None:
        validate_password(password)
    address = validate_email(email)
    user_role = parse_role(role)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(_l("The username %(name)s is taken.", name=name), field="username")
    user = User(
        username=name,
        display_name=(display_name or name).strip()[:100],
        role=user_role,
        password_hash=hash_password(password) if password is not None else NO_PASSWORD,
        phone=phone,
        email=address,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(_l("No user named %(name)s.", name=username), field="username")
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    """Disable or re-enable an account. Disabling ends its sessions and revokes its tokens."""
    user = get_user(session, username)
    user.is_active = active
    if not active:
        user.session_epoch += 1
        now = utcnow()
        void_reset_links(session, user.id, at=now)
        for device in user.devices:
            for token in device.tokens:
                token.revoked_at = token.revoked_at or now
    return user


def set_email(session: Session, username: str, email: str | None) -> User:
    """Set (or, with an empty value, remove) where the user's reset links are mailed."""
    address = validate_email(email)
    user = get_user(session, username)
    user.email = address
    return user


def revoke_all_tokens(user: User, *, at: dt.datetime) -> int:
    """Revoke every live API token of the user's devices (they must sign in again).

    Devices stay registered, so the same phone can sign in with the new password.
    Returns how many tokens were live.
    """
    revoked = 0
    for device in user.devices:
        for token in device.tokens:
            if token.revoked_at is None:
                token.revoked_at = at
                revoked += 1
    return revoked


def set_password(session: Session, username: str, password: str) -> User:
    """Set a new password: ends the user's sessions and cancels their unused reset links."""
    validate_password(password)
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    now = utcnow()
    void_reset_links(session, user.id, at=now)
    revoke_all_tokens(user, at=now)  # as a reset link does: devices sign in with the new one
    return user


def void_reset_links(session: Session, user_id: int, *, at: dt.datetime) -> None:
    """Cancel every unused password reset link of the user (a newer one, a new password,
    a disabled account)."""
    session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.user_id == user_id,
            PasswordReset.used_at.is_(None),
            PasswordReset.voided_at.is_(None),
        )
        .values(voided_at=at)
        .execution_options(synchronize_session=False)
    )


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    ip: str,
    policy: ThrottlePolicy,
    at: dt.datetime | None = None,
) -> User:
    """Check a username and password, with throttling of repeated failures.

    Raises Throttled before checking anything once the window's failures are used up,
    and AuthenticationFailed (the same message for unknown user and wrong password).
    """
    name = username.strip().lower()[:64]
    now = at or utcnow()
    since = now - dt.timedelta(seconds=policy.window_s)
    _check_throttle(session, name, ip, since, policy)
    user = session.scalar(select(User).where(User.username == name))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        session.add(LoginAttempt(username=name, ip=ip, at=now))
        raise AuthenticationFailed(_l("Wrong username or password, or the account is disabled."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == name))
    user.last_login_at = now
    return user


def _check_throttle(
    session: Session, name: str, ip: str, since: dt.datetime, policy: ThrottlePolicy
) -> None:
    per_user = session.scalar(
        select(func.count()).where(LoginAttempt.username == name, LoginAttempt.at >= since)
    )
    if (per_user or 0) >= policy.max_per_user:
        raise _throttled(policy)
    _check_address_throttle(session, ip, since, policy)


def _check_address_throttle(
    session: Session, ip: str, since: dt.datetime, policy: ThrottlePolicy
) -> None:
    """Failed password sign-ins and failed renewals from this address share one budget."""
    per_ip = session.scalar(
        select(func.count()).where(LoginAttempt.ip == ip[:64], LoginAttempt.at >= since)
    )
    if (per_ip or 0) >= policy.max_per_ip:
        raise _throttled(policy)


def _throttled(policy: ThrottlePolicy) -> Throttled:
    return Throttled(
        _l("Too many failed logins. Try again in %(m)d minutes.", m=policy.window_s // 60),
        retry_after_s=policy.window_s,
    )


def token_digest(token: str) -> str:
    """Tokens are 256-bit random, so a plain SHA-256 is a safe way to store them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_device_token(
    session: Session,
    user: User,
    *,
    device_id: uuid.UUID,
    device_name: str,
    policy: TokenPolicy | None = None,
    at: dt.datetime | None = None,
) -> tuple[str, Device]:
    """Bind the device to the user (first login) and return a new bearer token for it.

    Called after a password sign-in: the token begins a new chain of renewals.
    """
    now = at or utcnow()
    device = session.get(Device, device_id)
    if device is None:
        device = Device(id=device_id, user_id=user.id, name=device_name.strip()[:100] or "?")
        session.add(device)
    elif device.user_id != user.id:
        raise Conflict(
            _l("This device is registered to another user; sign out there first."),
            code="device_owned_by_another_user",
            field="device_id",
        )
    elif device.revoked_at is not None:
        raise PermissionDenied(
            _l("This device was revoked; the app will start afresh with a new device id."),
            code="device_revoked",
            field="device_id",
        )
    device.name = device_name.strip()[:100] or device.name
    device.last_seen_at = now
    token, _ = _new_token(
        session, device, policy or TokenPolicy(), at=now, signed_in_at=now,
        session_epoch=user.session_epoch,
    )  # fmt: skip
    return token, device


def token_expiry(policy: TokenPolicy, *, at: dt.datetime, signed_in_at: dt.datetime) -> dt.datetime:
    """When a token made `at`, in a chain begun by the password at `signed_in_at`, stops working."""
    return min(at + policy.lifetime, signed_in_at + policy.absolute)


def _new_token(
    session: Session,
    device: Device,
    policy: TokenPolicy,
    *,
    at: dt.datetime,
    signed_in_at: dt.datetime,
    session_epoch: int,
) -> tuple[str, ApiToken]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        device=device,
        token_sha256=token_digest(token),
        prefix=token[:10],
        created_at=at,
        expires_at=token_expiry(policy, at=at, signed_in_at=signed_in_at),
        signed_in_at=signed_in_at,
        session_epoch=session_epoch,
    )
    session.add(row)
    session.flush()
    return token, row


@dataclass(frozen=True)
class Renewed:
    token: str
    row: ApiToken
    device: Device
    user: User


def renew_token(
    session: Session,
    token: str,
    *,
    ip: str,
    at: dt.datetime,
    policy: TokenPolicy,
    throttle: ThrottlePolicy,
) -> Renewed:
    """Exchange a device token for a new one without a password (rotation).

    Cost: a count of this address's failures, one lookup by the token's SHA-256 (both
    indexed), an UPDATE that claims the old token and an INSERT; no Argon2.

    The old token is revoked at once. Presenting it again is reuse (a copy is in other
    hands, or ours was copied): every live token of the device is revoked — unless the new
    token was never used and the renewal is at most `policy.retry` old, which is the app
    retrying after an answer lost on the way (the unused new token is revoked instead).
    Refused (RenewalRefused, all 401): unknown token (counted against the address like a
    failed login, so a flood of guesses meets the same Throttled), revoked token or device,
    disabled account, password changed since the chain began, more than `renew_grace`
    past expiry, or `absolute` after the password sign-in.
    The caller commits even when this raises: the failure count and a reuse's revocations
    must stay.
    """
    _check_address_throttle(session, ip, at - dt.timedelta(seconds=throttle.window_s), throttle)
    row = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_sha256 == token_digest(token))
        .options(joinedload(ApiToken.device).joinedload(Device.user))
    )
    if row is None:
        session.add(LoginAttempt(username=RENEWAL_ATTEMPT, ip=ip[:64], at=at))
        raise RenewalRefused(_l("This sign-in is not known; sign in again."), code="token_unknown")
    device, user = row.device, row.device.user
    if row.renewed_at is not None:
        _retry_or_reuse(session, row, at=at, policy=policy)
    elif row.revoked_at is not None:
        raise _refused("token_revoked")
    if device.revoked_at is not None:
        raise _refused("token_revoked")
    if not user.is_active:
        raise _refused("account_disabled")
    if row.session_epoch != user.session_epoch:
        raise _refused("password_changed")
    if at >= row.expires_at + policy.renew_grace or at >= row.signed_in_at + policy.absolute:
        raise _refused("token_expired")
    if row.renewed_at is None:
        # Claim the old token with one conditional UPDATE: of two renewals racing with it,
        # only one wins; the other is refused without counting as reuse.
        claimed = session.execute(
            update(ApiToken)
            .where(ApiToken.id == row.id, ApiToken.renewed_at.is_(None))
            .values(renewed_at=at, revoked_at=func.coalesce(ApiToken.revoked_at, at))
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            raise _refused("token_rotated")
    new, new_row = _new_token(
        session, device, policy, at=at, signed_in_at=row.signed_in_at,
        session_epoch=row.session_epoch,
    )  # fmt: skip
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == row.id)
        .values(successor_id=new_row.id)
        .execution_options(synchronize_session=False)
    )
    device.last_seen_at = at
    return Renewed(new, new_row, device, user)


def _retry_or_reuse(
    session: Session, row: ApiToken, *, at: dt.datetime, policy: TokenPolicy
) -> None:
    """A renewed token again: the app's retry (its successor unused, shortly after), else reuse."""
    assert row.renewed_at is not None
    if row.successor_id is not None and at - row.renewed_at <= policy.retry:
        retired = session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == row.successor_id,
                ApiToken.last_used_at.is_(None),
                ApiToken.renewed_at.is_(None),
                ApiToken.revoked_at.is_(None),
            )
            .values(revoked_at=at)
            .execution_options(synchronize_session=False)
        )
        if retired.rowcount:  # type: ignore[attr-defined]
            return
    session.execute(
        update(ApiToken)
        .where(ApiToken.device_id == row.device_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=at)
        .execution_options(synchronize_session=False)
    )
    raise _refused("token_reused")


_REFUSALS = {
    "token_revoked": _l("This device was signed out; sign in again."),
    "account_disabled": _l("Wrong username or password, or the account is disabled."),
    "password_changed": _l("The password was changed; sign in with the new one."),
    "token_expired": _l("Signed in too long ago; sign in again with your password."),
    "token_reused": _l("This sign-in was used twice; sign in again with your password."),
    "token_rotated": _l("This sign-in was just renewed elsewhere; sign in again."),
}


def _refused(code: str) -> RenewalRefused:
    return RenewalRefused(_REFUSALS[code], code=code)


def resolve_token(
    session: Session, token: str, *, at: dt.datetime | None = None
) -> tuple[User, Device, ApiToken] | None:
    """Return (user, device, token row) for a live, unexpired token, else None.

    Touches last-seen times (the first use of a renewed token is what ends the retry
    window of its predecessor: `renew_token`).
    """
    row = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_sha256 == token_digest(token))
        .options(joinedload(ApiToken.device).joinedload(Device.user))
    )
    now = at or utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    device = row.device
    user = device.user
    if device.revoked_at is not None or not user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
        device.last_seen_at = now
    return user, device, row


def revoke_token(session: Session, token_row: ApiToken) -> None:
    token_row.revoked_at = token_row.revoked_at or utcnow()


def revoke_device(session: Session, device_id: uuid.UUID) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(_l("No such device."), field="device_id")
    now = utcnow()
    device.revoked_at = device.revoked_at or now
    for token in device.tokens:
        token.revoked_at = token.revoked_at or now
    return device


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.username)))
