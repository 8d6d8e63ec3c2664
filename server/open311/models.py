"""Partner systems allowed to file requests, and what each Open311 request brought along."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from sync.db import Base, utcnow


class ApiPartner(Base):
    """A system (a 12345 platform, a FixMyStreet-style app) holding an Open311 `api_key`.

    Only the key's SHA-256 is kept: the CLI prints the key once. Keys are 32 random bytes, so
    a plain hash (no slow KDF) is enough to make a stolen table useless.
    """

    __tablename__ = "api_partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the key, so staff can tell keys apart without the secret.
    key_prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class Open311Request(Base):
    """The Open311 side of a case filed by a partner: its token and the answered questions."""

    __tablename__ = "open311_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("api_partners.id"), index=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    #: `attribute[code]` answers, validated against the item's questions.
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    media_url: Mapped[str | None] = mapped_column(String(500))
    account_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
