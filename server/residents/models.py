"""A resident's report (its private follow link), phone codes, and abuse counters."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from sync.db import Base, utcnow


class ResidentReport(Base):
    """The resident's side of a case filed online: only the follow token's SHA-256 is kept."""

    __tablename__ = "resident_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), unique=True)
    follow_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: The page's own id for this submission: a resend after a dropped connection (the
    #: offline queue) finds the case already filed instead of filing it twice.
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    phone_verified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PhoneCode(Base):
    """A one-time code sent to a phone (only when an SMS channel is configured)."""

    __tablename__ = "phone_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)
    code_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[dt.datetime | None]


class RateCounter(Base):
    """Hits per key (`ip:…`, `phone:…`) per fixed window: the public forms' abuse limits."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
