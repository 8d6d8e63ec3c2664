"""Cross-cell rules on synthetic multi-level grids: parents, containment, overlaps, gaps."""

from __future__ import annotations

import pytest

from geo.hierarchy import Tolerances
from geo.reading import read_grid_file
from tests.geo.conftest import box_ring, feature

M = 1 / 111_000  # about one metre of latitude, in degrees
LON, LAT = 121.42, 31.20


def clean_grid() -> list[dict]:
    """street S → residential R → blocks B1, B2 → building groups G1..G4, tiling exactly."""
    d = 0.002
    return [
        feature("S", "街道", None, box_ring(LON, LAT, LON + 2 * d, LAT + d)),
        feature("R", "居民区", "S", box_ring(LON, LAT, LON + 2 * d, LAT + d)),
        feature("B1", "块区", "R", box_ring(LON, LAT, LON + d, LAT + d)),
        feature("B2", "block", "R", box_ring(LON + d, LAT, LON + 2 * d, LAT + d)),
        feature("G1", "楼组", "B1", box_ring(LON, LAT, LON + d, LAT + d / 2)),
        feature("G2", "楼组", "B1", box_ring(LON, LAT + d / 2, LON + d, LAT + d)),
        feature("G3", "building_group", "B2", box_ring(LON + d, LAT, LON + 2 * d, LAT + d)),
    ]


def rules_of(data: bytes, **kwargs) -> dict[str, list]:  # type: ignore[no-untyped-def]
    result = read_grid_file(data, datum="wgs84", **kwargs)
    found: dict[str, list] = {}
    for p in result.report.problems:
        found.setdefault(p.rule, []).append(p)
    return found


def test_a_clean_four_level_grid_in_chinese_and_english_level_names_has_no_problems(
    make_grid_file,
) -> None:
    result = read_grid_file(make_grid_file(*clean_grid()), datum="wgs84")
    assert result.report.problems == []
    assert [c.level.value for c in result.cells][:2] == ["street", "residential_area"]


@pytest.mark.parametrize(
    ("poke_m", "tolerance_m", "reported"),
    [
        (20, 5, True),
        (2, 5, False),
        (2, 1, True),
    ],
)
def test_a_child_poking_out_of_its_parent_is_reported_beyond_the_tolerance(
    make_grid_file, poke_m, tolerance_m, reported
) -> None:
    grid = clean_grid()
    grid[6] = feature(
        "G3", "楼组", "B2", box_ring(LON + 0.002, LAT - poke_m * M, LON + 0.004, LAT + 0.002)
    )
    found = rules_of(
        make_grid_file(*grid), tolerances=Tolerances(child_outside_parent_m=tolerance_m)
    )
    outside = [p for p in found.get("child_outside_parent", []) if p.code == "G3"]
    assert bool(outside) is reported
    if reported:
        (p,) = outside
        assert p.data["parent_code"] == "B2" and p.severity == "error"
        assert p.data["outside_area_m2"] == pytest.approx(poke_m * 190.0, rel=0.1)
        assert p.data["outside_distance_m"] == pytest.approx(poke_m, rel=0.1)
        assert p.location is not None and p.location[1] < LAT


def test_overlapping_siblings_report_the_overlap_area_and_spot(make_grid_file) -> None:
    grid = clean_grid()
    grid[5] = feature(
        "G2", "楼组", "B1", box_ring(LON, LAT + 0.001 - 10 * M, LON + 0.002, LAT + 0.002)
    )
    (p,) = rules_of(make_grid_file(*grid))["sibling_overlap"]
    assert {p.code, p.data["other_code"]} == {"G1", "G2"}
    assert p.data["overlap_area_m2"] == pytest.approx(10 * 190.0, rel=0.1)
    assert LAT + 0.001 - 10 * M < p.location[1] < LAT + 0.001


def test_cells_sharing_an_edge_do_not_overlap(make_grid_file) -> None:
    assert "sibling_overlap" not in rules_of(make_grid_file(*clean_grid()))


def test_a_gap_in_a_parents_coverage_is_a_warning_with_area_and_place(make_grid_file) -> None:
    grid = clean_grid()
    grid[5] = feature("G2", "楼组", "B1", box_ring(LON, LAT + 0.0015, LON + 0.002, LAT + 0.002))
    (p,) = rules_of(make_grid_file(*grid))["coverage_gap"]
    assert p.code == "B1" and p.severity == "warning"
    assert p.data["gap_area_m2"] == pytest.approx(0.0005 * 111_000 * 0.002 * 95_200, rel=0.05)
    assert LAT + 0.001 < p.location[1] < LAT + 0.0015


def test_a_sliver_gap_narrower_than_the_tolerance_is_ignored(make_grid_file) -> None:
    grid = clean_grid()
    grid[5] = feature(
        "G2", "楼组", "B1", box_ring(LON, LAT + 0.001 + 2 * M, LON + 0.002, LAT + 0.002)
    )
    assert "coverage_gap" not in rules_of(make_grid_file(*grid))


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"parent_code": None}, "parent_missing"),
        ({"parent_code": "NOPE"}, "parent_not_found"),
        ({"parent_code": "S"}, "parent_level_mismatch"),
        ({"level": "district"}, "level_invalid"),
        ({"code": ""}, "code_missing"),
        ({"code": "G1"}, "code_duplicate"),
    ],
)
def test_property_mistakes_are_errors_naming_the_feature(make_grid_file, change, rule) -> None:
    grid = clean_grid()
    grid[5]["properties"].update(change)
    found = rules_of(make_grid_file(*grid))[rule]
    assert found[0].feature_index == 5 and found[0].severity == "error"


def test_property_names_are_configurable(make_grid_file) -> None:
    from geo.reading import PropertyNames

    renamed = []
    for f in clean_grid():
        p = f["properties"]
        f["properties"] = {
            "编码": p["code"],
            "名称": p["name"],
            "level_name": p["level"],
            "community_": p["parent_code"],
        }
        renamed.append(f)
    names = PropertyNames(code="编码", name="名称", level="level_name", parent_code="community_")
    result = read_grid_file(make_grid_file(*renamed), datum="wgs84", property_names=names)
    assert not result.report.problems and result.cells[4].parent_code == "B1"


def test_swapped_axes_and_string_coordinates_are_named(make_grid_file) -> None:
    swapped = feature(
        "S", "street", None, [[y, x] for x, y in box_ring(LON, LAT, LON + 0.01, LAT + 0.01)]
    )
    text = feature("T", "street", None, box_ring(LON, LAT, LON + 0.01, LAT + 0.01))
    text["geometry"]["coordinates"][0][1][0] = "121.43"
    found = rules_of(make_grid_file(swapped, text))
    assert found["axes_swapped"][0].code == "S"
    assert found["string_coordinate"][0].code == "T"


def test_a_geometry_far_from_the_district_is_refused(make_grid_file) -> None:
    beijing = feature("S", "street", None, box_ring(116.40, 39.90, 116.41, 39.91))
    (p,) = rules_of(make_grid_file(beijing), district_bbox=(121.3, 31.1, 121.5, 31.3))[
        "far_from_district"
    ]
    assert p.data["distance_km"] > 900


def test_a_file_of_lower_levels_attaches_to_published_parents(make_grid_file) -> None:
    full = read_grid_file(make_grid_file(*clean_grid()), datum="wgs84").cells
    published = [c for c in full if c.code in ("S", "R", "B1", "B2")]
    lower = [f for f in clean_grid() if f["properties"]["code"].startswith("G")]
    alone = rules_of(make_grid_file(*lower))
    attached = rules_of(make_grid_file(*lower), parents=published)
    assert {p.code for p in alone["parent_not_found"]} == {"G1", "G2", "G3"}
    assert attached == {}


def test_a_child_outside_a_published_parent_is_still_reported(make_grid_file) -> None:
    full = read_grid_file(make_grid_file(*clean_grid()), datum="wgs84").cells
    published = [c for c in full if c.code in ("S", "R", "B1")]
    stray = feature("G9", "楼组", "B1", box_ring(LON + 0.003, LAT, LON + 0.004, LAT + 0.001))
    found = rules_of(make_grid_file(stray), parents=published)
    assert [p.code for p in found["child_outside_parent"]] == ["G9"]


def test_a_millimetre_sliver_along_a_shared_edge_is_not_an_overlap(make_grid_file) -> None:
    grid = clean_grid()
    # B2 starts 5 mm inside B1 along its whole 220 m edge: 1.1 m² but 5 mm wide
    sliver = 0.005 * M
    grid[3] = feature(
        "B2", "block", "R", box_ring(LON + 0.002 - sliver, LAT, LON + 0.004, LAT + 0.002)
    )
    assert "sibling_overlap" not in rules_of(make_grid_file(*grid))
