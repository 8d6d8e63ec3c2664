"""Users, devices, API tokens, login attempts and password-reset links."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.enums import Role, enum_column_type
from sync.db import Base, utcnow


class User(Base):
    """Anyone who signs in: grid workers, dispatchers, GIS staff, managers, admins."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    #: Where self-service password-reset links go (docs/security.md); optional.
    email: Mapped[str | None] = mapped_column(String(254))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]
    #: Bumped when the password changes or the account is disabled: old sessions die.
    session_epoch: Mapped[int] = mapped_column(default=0)

    devices: Mapped[list[Device]] = relationship(back_populates="user")

    # Flask-Login's protocol, kept here so the model needs no Flask import.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class Device(Base):
    """One install of the worker app; its id is minted on the phone."""

    __tablename__ = "devices"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="devices")
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="device")


class ApiToken(Base):
    """A bearer token for one device. Only its SHA-256 is stored; the token itself is shown once.

    Tokens live for hours and are renewed without a password (rotation: the renewed token is
    revoked and names its successor); the chain started by one password sign-in ends
    `TOKEN_ABSOLUTE_DAYS` after `signed_in_at` (docs/security.md, "Device tokens").
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: First characters of the token, to tell tokens apart in lists without revealing them.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    #: The token stops working then; it may still be renewed for a grace period after.
    expires_at: Mapped[dt.datetime]
    #: When the password sign-in that began this chain of renewals happened.
    signed_in_at: Mapped[dt.datetime]
    #: The user's session epoch when the chain began: a password change ends renewal.
    session_epoch: Mapped[int] = mapped_column(default=0)
    #: Set when this token was exchanged for `successor_id` (it is revoked at the same time).
    renewed_at: Mapped[dt.datetime | None]
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))

    device: Mapped[Device] = relationship(back_populates="tokens")


class LoginAttempt(Base):
    """Failed logins, counted per username and per address to throttle guessing.

    Kept in the database (not process memory) so every server process sees the same count.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PasswordReset(Base):
    """A one-time link to set a new password. Only the token's SHA-256 is stored.

    At most one is live per user: issuing a new one voids the older unused ones.
    """

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: How it was asked for: "admin" (back office), "cli" or "mail" (self-service).
    channel: Mapped[str] = mapped_column(String(16))
    #: The administrator who issued it; None from the CLI or self-service.
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    #: Set when a newer link was issued for the same user before this one was used.
    voided_at: Mapped[dt.datetime | None]
