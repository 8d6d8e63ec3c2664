"""The Unit table."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server.enums import UnitKind, enum_column_type
from sync.db import Base


class Unit(Base):
    """An organisation that acts on cases (职能部门, 驻区单位, 物业公司, 抢修队 …)."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(150))
    kind: Mapped[UnitKind] = mapped_column(enum_column_type(UnitKind, "unit_kind"))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    #: The cell the unit stands in, if it is a stationed unit (by code: stable across versions).
    cell_code: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh
