"""Service points (便民服务点, 老年助餐点, 睦邻点, centres), time slots, bookings, reviews."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.db import Base, utcnow

POINT_KINDS = ("convenience", "meal", "mutual_aid", "centre")
BOOKING_STATES = ("pending", "confirmed", "cancelled")


class ServicePoint(Base):
    """A place residents go to: where it is, when it is open, what it offers, whom to call."""

    __tablename__ = "service_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # one of POINT_KINDS
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(150))
    address: Mapped[str] = mapped_column(String(200))
    #: WGS-84, like every stored point.
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    cell_code: Mapped[str | None] = mapped_column(String(64))
    hours: Mapped[str] = mapped_column(String(200), default="")
    services: Mapped[list[Any]] = mapped_column(default=list)
    phone: Mapped[str] = mapped_column(String(32), default="")
    is_active: Mapped[bool] = mapped_column(default=True)

    slots: Mapped[list[ServiceSlot]] = relationship(back_populates="point")


class ServiceSlot(Base):
    """One time slot of one service at a point; `booked` never exceeds `capacity`.

    Booking is one conditional UPDATE (`booked = booked + 1 WHERE booked < capacity`), so two
    residents racing for the last place cannot both get it, on either backend.
    """

    __tablename__ = "service_slots"
    __table_args__ = (UniqueConstraint("point_id", "service", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)
    service: Mapped[str] = mapped_column(String(60))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    capacity: Mapped[int]
    booked: Mapped[int] = mapped_column(default=0)

    point: Mapped[ServicePoint] = relationship(back_populates="slots")


class Booking(Base):
    """A resident's appointment; the private link's token is kept as its SHA-256 only."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("service_slots.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: Personal data: shown to staff of the centre only.
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]

    slot: Mapped[ServiceSlot] = relationship()


class ServiceReview(Base):
    """1–5 and a comment for one used booking (one per booking); staff may reply."""

    __tablename__ = "service_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reply: Mapped[str] = mapped_column(Text, default="")
    reply_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reply_at: Mapped[dt.datetime | None]
