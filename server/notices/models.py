"""The notices table."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync.db import Base, utcnow


class Notice(Base):
    """One message to one user, e.g. "case XH-… is overdue and escalated to you"."""

    __tablename__ = "notices"
    __table_args__ = (
        # Escalation runs from cron and on every queue load: one notice per case, kind, person (a
        # higher level raises the notice in place: server.notices.operations.notify).
        UniqueConstraint("user_id", "case_id", "kind", "level"),
        Index("ix_notices_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))  # escalated | …
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    level: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]
