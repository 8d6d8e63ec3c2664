"""The state of resumable photo uploads, kept in the database so it survives restarts."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.enums import enum_column_type
from sync.db import Base, utcnow


class UploadStatus(StrEnum):
    OPEN = "open"  # bytes still arriving
    FINISHED = "finished"  # verified and stored (or the photo was already stored: dedupe)
    FAILED = "failed"  # whole-file SHA-256 or image check refused it; the client starts anew
    TERMINATED = "terminated"  # the client deleted it (tus termination)
    EXPIRED = "expired"  # idle past its Upload-Expires; the partial bytes were discarded


class Upload(Base):
    """One tus upload from one device: its offset, its limits, and how it ended."""

    __tablename__ = "uploads"

    #: Also the last segment of the upload URL; random, so URLs cannot be guessed.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: What the client declared in Upload-Metadata; checked against the bytes at the end.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    mime: Mapped[str] = mapped_column(String(32))
    upload_length: Mapped[int] = mapped_column(BigInteger)
    upload_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Every byte stored for this upload, rewrites included: equals the length when no chunk
    #: was written twice (the resumption tests and the bench read it).
    bytes_written: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[UploadStatus] = mapped_column(
        enum_column_type(UploadStatus, "upload_status"), default=UploadStatus.OPEN
    )
    #: True when creation found the photo already stored and answered a finished upload.
    deduplicated: Mapped[bool] = mapped_column(default=False)
    #: Why it failed: a stable code such as `sha256_mismatch` or `not_an_image`.
    failure: Mapped[str | None] = mapped_column(String(40))
    metadata_values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
