"""Import runs (who, when, which file, what it found and did), their files and review items."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.db import Base, utcnow


class ImportRun(Base):
    """One file brought in: checked (dry run), then applied or not. Never deleted.

    ``state``: checking (being read, large files in the background) → checked (dry run
    done, may be applied) → applying → applied; or refused (blocking problems: nothing can be
    applied), or superseded (withdrawn).
    """

    __tablename__ = "import_runs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    #: register | addresses | staff | units | catalogue
    kind: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(16), default="checked")
    filename: Mapped[str] = mapped_column(String(255), default="")
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(default=0)
    #: What the reader found: encoding, sheet, header row, data rows.
    source: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Column mapping used: field → header text as found in the file.
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: What the uploader said: full re-import, datum, …
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: rows, errors, warnings; after apply: created, updated, unchanged, flagged …
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The problems (each: row, column, value, rule, severity, zh/en message), capped.
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: When it was applied; while ``applying``, when applying began (server/imports/jobs.py
    #: finds a background job that died by it).
    applied_at: Mapped[dt.datetime | None]


class ImportFile(Base):
    """The bytes of a checked file, kept until it is applied or withdrawn (then deleted)."""

    __tablename__ = "import_files"

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("import_runs.id"), primary_key=True)
    #: Deferred: applying re-checks ``rows``, and a check is handed the bytes it was given,
    #: so a 20 MB upload is not fetched back from the database (PostgreSQL sends bytea as
    #: hex text: three copies in memory at once) unless it is read afresh.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    #: The rows as read (compressed JSON lines, server/imports/tabular.py RowCache): applying
    #: re-checks these instead of parsing the file again. None when nothing could be read.
    rows: Mapped[bytes | None] = mapped_column(LargeBinary)


class ImportReview(Base):
    """Something an import could not decide alone: a row gone from a full re-import, an
    address matched to no door or to several. Resolved by a person (with a note)."""

    __tablename__ = "import_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("import_runs.id"), index=True)
    #: missing_from_file | address_unmatched | address_ambiguous
    reason: Mapped[str] = mapped_column(String(32))
    #: households | residents | standard_addresses | users | units | catalogue_items
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str] = mapped_column(Text, default="")


class CategoryMapping(Base):
    """How a free-text 人员类别 in register files maps to a care tag; the office edits it.

    ``tag_code`` None: the text is known and deliberately ignored (e.g. 党员).
    """

    __tablename__ = "category_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The text as normalised (NFKC, no spaces), unique.
    text: Mapped[str] = mapped_column(String(60), unique=True)
    tag_code: Mapped[str | None] = mapped_column(ForeignKey("care_tags.code"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
