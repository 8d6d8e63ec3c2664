"""Rating requests (one-time codes), ratings, and periodic staff evaluations."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Float, ForeignKey, Index, String, Text
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


class DashboardDay(Base):
    """The dashboard's roll-up: one completed Shanghai day's counts for one group key.

    `dim` is what the key is: `cell` (the case's cell code; areas and the street are summed
    from cells through the grid tree at read time, so a new grid invalidates nothing),
    `worker` (assignee id) or `unit` (unit id); `key` is NULL for cases without one. Each
    count is anchored on its own time column's day (received on the report's day, due on the
    deadline's day …, see server/evaluation/rollup.py).
    """

    __tablename__ = "dashboard_days"
    __table_args__ = (Index("ix_dashboard_days_dim_day", "dim", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date]
    dim: Mapped[str] = mapped_column(String(8))
    key: Mapped[str | None] = mapped_column(String(64))
    reported: Mapped[int] = mapped_column(default=0)  # every report (the trend line)
    received: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[int] = mapped_column(default=0)
    due: Mapped[int] = mapped_column(default=0)
    #: Of the cases due that day, those closed at any time (a report subtracts the ones
    #: closed after its end, see `DashboardBuiltDay.last_closed_at`).
    closed: Mapped[int] = mapped_column(default=0)
    closed_on_time: Mapped[int] = mapped_column(default=0)
    postponed: Mapped[int] = mapped_column(default=0)
    urgent_due: Mapped[int] = mapped_column(default=0)
    urgent_closed: Mapped[int] = mapped_column(default=0)
    urgent_on_time: Mapped[int] = mapped_column(default=0)
    urgent_postponed: Mapped[int] = mapped_column(default=0)
    dispatch_n: Mapped[int] = mapped_column(default=0)
    dispatch_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    close_n: Mapped[int] = mapped_column(default=0)
    close_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    rework: Mapped[int] = mapped_column(default=0)
    rework_flagged: Mapped[int] = mapped_column(default=0)
    ratings: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)


class DashboardBuiltDay(Base):
    """A day whose `DashboardDay` rows are complete (unless a `DashboardDirtyDay` names it)."""

    __tablename__ = "dashboard_built_days"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    built_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: The latest closing of a case due that day: a report ending earlier corrects that day
    #: live (it must not count closings after its end).
    last_closed_at: Mapped[dt.datetime | None]


class DashboardDirtyDay(Base):
    """A day whose facts changed after it was rolled up: computed live until rebuilt.

    Appended by every flush that touches a case, a rework step or a rating of that day; the
    builder deletes exactly the marks it saw, so a mark committed during a build survives.
    """

    __tablename__ = "dashboard_dirty_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(index=True)
