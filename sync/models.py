"""Sync's own tables: device marks, the mutation log, case conflicts, field stamps, scope exits.

None of them has a foreign key to a server table: ids are plain columns, so `sync/` never
imports `server/` and the server can archive its rows without touching the log.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sync.db import Base, JSONType, utcnow

#: Mutation outcomes stored in the log (a replay answers `duplicate` with the stored one).
APPLIED, REJECTED, DUPLICATE = "applied", "rejected", "duplicate"

#: The log's rejected rows: what its two partial indexes hold (migration 0022).
_REJECTED_ONLY = text(f"status = '{REJECTED}'")


class DeviceState(Base):
    """Where one device stands in the protocol: the last mutation seq applied, and its clock."""

    __tablename__ = "sync_devices"

    device_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_push_at: Mapped[dt.datetime | None]
    #: device_now − server_now at the last push, in milliseconds (display and flags only).
    last_clock_offset_ms: Mapped[int | None] = mapped_column(BigInteger)
    clock_suspect: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MutationRecord(Base):
    """One mutation as received: the idempotency record and the office's audit trail.

    Written once per mutation, so every index costs each push: besides its two unique keys
    (which at-most-once rests on) the log is indexed only where it is read by more than a
    device's newest row, its rejected rows (the phone's `rejections` pull source, the worker's
    to-do list), with partial indexes an applied row does not enter. A device's highest
    version is its highest seq's (`server.fieldsync.pull_routing.version_needed`)."""

    __tablename__ = "sync_mutations"
    __table_args__ = (
        UniqueConstraint("device_id", "seq"),
        Index(
            "ix_sync_mutations_rejected_device",
            "device_id",
            "server_version",
            "id",
            sqlite_where=_REJECTED_ONLY,
            postgresql_where=_REJECTED_ONLY,
        ),
        Index(
            "ix_sync_mutations_rejected_user",
            "user_id",
            "received_at",
            sqlite_where=_REJECTED_ONLY,
            postgresql_where=_REJECTED_ONLY,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[uuid.UUID]
    user_id: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(BigInteger)
    op_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(40))
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    base_version: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # applied | rejected
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason_message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    server_version: Mapped[int] = mapped_column(BigInteger)
    recorded_at_device: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    clock_offset_ms: Mapped[int | None] = mapped_column(BigInteger)
    clock_suspect: Mapped[bool] = mapped_column(default=False)


class CaseConflict(Base):
    """Two people changed the same case field from the same base: both values, both authors."""

    __tablename__ = "sync_case_conflicts"
    __table_args__ = (Index("ix_sync_case_conflicts_open", "resolved_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(index=True)
    field: Mapped[str] = mapped_column(String(40))
    base_version: Mapped[int | None] = mapped_column(BigInteger)
    #: The value the later arrival overwrote, who wrote it, and at which server version.
    earlier_value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    earlier_author_id: Mapped[int | None] = mapped_column(Integer, index=True)
    earlier_version: Mapped[int | None] = mapped_column(BigInteger)
    #: The later arrival, which the case now holds.
    later_value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    later_author_id: Mapped[int | None] = mapped_column(Integer, index=True)
    later_device_id: Mapped[uuid.UUID | None]
    op_id: Mapped[uuid.UUID | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Bumped on creation and on resolution, so pulls carry both.
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(Integer)
    resolved_at: Mapped[dt.datetime | None]
    #: `earlier` / `later` (a value was chosen) or `acknowledged` (marked resolved as it is).
    resolution: Mapped[str | None] = mapped_column(String(16))


class FieldStamp(Base):
    """Who last changed one field of one case, at which version (the author half of the merge)."""

    __tablename__ = "sync_field_stamps"

    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[int | None] = mapped_column(Integer)
    device_id: Mapped[uuid.UUID | None]


class ScopeExit(Base):
    """A row that left somebody's pull scope (reassigned, closed) or was removed, at a version.

    `user_id` / `cell_code` say whose scope it left; both empty means "removed for everyone".
    Kept for the history window; a cursor older than the pruned horizon gets a reset.
    """

    __tablename__ = "sync_scope_exits"
    __table_args__ = (Index("ix_sync_scope_exits_table_version", "table_name", "version"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    table_name: Mapped[str] = mapped_column(String(32))
    row_id: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(Integer)
    cell_code: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SyncScope(Base):
    """A pull scope by its fingerprint: the cell set a cursor was issued for.

    A cursor names its scope's fingerprint; when the worker's scope has changed since, the
    pull looks the old cell set up here and sends what left as deletions and what came in as
    upserts (docs/sync-protocol.md §Scope changes). Rows are small and few (one per distinct
    cell set) and are kept: a missing one only costs that device a reset.
    """

    __tablename__ = "sync_scopes"

    fingerprint: Mapped[str] = mapped_column(String(32), primary_key=True)
    grid_version_id: Mapped[int | None] = mapped_column(Integer)
    cell_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: The `scope_epoch` mark it was computed under: another epoch means "rebuild" (reset).
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SyncMark(Base):
    """Named server-wide marks: the history horizon and the scope epoch (see docs)."""

    __tablename__ = "sync_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def rejected_rows() -> ColumnElement[bool]:
    """`status = 'rejected'` with the value written into the statement, not bound: a prepared
    statement's generic plan (psycopg prepares a query after a few runs) can then still use
    the log's partial indexes, whose predicate a bound parameter could not be proved to meet."""
    return MutationRecord.status == literal_column(f"'{REJECTED}'")
