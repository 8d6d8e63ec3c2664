"""Rating requests (one-time codes), ratings, and periodic staff evaluations."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.db import Base, utcnow


class RatingRequest(Base):
    """A link with a one-time code sent to the resident; only the code's SHA-256 is kept."""

    __tablename__ = "rating_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class CaseRating(Base):
    """The resident's rating of a closed case (1–5 and a comment): one per case."""

    __tablename__ = "case_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), unique=True)
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    #: `resident` (through the link) or `worker` (recorded on the resident's behalf).
    source: Mapped[str] = mapped_column(String(16))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class StaffEvaluation(Base):
    """逐级评议: a superior scores a member of staff (or a unit) for a period, 0–100."""

    __tablename__ = "staff_evaluations"
    __table_args__ = (Index("ix_staff_evaluations_period", "period_start", "period_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    subject_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The level the evaluator answers for (street, residential_area, block …).
    level: Mapped[str] = mapped_column(String(32))
    score: Mapped[float]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
