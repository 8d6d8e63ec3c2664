"""Cases, case events (the timeline), photos and photo links."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.enums import (
    CaseStatus,
    Channel,
    Disclosure,
    PhotoProof,
    PhotoStatus,
    Placement,
    Priority,
    enum_column_type,
)
from server.locations import whole_point_check
from sync.db import Base, utcnow


class Case(Base):
    """A matter from any channel, located to a cell and handled through the seven steps."""

    __tablename__ = "cases"
    __table_args__ = (
        whole_point_check(),
        Index("ix_cases_status_due", "status", "due_at"),
        Index("ix_cases_cell_status", "cell_code", "status"),
        # The dashboard's date windows (received, due, closed) each need their own index.
        Index("ix_cases_reported_at", "reported_at"),
        Index("ix_cases_opened_at", "opened_at"),
        Index("ix_cases_dispatched_at", "dispatched_at"),
        Index("ix_cases_due_at", "due_at"),
        Index("ix_cases_closed_at", "closed_at", "status"),  # covers the closed-per-day trend
        # Pull lists keys in (version, id) order from a cursor (server/fieldsync/pulling.py).
        Index("ix_cases_version_id", "version", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    #: Human case number, e.g. XH-20261126-0007.
    number: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel, "channel"))
    #: What public surfaces may show of it (server/privacy/declaration.py): set at intake from
    #: the channel and the source, private once a household visit names it.
    disclosure: Mapped[Disclosure] = mapped_column(
        enum_column_type(Disclosure, "disclosure"), default=Disclosure.LISTED
    )
    catalogue_item_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_items.id"))
    priority: Mapped[Priority] = mapped_column(
        enum_column_type(Priority, "priority"), default=Priority.NORMAL
    )
    status: Mapped[CaseStatus] = mapped_column(
        enum_column_type(CaseStatus, "case_status"), default=CaseStatus.REPORTED
    )
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    #: WGS-84; a point picked on a Chinese web map is converted before it is stored.
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    cell_code: Mapped[str | None] = mapped_column(String(64))
    placement: Mapped[Placement] = mapped_column(
        enum_column_type(Placement, "placement"), default=Placement.UNLOCATED
    )
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Personal data of a caller (hotline, walk-in, online): access is audited.
    caller_name: Mapped[str | None] = mapped_column(String(60))
    caller_phone: Mapped[str | None] = mapped_column(String(32))
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    reported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_at_device: Mapped[dt.datetime | None]
    opened_at: Mapped[dt.datetime | None]
    dispatched_at: Mapped[dt.datetime | None]
    due_at: Mapped[dt.datetime | None]
    handled_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    rework_count: Mapped[int] = mapped_column(default=0)
    postponed: Mapped[bool] = mapped_column(default=False)
    satisfaction: Mapped[int | None]
    #: 缓办: while `paused_since` is set the deadline clock stands still; `paused_seconds` is
    #: the time already paused (due_at has been pushed back by it). `postponed` says "ever".
    paused_since: Mapped[dt.datetime | None]
    paused_seconds: Mapped[int] = mapped_column(default=0)
    postpone_reason: Mapped[str | None] = mapped_column(Text)
    #: Who recorded the handling (处理反馈) and who checked and closed (核查结案): never the same.
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    #: 0 = not escalated; n = sent to the people of the cell n levels above the case's cell.
    escalation_level: Mapped[int] = mapped_column(default=0)
    escalated_at: Mapped[dt.datetime | None]
    #: A duplicate merged into another case (status cancelled); its reports stay linked.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    #: `leader` (领导交办) or `media` (媒体曝光): weighted more in scores (加倍扣分).
    source_flag: Mapped[str | None] = mapped_column(String(16))
    #: The channel's own reference, e.g. the hotline ticket or the counter's slip number.
    channel_ref: Mapped[str | None] = mapped_column(String(64))
    #: Server version of the last change and of each field's last change (field-level merge).
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    field_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)

    catalogue_item = relationship("CatalogueItem")
    assignee = relationship("User", foreign_keys=[assignee_id])
    reporter = relationship("User", foreign_keys=[reporter_id])
    unit = relationship("Unit")
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.seq")


class CaseEvent(Base):
    """One step on a case's timeline: who did what, when, with what note. Append-only."""

    __tablename__ = "case_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    #: Order within the case, from the server (never the phone's clock).
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))  # reported, opened, dispatched, note, …
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Added (e.g. a note synced from a phone) after the case was closed.
    after_close: Mapped[bool] = mapped_column(default=False)
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    recorded_at_device: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)

    case: Mapped[Case] = relationship(back_populates="events")
    actor = relationship("User")


class Photo(Base):
    """Photo bytes, identified by the SHA-256 of their content: the same photo is stored once."""

    __tablename__ = "photos"
    __table_args__ = (whole_point_check(),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[PhotoStatus] = mapped_column(
        enum_column_type(PhotoStatus, "photo_status"), default=PhotoStatus.MISSING
    )
    size_bytes: Mapped[int | None]
    mime: Mapped[str | None] = mapped_column(String(32))
    width: Mapped[int | None]
    height: Mapped[int | None]
    taken_at: Mapped[dt.datetime | None]
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    exif: Mapped[dict[str, Any]] = mapped_column(default=dict)
    storage_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PhotoLink(Base):
    """A photo attached to a case or a visit by someone, from some device."""

    __tablename__ = "photo_links"
    __table_args__ = (whole_point_check(),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    photo_sha256: Mapped[str] = mapped_column(ForeignKey("photos.sha256"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"), index=True)
    #: `report` (how it looked), `result` (after handling), `check` (on-site check).
    purpose: Mapped[str] = mapped_column(String(16), default="report")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    captured_at_device: Mapped[dt.datetime | None]
    after_close: Mapped[bool] = mapped_column(default=False)
    #: Why this link counts; None = pending: it grants nobody reading until the person who
    #: made it sends the bytes (server/photos/access.py).
    proof: Mapped[PhotoProof | None] = mapped_column(enum_column_type(PhotoProof, "photo_proof"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)

    photo: Mapped[Photo] = relationship()
    #: Also tells a flush to write a new case before new links to it (a phone's report adds
    #: both at once, under the version clock: server/fieldsync/operations.py).
    case: Mapped[Case | None] = relationship()
