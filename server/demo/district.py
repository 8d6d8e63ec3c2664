"""Deterministic demo district of Xinhua subdistrict: real OSM boundary and roads, invented rest."""

from __future__ import annotations

import random
import uuid
from collections import Counter

from server.demo.addresses import Building, lane_mouth, place_buildings
from server.demo.cells import build_cell_drafts, export_cells
from server.demo.models import (
    LEVELS,
    DemoCell,
    DemoHousehold,
    DemoLandmark,
    DemoResident,
    District,
)
from server.demo.people import DEMO_NAMESPACE, compose_household, make_residents
from server.demo.roads import load_boundary_lonlat, load_roads
from server.demo.tiling import LocalFrame

__all__ = [
    "DemoCell",
    "DemoHousehold",
    "DemoLandmark",
    "DemoResident",
    "District",
    "build_district",
    "district_summary",
]

DEFAULT_SEED = 329
FRAME = LocalFrame(lon0=121.4226, lat0=31.2069)  # near the centroid of the OSM polygon
HOUSEHOLDS_PER_BUILDING = ((2, 3, 4), (0.4, 0.4, 0.2))
FLOORS = range(1, 7)  # 老式公房: five- and six-storey walk-ups
FLATS_PER_FLOOR = range(1, 4)

# Real road crossings computed from OSM geometry (research/test-data.md §1c), plus two real
# OSM landmarks with their OSM addresses. © OpenStreetMap contributors, ODbL 1.0.
REAL_LANDMARKS: tuple[tuple[str, str, str, float, float], ...] = (
    ("xinhua_x_panyu", "新华路番禺路口", "Xinhua Rd × Panyu Rd", 121.425438, 31.203749),
    ("xinhua_x_dingxi", "新华路定西路口", "Xinhua Rd × Dingxi Rd", 121.418672, 31.206090),
    ("fahuazhen_x_panyu", "法华镇路番禺路口", "Fahuazhen Rd × Panyu Rd", 121.425689, 31.205202),
    ("fahuazhen_x_dingxi", "法华镇路定西路口", "Fahuazhen Rd × Dingxi Rd", 121.419068, 31.207512),
    (
        "shanghai_film_art_center",
        "上海影城(新华路160号)",
        "Shanghai Film Art Center",
        121.42489,
        31.20466,
    ),
    (
        "hudec_memorial_hall",
        "邬达克纪念馆(番禺路129号)",
        "Hudec Memorial Hall",
        121.42542,
        31.20987,
    ),
)


def _rooms(rng: random.Random, count: int) -> list[str]:
    flats = [f"{floor}{flat:02d}" for floor in FLOORS for flat in FLATS_PER_FLOOR]
    return sorted(rng.sample(flats, count), key=int)


def _address(b: Building, room: str) -> str:
    lane = f"{b.lane}弄" if b.lane else ""
    return f"{b.road}{lane}{b.number}号{room}室"


def _people(
    buildings: list[Building], seed: int, rng: random.Random
) -> tuple[list[DemoHousehold], list[DemoResident]]:
    """Households in each building and their residents."""
    phones = list(range(10_000))
    rng.shuffle(phones)
    households: list[DemoHousehold] = []
    residents: list[DemoResident] = []
    for b in buildings:
        lon, lat = FRAME.point_lonlat(b.point_m.x, b.point_m.y)
        count = rng.choices(*HOUSEHOLDS_PER_BUILDING)[0]
        for room in _rooms(rng, count):
            address = _address(b, room)
            hid = str(uuid.uuid5(DEMO_NAMESPACE, f"household/{seed}/{address}"))
            households.append(
                DemoHousehold(hid, address, b.road, b.lane, b.number, room, lon, lat, b.group_code)
            )
            residents.extend(make_residents(hid, compose_household(rng), rng, phones))
    return households, residents


def _landmarks(mouth: tuple[float, float]) -> list[DemoLandmark]:
    marks = [DemoLandmark(k, n, e, lon, lat, False) for k, n, e, lon, lat in REAL_LANDMARKS]
    marks.append(
        DemoLandmark(
            "xinhua_lane_329_mouth", "新华路329弄弄口", "Mouth of Lane 329 Xinhua Rd", *mouth, True
        )
    )
    return marks


def build_district(seed: int = DEFAULT_SEED) -> District:
    """Generate the demo district; the same seed always gives an identical District."""
    rng = random.Random(seed)
    street_lonlat = load_boundary_lonlat()
    street_m = FRAME.to_metric(street_lonlat)
    roads = load_roads(FRAME, street_m)
    drafts = build_cell_drafts(street_m, roads, rng)
    mouth_m, mouth_group = lane_mouth(roads, drafts)
    buildings = place_buildings(drafts, roads, mouth_group.code, rng)
    households, residents = _people(buildings, seed, rng)
    mouth = FRAME.point_lonlat(mouth_m.x, mouth_m.y)
    return District(
        seed=seed,
        cells=export_cells(drafts, FRAME, street_lonlat),
        households=households,
        residents=residents,
        lane_329_mouth=mouth,
        landmarks=_landmarks(mouth),
    )


def district_summary(d: District) -> dict:
    """Counts per level, of households/buildings/residents and per care tag (JSON-ready)."""
    levels = Counter(c.level for c in d.cells)
    tags = Counter(t for r in d.residents for t in r.care_tags)
    buildings = {(h.road, h.lane, h.building_no) for h in d.households}
    return {
        "seed": d.seed,
        "cells_per_level": {level: levels[level] for level in LEVELS},
        "households": len(d.households),
        "buildings": len(buildings),
        "residents": len(d.residents),
        "residents_with_care_tags": sum(1 for r in d.residents if r.care_tags),
        "care_tags": dict(sorted(tags.items())),
        "roads": sorted({h.road for h in d.households}),
        "lane_329_mouth": list(d.lane_329_mouth),
        "landmarks": len(d.landmarks),
    }
