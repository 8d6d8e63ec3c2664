"""Forms and their versions. A version is a draft until published; a published version is
immutable (its definition, number and dates), and answers name the version they were made on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
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
