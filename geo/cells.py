"""Plain records for grid cells passed between reading, validation, locate, export and diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from geo.levels import Level


@dataclass
class CellDraft:
    """One cell read from an upload; ``geometry`` is WGS-84 lon/lat with RFC 7946 winding.

    ``level`` is None and ``code`` may be "" only when the report already holds an error
    about it, so a draft without errors always has both.
    """

    code: str
    name: str
    level: Level | None
    parent_code: str | None
    geometry: BaseGeometry
    index: int = 0
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Repair:
    """What an automatic fix changed in one feature, shown to GIS staff before anything is kept."""

    feature_index: int
    code: str
    action: str  # "rewind" | "drop_z" | "make_valid"
    description: str
    area_before_m2: float | None = None
    area_after_m2: float | None = None

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict.

        >>> Repair(0, "A", "rewind", "exterior made counter-clockwise").to_dict()["action"]
        'rewind'
        """
        return {
            "feature_index": self.feature_index,
            "code": self.code,
            "action": self.action,
            "description": self.description,
            "area_before_m2": self.area_before_m2,
            "area_after_m2": self.area_after_m2,
        }
