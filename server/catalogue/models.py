"""Catalogue categories and items."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.enums import CatalogueKind, Priority, enum_column_type
from sync.db import Base


class CatalogueCategory(Base):
    __tablename__ = "catalogue_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[CatalogueKind] = mapped_column(enum_column_type(CatalogueKind, "catalogue_kind"))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(150))
    sort: Mapped[int] = mapped_column(default=0)

    items: Mapped[list[CatalogueItem]] = relationship(back_populates="category")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh


class CatalogueItem(Base):
    """One kind of matter: its names, default unit and time limit per priority."""

    __tablename__ = "catalogue_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("catalogue_categories.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(150))
    default_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    limit_urgent_hours: Mapped[float]
    limit_high_hours: Mapped[float]
    limit_normal_hours: Mapped[float]
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    #: Pinyin initials of the Chinese name ("ljdf" for 垃圾堆放), for typing at the intake desk.
    pinyin_initials: Mapped[str] = mapped_column(String(64), default="")
    #: Extra questions (Open311 service-definition attributes), as loaded from the data file.
    questions: Mapped[list[Any]] = mapped_column(default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)

    category: Mapped[CatalogueCategory] = relationship(back_populates="items")
    default_unit = relationship("Unit")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh

    def limit_hours(self, priority: Priority) -> float:
        return {
            Priority.URGENT: self.limit_urgent_hours,
            Priority.HIGH: self.limit_high_hours,
            Priority.NORMAL: self.limit_normal_hours,
        }[priority]
