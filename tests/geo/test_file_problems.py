"""One problem per file-level cause (swapped axes, metres, no levels) with the fix that works."""

from __future__ import annotations

import json

import pytest

from geo.code_levels import level_from_code, parent_from_code, preview_levels
from geo.diff import diff_grids
from geo.levels import Level
from geo.reading import read_grid_file
from tests.geo.conftest import SHANGHAI_BBOX, data_bytes, xinhua_grid_features


def collection(features: list[dict], **root: object) -> bytes:
    return json.dumps({"type": "FeatureCollection", **root, "features": features}).encode()


def swapped(features: list[dict]) -> list[dict]:
    for feature in features:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        for rings in polygons:
            for ring in rings:
                ring[:] = [[y, x] for x, y in ring]
    return features


def test_a_file_with_swapped_axes_gets_one_problem_and_a_swap_action() -> None:
    data = collection(swapped(xinhua_grid_features()))
    result = read_grid_file(data, datum="wgs84", district_bbox=SHANGHAI_BBOX)
    (found,) = result.report.problems
    assert found.rule == "axes_swapped" and found.feature_index is None
    assert found.data["count"] == found.data["total"] == 156
    assert "156/156 个要素的坐标看起来是 [纬度, 经度]" in found.message_zh
    (action,) = found.data["actions"]
    assert action["options"] == {"datum": "wgs84", "swap_axes": True}
    assert action["label_zh"] == "交换坐标轴后重新读取"
    assert not result.cells


def test_reading_the_swapped_file_again_with_swapped_axes_gives_the_same_grid() -> None:
    right = read_grid_file(collection(xinhua_grid_features()), datum="wgs84").cells
    again = read_grid_file(
        collection(swapped(xinhua_grid_features())),
        datum="wgs84",
        district_bbox=SHANGHAI_BBOX,
        swap_axes=True,
    )
    assert again.report.problems == [] and diff_grids(right, again.cells).is_empty


def test_one_stray_swapped_feature_keeps_its_own_problem_and_no_file_action() -> None:
    features = xinhua_grid_features()
    swapped(features[-1:])
    result = read_grid_file(collection(features), datum="wgs84", district_bbox=SHANGHAI_BBOX)
    swaps = [p for p in result.report.problems if p.rule == "axes_swapped"]
    assert [p.code for p in swaps] == [features[-1]["properties"]["code"]]
    assert "actions" not in swaps[0].data


def gdal_file(name: str, keep_crs: bool = False) -> bytes:
    """A GDAL-written two-cell file, as streets coded by their cell_id; without its crs member
    unless asked (as a tool that drops it writes it)."""
    document = json.loads(data_bytes(f"gdal-generated/{name}"))
    if not keep_crs:
        document.pop("crs")
    for feature in document["features"]:
        feature["properties"].update(code=feature["properties"]["cell_id"], level="street")
    return json.dumps(document).encode()


def test_projected_metres_declared_as_degrees_are_one_problem_offering_epsg_4549() -> None:
    data = gdal_file("gk_epsg4549_cm120.geojson")
    result = read_grid_file(data, datum="wgs84", district_bbox=SHANGHAI_BBOX)
    (metres,) = [p for p in result.report.problems if p.rule == "metres_as_degrees"]
    assert metres.feature_index is None and metres.data["count"] == 2
    assert metres.data["actions"][0]["options"] == {"datum": "EPSG:4549", "swap_axes": False}
    fixed = read_grid_file(data, datum="EPSG:4549", district_bbox=SHANGHAI_BBOX)
    assert not fixed.report.has_errors and len(fixed.cells) == 2


@pytest.mark.parametrize(
    ("source", "declared", "expected"),
    [
        ("gk_epsg4549_cm120.geojson", "EPSG:4547", "EPSG:4549"),  # CM 114°E chosen for 120°E
        ("gk_epsg4528_zone40.geojson", "EPSG:4549", "EPSG:4528"),  # the zone prefix forgotten
    ],
)
def test_the_wrong_gauss_kruger_zone_is_caught_far_away_and_the_right_one_offered(
    source: str, declared: str, expected: str
) -> None:
    document = json.loads(data_bytes(f"gdal-generated/{source}"))
    document.pop("crs")
    for feature in document["features"]:
        feature["properties"]["level"] = "street"
    result = read_grid_file(
        json.dumps(document).encode(), datum=declared, district_bbox=SHANGHAI_BBOX
    )
    offered = [
        a["options"]["datum"] for p in result.report.problems for a in p.data.get("actions", [])
    ]
    assert offered[:1] == [expected]
    assert sum(p.data.get("count", 1) for p in result.report.problems if "actions" in p.data) == 2


def test_a_file_with_a_wrong_crs_member_is_offered_no_datum_it_would_ignore() -> None:
    """The file's crs member wins over the form (docs/geo.md), so a datum is no fix for it."""
    document = json.loads(gdal_file("gk_epsg4549_cm120.geojson"))
    document["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4547"}}
    result = read_grid_file(
        json.dumps(document).encode(), datum="EPSG:4549", district_bbox=SHANGHAI_BBOX
    )
    assert "far_from_district" in result.report.rules()
    assert all("actions" not in p.data for p in result.report.problems)


def without_levels(features: list[dict]) -> list[dict]:
    for feature in features:
        del feature["properties"]["level"], feature["properties"]["parent_code"]
    return features


def test_a_surveyors_file_without_levels_gets_one_problem_with_a_preview_of_the_code_rule() -> None:
    result = read_grid_file(collection(without_levels(xinhua_grid_features())), datum="wgs84")
    (absent,) = [p for p in result.report.problems if p.rule.startswith("level")]
    assert absent.rule == "level_absent" and absent.feature_index is None
    preview = absent.data["preview"]
    assert preview["counts"] == {
        "street": 1,
        "residential_area": 4,
        "block": 16,
        "building_group": 135,
    }
    assert preview["examples"]["block"][0] == "310105004001-01"
    options = [a["options"] for a in absent.data["actions"]]
    assert options == [{"level_from_code": True}, {"default_level": None}]
    assert (
        "按编码推导层级（街道 1、居民区 4、块区 16、楼组 135）"
        in absent.data["actions"][0]["label_zh"]
    )


def test_levels_and_parents_derived_from_codes_rebuild_the_same_grid() -> None:
    right = read_grid_file(collection(xinhua_grid_features()), datum="wgs84").cells
    derived = read_grid_file(
        collection(without_levels(xinhua_grid_features())), datum="wgs84", level_from_code=True
    )
    assert derived.report.problems == []
    assert diff_grids(right, derived.cells).is_empty
    assert derived.level_preview is not None and derived.level_preview.counts["block"] == 16


def test_a_default_level_makes_a_flat_file_of_building_groups() -> None:
    features = [f for f in xinhua_grid_features() if f["properties"]["level"] == "building_group"]
    for feature in features:
        del feature["properties"]["level"], feature["properties"]["parent_code"]
    flat = read_grid_file(collection(features), datum="wgs84", default_level="building_group")
    assert {c.level for c in flat.cells} == {Level.BUILDING_GROUP}
    assert {p.rule for p in flat.report.problems} == {"parent_missing"}  # they need parents


def test_codes_the_rule_cannot_read_fall_back_to_the_default_or_are_named() -> None:
    features = without_levels(xinhua_grid_features())[:3]
    features[2]["properties"]["code"] = "310105004001001"  # a 15-digit local scheme
    alone = read_grid_file(collection(features), datum="wgs84", level_from_code=True)
    assert [p.code for p in alone.report.problems if p.rule == "level_not_derivable"] == [
        "310105004001001"
    ]
    with_default = read_grid_file(
        collection(features), datum="wgs84", level_from_code=True, default_level="block"
    )
    assert "level_not_derivable" not in with_default.report.rules()


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("310105004", Level.STREET, None),
        ("310105004001", Level.RESIDENTIAL_AREA, "310105004"),
        ("310105004001-01", Level.BLOCK, "310105004001"),
        ("310105004001-01-03", Level.BUILDING_GROUP, "310105004001-01"),
        ("310105004001_01.03", Level.BUILDING_GROUP, "310105004001_01"),
        ("XH", Level.STREET, None),
        ("XH-R1", Level.RESIDENTIAL_AREA, "XH"),
        ("XH-R1-B2-G3", Level.BUILDING_GROUP, "XH-R1-B2"),
        ("7", Level.STREET, None),
        ("XH-R1-B2-G3-X", None, "XH-R1-B2-G3"),
        ("310105004001001", None, None),
        ("31010500", None, None),
        ("  ", None, None),
    ],
)
def test_the_code_rule(code: str, level: Level | None, parent: str | None) -> None:
    assert level_from_code(code) == level
    assert parent_from_code(code) == parent


def test_the_preview_counts_what_it_cannot_read() -> None:
    preview = preview_levels(["310105004", "3101050040011", "x", "x-1"])
    assert preview.counts == {"street": 2, "residential_area": 1}
    assert preview.underivable == ["3101050040011"] and preview.underivable_count == 1
