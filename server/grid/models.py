"""Grid versions, cells and duties."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.enums import CellLevel, DutyRank, DutyRole, GridStatus, enum_column_type
from sync.db import Base, utcnow


class GridUpload(Base):
    """The bytes of an uploaded grid file, kept so it can be read again with other options.

    A re-import (another datum, axes swapped, levels from the codes) reads these bytes: the
    GIS user never uploads the file twice. The same bytes uploaded again reuse the row.
    """

    __tablename__ = "grid_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GridVersion(Base):
    """One upload of the grid. Drafts are checked; one version at a time is published."""

    __tablename__ = "grid_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[GridStatus] = mapped_column(enum_column_type(GridStatus, "grid_status"))
    #: The datum the upload was declared in (storage is always WGS-84).
    source_datum: Mapped[str] = mapped_column(String(32), default="wgs84")
    source_filename: Mapped[str | None] = mapped_column(String(255))
    #: The file this version was read from (None for versions older than migration 0017).
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("grid_uploads.id"))
    #: The validation report, as JSON (problems with feature, rule, severity, spot).
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None]
    retired_at: Mapped[dt.datetime | None]

    cells: Mapped[list[Cell]] = relationship(back_populates="grid_version")


class Cell(Base):
    """A polygon of one level (街道/居民区/块区/楼组), stored in WGS-84 as WKB with its bbox."""

    __tablename__ = "cells"
    __table_args__ = (
        UniqueConstraint("grid_version_id", "code"),
        Index("ix_cells_bbox", "grid_version_id", "min_lon", "max_lon", "min_lat", "max_lat"),
        # Pull lists keys in (version, id) order from a cursor (server/fieldsync/pulling.py).
        Index("ix_cells_version_id", "version", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_version_id: Mapped[int] = mapped_column(ForeignKey("grid_versions.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[CellLevel] = mapped_column(enum_column_type(CellLevel, "cell_level"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("cells.id"))
    parent_code: Mapped[str | None] = mapped_column(String(64))
    geometry_wkb: Mapped[bytes] = mapped_column(LargeBinary)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float] = mapped_column(Float)
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Server version of the last change, for sync pulls (see docs/sync-protocol.md).
    version: Mapped[int] = mapped_column(BigInteger, default=0)

    grid_version: Mapped[GridVersion] = relationship(back_populates="cells")
    parent: Mapped[Cell | None] = relationship(remote_side=[id])


class Duty(Base):
    """A person answering for a cell in a role, from a date to a date.

    Duties refer to cells by code, not row id: a newly published grid version keeps
    everyone's duties for the cells that keep their code.
    """

    __tablename__ = "duties"
    __table_args__ = (Index("ix_duties_cell_code_role", "cell_code", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    cell_code: Mapped[str] = mapped_column(String(64))
    role: Mapped[DutyRole] = mapped_column(enum_column_type(DutyRole, "duty_role"))
    rank: Mapped[DutyRank] = mapped_column(
        enum_column_type(DutyRank, "duty_rank"), default=DutyRank.PRINCIPAL
    )
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user = relationship("User", foreign_keys=[user_id])

    def is_current(self, on: dt.date) -> bool:
        return self.starts_on <= on and (self.ends_on is None or on <= self.ends_on)


class GridImportJob(Base):
    """One upload being read and validated, with its progress, visible to every process.

    The page and the API poll this row; the work runs in a background thread of the process
    that took the upload, so a 20,000-cell file never holds a request open.
    """

    __tablename__ = "grid_import_jobs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    #: queued → running → done | failed
    state: Mapped[str] = mapped_column(String(16), default="queued")
    #: reading (validation) or storing (the draft's cells)
    stage: Mapped[str] = mapped_column(String(16), default="reading")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(default=0)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("grid_uploads.id"))
    grid_version_id: Mapped[int | None] = mapped_column(ForeignKey("grid_versions.id"))
    error: Mapped[str | None] = mapped_column(String(500))
    #: The report of a file of which nothing could be kept (no draft); else on the version.
    report: Mapped[dict[str, Any] | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
