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


@dataclass(frozen=True)
class ThrottlePolicy:
    window_s: int
    max_per_user: int
    max_per_ip: int


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
    void_reset_links(session, user.id, at=utcnow())
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
    session: Session, *, username: str, password: str, ip: str, policy: ThrottlePolicy
) -> User:
    """Check a username and password, with throttling of repeated failures.

    Raises Throttled before checking anything once the window's failures are used up,
    and AuthenticationFailed (the same message for unknown user and wrong password).
    """
    name = username.strip().lower()[:64]
    now = utcnow()
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
    per_ip = session.scalar(
        select(func.count()).where(LoginAttempt.ip == ip, LoginAttempt.at >= since)
    )
    if (per_user or 0) >= policy.max_per_user or (per_ip or 0) >= policy.max_per_ip:
        raise Throttled(
            _l("Too many failed logins. Try again in %(m)d minutes.", m=policy.window_s // 60),
            retry_after_s=policy.window_s,
        )


def token_digest(token: str) -> str:
    """Tokens are 256-bit random, so a plain SHA-256 is a safe way to store them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_device_token(
    session: Session, user: User, *, device_id: uuid.UUID, device_name: str
) -> tuple[str, Device]:
    """Bind the device to the user (first login) and return a new bearer token for it."""
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
    device.last_seen_at = utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(device=device, token_sha256=token_digest(token), prefix=token[:10]))
    session.flush()
    return token, device


def resolve_token(session: Session, token: str) -> tuple[User, Device, ApiToken] | None:
    """Return (user, device, token row) for a live token, else None. Touches last-seen times."""
    row = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_sha256 == token_digest(token))
        .options(joinedload(ApiToken.device).joinedload(Device.user))
    )
    if row is None or row.revoked_at is not None:
        return None
    device = row.device
    user = device.user
    if device.revoked_at is not None or not user.is_active:
        return None
    now = utcnow()
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
