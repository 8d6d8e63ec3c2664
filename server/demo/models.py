"""Frozen dataclasses of the demo district (plain data, no database)."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry import Polygon

LEVELS: tuple[str, ...] = ("street", "residential_area", "block", "building_group")

CARE_TAGS: tuple[str, ...] = (
    "living_alone",
    "elderly_only_household",
    "aged_80_plus",
    "disability",
    "low_income",
    "child_in_difficulty",
    "serious_illness",
    "family_planning_special",
    "entitled_groups",
    "empty_nest",
)

RELATIONS: tuple[str, ...] = ("户主", "配偶", "子女", "父母", "其他")

REFERENCE_YEAR = 2026  # ages are "REFERENCE_YEAR - birth_year", never the clock


@dataclass(frozen=True)
class DemoCell:
    """One grid cell; geometry is a WGS-84 lon/lat Polygon with a CCW exterior."""

    code: str
    name: str
    name_en: str
    level: str
    parent_code: str | None
    geometry: Polygon


@dataclass(frozen=True)
class DemoHousehold:
    """One household (户) in one flat of one building."""

    id: str
    address: str
    road: str
    lane: str
    building_no: str
    room: str
    lon: float
    lat: float
    building_group_code: str


@dataclass(frozen=True)
class DemoResident:
    """One registered resident; all people are fictional."""

    id: str
    household_id: str
    name: str
    gender: str
    birth_year: int
    phone: str | None
    relation: str
    care_tags: tuple[str, ...]


@dataclass(frozen=True)
class DemoLandmark:
    """A named point for demo cases (road crossings are real OSM geometry)."""

    key: str
    name: str
    name_en: str
    lon: float
    lat: float
    approximate: bool


@dataclass(frozen=True)
class District:
    """The whole generated demo district."""

    seed: int
    cells: list[DemoCell]
    households: list[DemoHousehold]
    residents: list[DemoResident]
    lane_329_mouth: tuple[float, float]
    landmarks: list[DemoLandmark]
