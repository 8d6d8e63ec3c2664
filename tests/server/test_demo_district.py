"""Tests of the demo-district generator (pure: no app, no database)."""

from __future__ import annotations

import itertools
import json
import math
import re
import time
import uuid
from collections import defaultdict

import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon, shape

from server.demo.district import District, build_district, district_summary
from server.demo.models import CARE_TAGS, REFERENCE_YEAR, RELATIONS
from server.demo.people import DEMO_NAMESPACE
from server.demo.roads import BOUNDARY_FILE, ROADS_FILE

TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)  # CGCS2000 GK 120E

CODE_PATTERNS = {
    "street": r"310105004",
    "residential_area": r"310105004\d{3}",
    "block": r"310105004\d{3}-\d{2}",
    "building_group": r"310105004\d{3}-\d{2}-\d{2}",
}


M2_PER_DEG2 = 111_195.0**2 * math.cos(math.radians(31.207))  # near Xinhua


def metric(geom: shapely.Geometry) -> shapely.Geometry:
    """Geometry in EPSG:4549 metres (vertex-wise, so edges become chords)."""
    return shapely.transform(geom, TO_METRIC.transform, interleaved=False)


def planar_m2(geom: shapely.Geometry) -> float:
    """Area of a lon/lat geometry taken as planar (as shapely tests points), in m².

    Containment and overlaps are judged this way: reprojecting vertex by vertex bends long
    shared edges by millimetres, which on a 500 m edge alone makes about a square metre.
    """
    return geom.area * M2_PER_DEG2


@pytest.fixture(scope="module")
def district() -> District:
    return build_district()


@pytest.fixture(scope="module")
def cells_by_code(district: District) -> dict:
    return {c.code: c for c in district.cells}


def children_of(district: District) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for c in district.cells:
        if c.parent_code:
            out[c.parent_code].append(c)
    return out


def age(birth_year: int) -> int:
    return REFERENCE_YEAR - birth_year


def test_the_same_seed_gives_an_identical_district(district: District) -> None:
    assert build_district(329) == district


def test_a_different_seed_gives_a_different_district(district: District) -> None:
    other = build_district(330)
    assert [c.geometry for c in other.cells[1:]] != [c.geometry for c in district.cells[1:]]
    assert {h.id for h in other.households}.isdisjoint({h.id for h in district.households})


def test_generation_takes_well_under_two_seconds() -> None:
    started = time.perf_counter()
    build_district(1)
    assert time.perf_counter() - started < 2.0


def test_each_level_has_the_expected_number_of_children(district: District) -> None:
    levels = [c.level for c in district.cells]
    assert levels.count("street") == 1
    assert 6 <= levels.count("residential_area") <= 8
    kids = children_of(district)
    for c in district.cells:
        if c.level == "residential_area":
            assert 2 <= len(kids[c.code]) <= 4
        elif c.level == "block":
            assert 3 <= len(kids[c.code]) <= 6
        elif c.level == "building_group":
            assert c.code not in kids


def test_codes_are_unique_and_well_formed_with_parents_one_level_up(
    district: District, cells_by_code: dict
) -> None:
    assert len(cells_by_code) == len(district.cells)
    levels = list(CODE_PATTERNS)
    for c in district.cells:
        assert re.fullmatch(CODE_PATTERNS[c.level], c.code), c.code
        if c.level == "street":
            assert c.parent_code is None
        else:
            parent = cells_by_code[c.parent_code]
            assert levels.index(parent.level) == levels.index(c.level) - 1
            assert c.code.startswith(parent.code)


def test_every_cell_has_a_chinese_and_an_english_name(district: District) -> None:
    for c in district.cells:
        assert re.search(r"[\u4e00-\u9fff]", c.name) and c.name_en.isascii()
    area_names = [c.name for c in district.cells if c.level == "residential_area"]
    assert len(set(area_names)) == len(area_names)
    assert all(n.endswith("居民区") for n in area_names)


def test_every_geometry_is_a_valid_counter_clockwise_polygon(district: District) -> None:
    for c in district.cells:
        assert isinstance(c.geometry, Polygon), c.code
        assert c.geometry.is_valid, c.code
        assert c.geometry.exterior.is_ccw, c.code


def test_the_street_cell_is_the_real_osm_boundary(cells_by_code: dict) -> None:
    data = json.loads(BOUNDARY_FILE.read_text(encoding="utf-8"))
    osm = shape(data["features"][0]["geometry"])
    street = cells_by_code["310105004"].geometry
    assert street.equals(osm)
    assert metric(street).area == pytest.approx(2.19e6, rel=0.01)


def test_children_tile_their_parent_without_gaps_or_overlaps(
    district: District, cells_by_code: dict
) -> None:
    for parent_code, kids in children_of(district).items():
        parent = cells_by_code[parent_code].geometry
        union = shapely.union_all([metric(k.geometry) for k in kids])
        parent_m2 = metric(parent).area
        assert abs(union.area - parent_m2) <= 1e-4 * parent_m2, parent_code
        assert union.symmetric_difference(metric(parent)).area <= 1e-4 * parent_m2, parent_code
        for a, b in itertools.combinations(kids, 2):
            assert planar_m2(a.geometry.intersection(b.geometry)) < 1.0, (a.code, b.code)
        for k in kids:
            assert planar_m2(k.geometry.difference(parent)) < 0.01, k.code


def test_other_seeds_tile_as_well_and_place_the_lane_329_mouth() -> None:
    for seed in (1, 2, 197, 2026):
        d = build_district(seed)
        by_code = {c.code: c for c in d.cells}
        for parent_code, kids in children_of(d).items():
            parent = metric(by_code[parent_code].geometry)
            union = shapely.union_all([metric(k.geometry) for k in kids])
            assert union.symmetric_difference(parent).area <= 1e-4 * parent.area
            assert all(isinstance(k.geometry, Polygon) and k.geometry.is_valid for k in kids)
        mouth = Point(d.lane_329_mouth)
        groups = [c for c in d.cells if c.level == "building_group" and c.geometry.contains(mouth)]
        assert len(groups) == 1, seed


def test_every_household_lies_inside_its_building_group(
    district: District, cells_by_code: dict
) -> None:
    for h in district.households:
        group = cells_by_code[h.building_group_code]
        assert group.level == "building_group"
        assert group.geometry.contains(Point(h.lon, h.lat)), h.address


def test_every_building_group_has_households_and_buildings_are_shared(
    district: District,
) -> None:
    groups = {c.code for c in district.cells if c.level == "building_group"}
    assert {h.building_group_code for h in district.households} == groups
    per_building: dict[tuple, list] = defaultdict(list)
    for h in district.households:
        per_building[(h.road, h.lane, h.building_no)].append(h)
    assert all(len(hs) >= 2 for hs in per_building.values())
    assert all(len({(h.lon, h.lat) for h in hs}) == 1 for hs in per_building.values())
    assert 200 <= len(district.households) <= 450


def test_addresses_are_unique_chinese_addresses_on_real_roads(district: District) -> None:
    data = json.loads(ROADS_FILE.read_text(encoding="utf-8"))
    real_roads = {f["properties"]["name"] for f in data["features"]}
    addresses = [h.address for h in district.households]
    assert len(set(addresses)) == len(addresses)
    for h in district.households:
        assert h.road in real_roads
        lane = f"{h.lane}弄" if h.lane else ""
        assert h.address == f"{h.road}{lane}{h.building_no}号{h.room}室"
        assert re.fullmatch(r"\d*", h.lane) and re.fullmatch(r"[1-6]0[1-3]", h.room)
    assert {"新华路", "法华镇路", "番禺路", "定西路"} <= {h.road for h in district.households}


def test_residents_form_households_with_one_head_each(district: District) -> None:
    assert 600 <= len(district.residents) <= 800
    members: dict[str, list] = defaultdict(list)
    for r in district.residents:
        members[r.household_id].append(r)
    assert set(members) == {h.id for h in district.households}
    for rs in members.values():
        assert [r.relation for r in rs].count("户主") == 1
    for r in district.residents:
        assert r.relation in RELATIONS and r.gender in ("F", "M")
        assert 0 <= age(r.birth_year) <= 105
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", r.name)


def test_phones_are_unique_and_clearly_fictional(district: District) -> None:
    phones = [r.phone for r in district.residents if r.phone is not None]
    assert len(set(phones)) == len(phones)
    assert all(re.fullmatch(r"1380000\d{4}", p) for p in phones)
    assert all(r.phone is None for r in district.residents if age(r.birth_year) < 14)


def test_care_tags_are_consistent_with_age_and_household(district: District) -> None:
    members: dict[str, list] = defaultdict(list)
    for r in district.residents:
        members[r.household_id].append(r)
    for r in district.residents:
        house = members[r.household_id]
        ages = [age(m.birth_year) for m in house]
        tags = set(r.care_tags)
        assert tags <= set(CARE_TAGS) and len(tags) == len(r.care_tags)
        assert ("aged_80_plus" in tags) == (age(r.birth_year) >= 80)
        assert ("living_alone" in tags) == (len(house) == 1 and ages[0] >= 60)
        assert ("elderly_only_household" in tags) == (len(house) >= 2 and min(ages) >= 60)
        if "empty_nest" in tags:
            assert min(ages) >= 60
        if "child_in_difficulty" in tags:
            assert age(r.birth_year) < 18
        if "family_planning_special" in tags:
            assert age(r.birth_year) >= 50 and all(m.relation != "子女" for m in house)
        if "low_income" in tags:
            assert all("low_income" in m.care_tags for m in house)


def test_between_15_and_25_percent_of_residents_carry_a_care_tag(district: District) -> None:
    share = sum(1 for r in district.residents if r.care_tags) / len(district.residents)
    assert 0.15 <= share <= 0.25


def test_lane_329_mouth_lies_on_xinhua_road_in_exactly_one_building_group(
    district: District, cells_by_code: dict
) -> None:
    mouth = Point(district.lane_329_mouth)
    assert cells_by_code["310105004"].geometry.contains(mouth)
    groups = [
        c for c in district.cells if c.level == "building_group" and c.geometry.contains(mouth)
    ]
    assert len(groups) == 1
    data = json.loads(ROADS_FILE.read_text(encoding="utf-8"))
    xinhua = shapely.union_all(
        [shape(f["geometry"]) for f in data["features"] if f["properties"]["name"] == "新华路"]
    )
    assert metric(xinhua).distance(metric(mouth)) < 20.0
    lane_329 = [h for h in district.households if h.road == "新华路" and h.lane == "329"]
    assert lane_329
    assert {h.building_group_code for h in lane_329} >= {groups[0].code}


def test_landmarks_lie_inside_the_street(district: District, cells_by_code: dict) -> None:
    street = cells_by_code["310105004"].geometry
    keys = [m.key for m in district.landmarks]
    assert len(set(keys)) == len(keys)
    assert all(street.contains(Point(m.lon, m.lat)) for m in district.landmarks)


def test_ids_are_name_based_uuids_stable_across_runs(district: District) -> None:
    for h in district.households:
        expected = uuid.uuid5(DEMO_NAMESPACE, f"household/{district.seed}/{h.address}")
        assert h.id == str(expected)
    resident_ids = [r.id for r in district.residents]
    assert len(set(resident_ids)) == len(resident_ids)
    assert all(uuid.UUID(i).version == 5 for i in resident_ids)
    assert str(DEMO_NAMESPACE) == "89d3d5cd-4531-5b21-96e4-71842dc87924"


def test_the_summary_counts_what_the_district_holds(district: District) -> None:
    summary = district_summary(district)
    assert summary["cells_per_level"]["street"] == 1
    assert sum(summary["cells_per_level"].values()) == len(district.cells)
    assert summary["households"] == len(district.households)
    assert summary["residents"] == len(district.residents)
    json.dumps(summary, ensure_ascii=False)
