"""Base layers (roads, building footprints, points of interest) and their features."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.enums import GridStatus, enum_column_type
from sync.db import Base, utcnow


class BaseLayer(Base):
    """One upload of a reference layer of one kind. Drafts are checked; one layer per kind
    is published at a time (publishing retires the one before, kept for rollback)."""

    __tablename__ = "base_layers"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: roads, buildings or poi (geo.layer_reading.KINDS)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[GridStatus] = mapped_column(enum_column_type(GridStatus, "base_layer_status"))
    #: The datum the upload was declared in (storage is always WGS-84).
    source_datum: Mapped[str] = mapped_column(String(32), default="wgs84")
    source_filename: Mapped[str | None] = mapped_column(String(255))
    #: The credit the data's licence asks for, shown on every map that draws the layer.
    attribution: Mapped[str | None] = mapped_column(String(300))
    #: The validation report, as JSON (the grid's shape: problems with rule, severity, spot).
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    feature_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None]
    retired_at: Mapped[dt.datetime | None]

    features: Mapped[list[BaseLayerFeature]] = relationship(back_populates="layer")


class BaseLayerFeature(Base):
    """A road, a footprint or a point: WGS-84 GeoJSON geometry (6 decimals) and its bbox.

    The geometry is kept as the GeoJSON the maps and the phone read, rounded to ~0.1 m, so
    a bbox pull is a concatenation, not a conversion.
    """

    __tablename__ = "base_layer_features"
    __table_args__ = (
        Index(
            "ix_base_layer_features_bbox", "layer_id", "min_lon", "max_lon", "min_lat", "max_lat"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("base_layers.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(120))
    #: What the map writes: a road's name, a building's number (12号), a POI's name.
    label: Mapped[str | None] = mapped_column(String(120))
    #: The kept label texts only (name, name_en, class, street, number, address, levels …).
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    geometry: Mapped[dict[str, Any]] = mapped_column(default=dict)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)

    layer: Mapped[BaseLayer] = relationship(back_populates="features")
