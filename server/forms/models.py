"""Forms and their versions. A version is a draft until published; a published version is
immutable (its definition, number and dates), and answers name the version they were made on.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.db import Base, utcnow


class Form(Base):
    """A form the office defines (a fire-safety checklist, a visit form for a care tag)."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The office's short name for it ("fire_check_2026"), unique.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title_zh: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[FormVersion]] = relationship(
        back_populates="form", order_by="FormVersion.number"
    )


class FormVersion(Base):
    """One version of a form: its definition (the JSON of docs/forms.md)."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    number: Mapped[int]  # 1, 2, … within the form
    definition: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Set once, when published; from then on nothing of the row changes.
    published_at: Mapped[dt.datetime | None]

    form: Mapped[Form] = relationship(back_populates="versions")

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class FormAnswer(Base):
    """One filled-in form: an append-only record whose id the phone minted.

    It names the version it was made on (a newer version published meanwhile does not
    invalidate it) and what it is about: a visit (a care tag's visit form, stored beside the
    visit) or a campaign's target. `late` marks answers made before their campaign closed
    that reached the server after it did.
    """

    __tablename__ = "form_answers"
    __table_args__ = (
        Index("ix_form_answers_campaign_target", "campaign_id", "target_id"),
        # The progress page groups a campaign's answers by cell and worker (covering).
        Index(
            "ix_form_answers_campaign_progress",
            "campaign_id",
            "cell_code",
            "worker_id",
            "target_id",
            "late",
            "case_ids",
        ),
        # Pull lists keys in (version, id) order from a cursor (server/fieldsync/pulling.py).
        Index("ix_form_answers_version_id", "version", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    target_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaign_targets.id"))
    visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"), index=True)
    household_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("households.id"))
    resident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("residents.id"))
    #: The cell the answer belongs to (its target's or household's): scope and reports.
    cell_code: Mapped[str] = mapped_column(String(64), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[uuid.UUID | None]
    #: The answers by question name, as `server.forms.answers.validate_answers` kept them.
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: When the form was filled in, by the phone's clock (display only).
    answered_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    late: Mapped[bool] = mapped_column(default=False)
    #: Ids (strings) of the cases these answers opened (`opens_case`).
    case_ids: Mapped[list[Any]] = mapped_column(default=list)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
