"""Every third-party edge case in tests/data/geo/geojson-edge gets its PROVENANCE verdict."""

from __future__ import annotations

import json

import pytest
import shapely

from geo.reading import read_grid_file
from tests.geo.conftest import DATA, SHANGHAI_BBOX, data_bytes

EDGE = DATA / "geojson-edge"
# These files carry no code/name/level properties, so every cell reports code_missing and the
# file level_absent (level_invalid where only some features lack it); the rule under test is
# the other one.
NOISE = {"code_missing", "name_missing", "level_invalid", "level_absent"}

REJECTED = {
    "mb_unclosed_ring.geojson": {"ring_not_closed"},
    "mb_multipolygon_closing_point_3d.geojson": {"mixed_dimensions"},
    "mb_ring_3_positions.geojson": {"ring_too_short"},
    "mb_geometrycollection_nested.geojson": {"not_polygon"},
    "mb_geometrycollection_single_point.geojson": {"not_polygon"},
    "mb_excessive_precision_linestring.geojson": {"not_polygon"},
    "mb_point_4_dims.geojson": {"not_polygon"},
    "mb_string_coordinate.geojson": {"not_polygon"},
    "mb_type_lowercase.geojson": {"type_case", "not_polygon"},
    "mb_not_json.geojson": {"not_json"},
    "mb_root_null.geojson": {"not_geojson"},
    "mb_feature_id_object.geojson": {"not_polygon"},
    "mb_polygon_nesting_too_shallow.geojson": {"bad_nesting"},
    "mb_feature_null_geometry.geojson": {"geometry_null"},
    "mb_bbox_3d_points.geojson": {"not_polygon"},
    "mb_legacy_crs_crs84.geojson": {"no_cells"},
    "mb_crs_unknown_type_and_false_geometry.geojson": {"crs_unknown", "not_polygon"},
    "cr_unclosed_ring.geojson": {"ring_not_closed"},
    "cr_ring_two_unique_nodes.geojson": {"ring_too_short"},
    "cr_self_intersection_small.geojson": {"self_intersection"},
    "cr_self_intersection_bowtie.geojson": {"self_intersection"},
    "cr_hole_crosses_shell.geojson": {"hole_crosses_shell"},
    "cr_polygon_4d.geojson": {"position_4d"},
    "cr_lon_minus_190.geojson": {"coordinates_out_of_range"},
    "cr_crosses_antimeridian.geojson": {"far_from_district"},
    "cr_crs_epsg32632_projected.geojson": {"far_from_district"},
    "cr_empty_position.geojson": {"bad_position"},
    "cr_features_null_entry.geojson": {"not_geojson"},
    "cr_empty_featurecollection.geojson": {"no_cells"},
    "cr_zero_length_linestring.geojson": {"not_polygon"},
    "turf_kinks_hourglass.geojson": {"self_intersection"},
    "turf_kinks_issue2627_real_holes.geojson": {"self_intersection"},
    "gdal_point_with_utf8bom.json": {"not_polygon"},
    "gdal_featurecollection_pointz.json": {"not_polygon"},
    "pygeojson_point_nan.json": {"non_finite_number"},
    "pygeojson_point_infinity.json": {"non_finite_number"},
}
# Accepted files are read without a district (most lie outside Shanghai): (rules, cells)
ACCEPTED = {
    "mb_exterior_clockwise.geojson": ({"winding"}, 1),
    "mb_hole_ccw.geojson": ({"winding"}, 1),
    "cr_exterior_clockwise_berlin.geojson": ({"winding"}, 1),
    "cr_hole_not_cw.geojson": ({"winding"}, 1),
    "cr_polygon_with_holes.geojson": (set(), 1),
    "cr_duplicate_consecutive_nodes.geojson": (set(), 1),
    "cr_polygon_3d.geojson": ({"z_dropped"}, 1),
    "cr_bbox_lat_lon_swapped.geojson": (set(), 1),
    "cr_bare_polygon_no_feature.geojson": (set(), 1),
}


def test_every_edge_file_has_an_expectation() -> None:
    files = {p.name for p in EDGE.iterdir() if p.name != "PROVENANCE.md"}
    assert files == REJECTED.keys() | ACCEPTED.keys()


@pytest.mark.parametrize("filename", sorted(REJECTED))
def test_rejected_edge_file_reports_its_rule_as_a_blocking_error(filename: str) -> None:
    result = read_grid_file(
        data_bytes(f"geojson-edge/{filename}"), datum=None, district_bbox=SHANGHAI_BBOX
    )
    errors = {p.rule for p in result.report.problems if p.severity == "error"}
    assert result.report.has_errors
    assert REJECTED[filename] <= errors, errors


@pytest.mark.parametrize("filename", sorted(ACCEPTED))
def test_accepted_edge_file_gives_valid_ccw_cells_and_only_the_expected_warnings(filename):
    rules, cell_count = ACCEPTED[filename]
    result = read_grid_file(data_bytes(f"geojson-edge/{filename}"), datum=None)
    found = {p.rule for p in result.report.problems} - NOISE
    assert found == rules
    assert {p.rule for p in result.report.problems if p.severity == "error"} <= NOISE
    assert len(result.cells) == cell_count
    for cell in result.cells:
        assert cell.geometry.is_valid and not cell.geometry.has_z
        for part in shapely.get_parts(cell.geometry):
            assert part.exterior.is_ccw and not any(r.is_ccw for r in part.interiors)


@pytest.mark.parametrize("filename", sorted(REJECTED) + sorted(ACCEPTED))
def test_every_report_is_strict_json_with_both_languages(filename: str) -> None:
    result = read_grid_file(data_bytes(f"geojson-edge/{filename}"), datum="wgs84")
    text = json.dumps(result.report.to_dict(), allow_nan=False, ensure_ascii=False)
    assert json.loads(text)["problems"]
    assert all(p.message_zh and p.message_en for p in result.report.problems)


@pytest.mark.parametrize(
    "filename",
    [
        "cr_self_intersection_bowtie.geojson",
        "cr_self_intersection_small.geojson",
        "turf_kinks_hourglass.geojson",
    ],
)
def test_self_intersection_names_a_point_on_the_polygon(filename: str) -> None:
    result = read_grid_file(data_bytes(f"geojson-edge/{filename}"), datum=None)
    (found,) = [p for p in result.report.problems if p.rule == "self_intersection"]
    assert found.location is not None and found.feature_index == 0
    spot = shapely.Point(found.location)
    assert result.cells[0].geometry.boundary.distance(spot) < 1e-6


@pytest.mark.parametrize(
    "filename",
    [
        "cr_self_intersection_bowtie.geojson",
        "turf_kinks_hourglass.geojson",
        "cr_hole_crosses_shell.geojson",
        "turf_kinks_issue2627_real_holes.geojson",
    ],
)
def test_repair_makes_valid_polygons_and_lists_what_it_changed(filename: str) -> None:
    result = read_grid_file(data_bytes(f"geojson-edge/{filename}"), datum=None, repair=True)
    assert {p.rule for p in result.report.problems if p.severity == "error"} <= NOISE
    assert [r.action for r in result.repairs if r.action == "make_valid"] == ["make_valid"]
    assert "repaired" in {p.rule for p in result.report.problems}
    assert all(c.geometry.is_valid for c in result.cells)


def test_a_point_in_a_hole_of_the_holes_file_is_not_in_the_cell() -> None:
    from geo.levels import Level
    from geo.locate import GridIndex, IndexedCell

    cell = read_grid_file(
        data_bytes("geojson-edge/cr_polygon_with_holes.geojson"), datum=None
    ).cells[0]
    hole = shapely.Polygon(cell.geometry.interiors[0])
    inside_hole = hole.representative_point()
    index = GridIndex.build([IndexedCell(1, "A", "a", Level.STREET, None, cell.geometry)])
    assert index.locate(inside_hole.x, inside_hole.y, near_m=0).status == "none"
    inside = cell.geometry.representative_point()
    assert index.locate(inside.x, inside.y).status == "in"
