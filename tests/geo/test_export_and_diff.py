"""Export to RFC 7946 re-imports to the identical grid; diffs by code."""

from __future__ import annotations

import json

import pytest
import shapely

from geo.diff import diff_grids
from geo.export import export_grid_bytes, to_feature_collection
from geo.reading import read_grid_file
from tests.geo.conftest import data_bytes
from tests.geo.test_hierarchy import clean_grid


@pytest.fixture
def cells(make_grid_file):  # type: ignore[no-untyped-def]
    result = read_grid_file(make_grid_file(*clean_grid()), datum="wgs84")
    assert not result.report.has_errors
    return result.cells


def test_export_reimports_to_the_identical_grid(cells) -> None:
    exported = export_grid_bytes(cells)
    again = read_grid_file(exported, datum="wgs84")
    assert again.report.problems == []
    assert export_grid_bytes(again.cells) == exported
    assert diff_grids(cells, again.cells).is_empty


def test_export_of_a_real_boundary_round_trips_exactly() -> None:
    from geo.reading import PropertyNames

    names = PropertyNames(code="adcode_12", level=None, parent_code=None)
    first = read_grid_file(
        data_bytes("real/osm_xinhua_boundary_wgs84.geojson"),
        datum="wgs84",
        property_names=names,
        default_level="street",
    )
    exported = export_grid_bytes(first.cells)
    again = read_grid_file(exported, datum=None)
    assert export_grid_bytes(again.cells) == exported
    assert shapely.equals_exact(again.cells[0].geometry, first.cells[0].geometry, tolerance=1e-7)


def test_export_is_rfc7946_ccw_with_at_most_7_decimals(cells) -> None:
    collection = json.loads(export_grid_bytes(cells))
    assert "crs" not in collection
    for feature in collection["features"]:
        assert set(feature["properties"]) == {"code", "name", "level", "parent_code"}
        ring = feature["geometry"]["coordinates"][0]
        assert shapely.LinearRing(ring).is_ccw
        assert all(len(repr(v).split(".")[-1]) <= 7 for xy in ring for v in xy)


def test_export_in_gcj02_reimports_within_a_centimetre(cells) -> None:
    exported = export_grid_bytes(cells, datum="gcj02")
    assert json.loads(exported)["datum"] == "gcj02"
    again = read_grid_file(exported, datum="gcj02")
    assert not again.report.has_errors
    by_code = {c.code: c.geometry for c in again.cells}
    for cell in cells:
        assert shapely.equals_exact(cell.geometry, by_code[cell.code], tolerance=2e-7)


def test_diff_reports_added_removed_reshaped_renamed_and_reparented(cells) -> None:
    collection = to_feature_collection(cells)
    features = {f["properties"]["code"]: f for f in collection["features"]}
    del features["G3"]
    features["G1"]["properties"]["name"] = "新名字"
    features["G2"]["properties"]["parent_code"] = "B2"
    ring = features["B2"]["geometry"]["coordinates"][0]
    features["B2"]["geometry"]["coordinates"][0] = [
        [x + 0.0001 if x > 121.423 else x, y] for x, y in ring
    ]
    features["G9"] = json.loads(json.dumps(features["G1"]))
    features["G9"]["properties"]["code"] = "G9"
    new = read_grid_file(
        json.dumps({"type": "FeatureCollection", "features": list(features.values())}).encode(),
        datum="wgs84",
    ).cells
    diff = diff_grids(cells, new)
    assert diff.added == ["G9"] and diff.removed == ["G3"]
    assert diff.renamed == [("G1", "格 G1", "新名字")]
    assert diff.reparented == [("G2", "B1", "B2")]
    (reshape,) = diff.reshaped
    assert reshape.code == "B2" and reshape.area_change_m2 == pytest.approx(9.5 * 222, rel=0.1)
    assert reshape.symmetric_difference_m2 == pytest.approx(abs(reshape.area_change_m2), rel=0.01)
    assert json.loads(json.dumps(diff.to_dict()))["added"] == ["G9"]


def test_a_diff_against_an_invalid_draft_polygon_does_not_fail() -> None:
    from shapely import Polygon, box

    from geo.cells import CellDraft
    from geo.diff import diff_grids
    from geo.levels import Level

    square = CellDraft("A", "a", Level.STREET, None, box(121.0, 31.0, 121.01, 31.01))
    bowtie = Polygon([(121.0, 31.0), (121.01, 31.01), (121.01, 31.0), (121.0, 31.01)])
    broken = CellDraft("A", "a", Level.STREET, None, bowtie)
    assert [r.code for r in diff_grids([square], [broken]).reshaped] == ["A"]


def test_vertices_moved_by_export_rounding_are_not_a_reshape() -> None:
    from shapely import box

    from geo.cells import CellDraft
    from geo.diff import diff_grids
    from geo.levels import Level

    exact = CellDraft("A", "a", Level.STREET, None, box(121.00000004, 31.0, 121.01, 31.01))
    rounded = CellDraft("A", "a", Level.STREET, None, box(121.0, 31.0, 121.01, 31.01))
    moved = CellDraft("A", "a", Level.STREET, None, box(121.000002, 31.0, 121.01, 31.01))
    assert diff_grids([exact], [rounded]).is_empty
    assert [r.code for r in diff_grids([exact], [moved]).reshaped] == ["A"]
