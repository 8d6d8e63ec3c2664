"""Households, residents, care tags and visits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.locations import whole_point_check
from sync.db import Base, utcnow

#: A resident's status on the register; the others (moved_out, deceased) are kept on record.
ACTIVE = "active"
LEFT_STATUSES = ("moved_out", "deceased")


class CareTag(Base):
    """A key or special group (独居老人, 高龄, 残疾 …) and how often its households are visited."""

    __tablename__ = "care_tags"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(100))
    visit_every_days: Mapped[int]
    priority: Mapped[int] = mapped_column(default=5)
    description_zh: Mapped[str] = mapped_column(Text, default="")
    #: The form a visit to this group asks (its latest published version); None: the
    #: visit's free-text fields only.
    visit_form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id"))

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh


class Household(Base):
    """A dwelling and the people registered in it (personal data: access is audited)."""

    __tablename__ = "households"
    __table_args__ = (
        whole_point_check(),
        Index("ix_households_building", "road", "lane", "building"),
        # Pull lists keys in (version, id) order from a cursor (server/fieldsync/pulling.py).
        Index("ix_households_version_id", "version", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    address: Mapped[str] = mapped_column(String(200))
    road: Mapped[str] = mapped_column(String(60))
    lane: Mapped[str] = mapped_column(String(20), default="")
    building: Mapped[str] = mapped_column(String(20))
    room: Mapped[str] = mapped_column(String(20), default="")
    #: The building group (楼组) the household belongs to, by code (stable across grid versions).
    cell_code: Mapped[str] = mapped_column(String(64), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The register's stable key for this household (its 户号, or its normalised address):
    #: a re-import matches on it (server/imports/register.py). None for households made by hand.
    register_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    #: The standard address (标准地址) the household was matched to, and how:
    #: matched | manual | unmatched | ambiguous ("" before any matching).
    address_id: Mapped[int | None] = mapped_column(ForeignKey("standard_addresses.id"), index=True)
    address_match: Mapped[str] = mapped_column(String(16), default="")

    residents: Mapped[list[Resident]] = relationship(back_populates="household")


class Resident(Base):
    """A person on the register. The identity number is kept sealed (server/population/identity.py):
    ciphertext and keyed digests only, never the number in clear, never sent to phones."""

    __tablename__ = "residents"
    # Pull lists keys in (version, id) order from a cursor (server/fieldsync/pulling.py).
    __table_args__ = (Index("ix_residents_version_id", "version", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    gender: Mapped[str] = mapped_column(String(1))
    birth_year: Mapped[int | None]
    phone: Mapped[str | None] = mapped_column(String(32))
    relation: Mapped[str] = mapped_column(String(20), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    #: AES-GCM ciphertext of the 18-character identity number (``kid$base64``).
    id_number_sealed: Mapped[str | None] = mapped_column(Text)
    #: HMAC of the number (matching) and of its last four characters (the office's search).
    id_number_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    id_tail_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    #: The register's stable key for this person: ``id:<digest>`` or ``hh:<household>/<name>``.
    register_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    #: active | moved_out | deceased. A person who left stays on record (the visits and the
    #: history name them) but leaves the phones and the visit plans (server/register/).
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    status_on: Mapped[dt.date | None]
    status_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    household: Mapped[Household] = relationship(back_populates="residents")
    tags: Mapped[list[ResidentTag]] = relationship(
        back_populates="resident", cascade="all, delete-orphan"
    )


class ResidentTag(Base):
    __tablename__ = "resident_tags"

    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    tag_code: Mapped[str] = mapped_column(ForeignKey("care_tags.code"), primary_key=True)
    since: Mapped[dt.date | None]

    resident: Mapped[Resident] = relationship(back_populates="tags")
    tag: Mapped[CareTag] = relationship()


class Visit(Base):
    """One household visit (走访). Append-only: a correction is a new visit naming the old."""

    __tablename__ = "visits"
    __table_args__ = (
        whole_point_check(),
        Index("ix_visits_household_visited", "household_id", "visited_at"),
        # Pull lists keys in (version, id) order from a cursor (server/fieldsync/pulling.py).
        Index("ix_visits_version_id", "version", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("households.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    #: When the visit happened by the phone's clock (display only; never used for ordering).
    visited_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Ids of the residents who were seen.
    residents_seen: Mapped[list[Any]] = mapped_column(default=list)
    outcome: Mapped[str] = mapped_column(String(20), default="met")  # met | not_home | refused
    situation: Mapped[str] = mapped_column(Text, default="")
    needs: Mapped[str] = mapped_column(Text, default="")
    follow_up: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    corrects_visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    version: Mapped[int] = mapped_column(BigInteger, default=0)

    household: Mapped[Household] = relationship()
    worker = relationship("User")
