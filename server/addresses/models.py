"""Standard addresses (标准地址): one row per door (building), with its point and cell."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.locations import whole_point_check
from sync.db import Base, utcnow


class StandardAddress(Base):
    """A door the office's address list names: road, lane, sub-lane, number, and where it is.

    Stored in WGS-84 whatever datum the file was in (geo.datums). ``building_key`` is
    geo.address_text's key: register rows are matched on it. ``cell_code`` is the building
    group the point (or footprint) falls in under the published grid.
    """

    __tablename__ = "standard_addresses"
    __table_args__ = (
        Index("ix_standard_addresses_road_key", "road", "building_key"),
        whole_point_check(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The office's own code for the address (标准地址编码): the stable key of re-imports.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(String(200))
    road: Mapped[str] = mapped_column(String(60))
    lane: Mapped[str] = mapped_column(String(20), default="")
    sublane: Mapped[str] = mapped_column(String(20), default="")
    number: Mapped[str] = mapped_column(String(20), default="")
    building_key: Mapped[str] = mapped_column(String(160), index=True)
    #: Other names the door is known by (小区名 + 楼号 …), searched alongside the text.
    alias: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    #: A building footprint, WKB in WGS-84, when the file gave a polygon.
    footprint_wkb: Mapped[bytes | None] = mapped_column(LargeBinary)
    source_datum: Mapped[str] = mapped_column(String(32), default="wgs84")
    cell_code: Mapped[str | None] = mapped_column(String(64), index=True)
    #: False once a full re-import no longer lists it (kept: households point at it).
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
