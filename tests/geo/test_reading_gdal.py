"""What GDAL really writes: legacy crs members, Gauss-Kruger metres, CW shapefile rings, GBK."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.levels import Level
from geo.locate import GridIndex, IndexedCell
from geo.reading import PropertyNames, read_grid_file
from tests.geo.conftest import SHANGHAI_BBOX, data_bytes

NAMES = PropertyNames(code="cell_id", level=None, parent_code=None)


def read(filename: str, datum: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
    return read_grid_file(
        data_bytes(f"gdal-generated/{filename}"),
        datum=datum,
        property_names=NAMES,
        default_level="street",
        district_bbox=SHANGHAI_BBOX,
        **kwargs,
    )


SOURCE = {c.code: c.geometry for c in read("src_cell_wgs84.geojson").cells}


@pytest.mark.parametrize(
    ("filename", "datum_used"),
    [
        ("gk_epsg4549_cm120.geojson", "EPSG:4549"),
        ("gk_epsg4528_zone40.geojson", "EPSG:4528"),
        ("gk_epsg4547_cm114.geojson", "EPSG:4547"),
        ("gk_epsg4549_bbox_prec3.geojson", "EPSG:4549"),
        ("from_shp_4549_keep_crs.geojson", "EPSG:4549"),
        ("cgcs2000_epsg4490.geojson", "wgs84"),
        ("from_shp_4326.geojson", "wgs84"),
        ("from_shp_4549_to_4326.geojson", "wgs84"),
        ("rfc7946_from_4549.geojson", "wgs84"),
    ],
)
def test_gdal_output_lands_on_the_source_cells_in_wgs84(filename: str, datum_used: str) -> None:
    result = read(filename)
    assert not result.report.has_errors, result.report.to_dict()
    assert result.datum_used is not None and result.datum_used.name == datum_used
    assert {c.code for c in result.cells} == {"XH-001", "XH-002"}
    tolerance = 1e-5 if "prec3" in filename else 1e-7  # 3 decimals of a metre ≈ 1e-8°
    for cell in result.cells:
        assert shapely.equals_exact(
            shapely.normalize(cell.geometry),
            shapely.normalize(SOURCE[cell.code]),
            tolerance=tolerance,
        )
        coords = shapely.get_coordinates(cell.geometry)
        assert np.all((coords[:, 0] > 121.41) & (coords[:, 0] < 121.43))  # never metres


def test_projected_file_keeps_its_crs_even_when_wgs84_was_chosen_and_says_so() -> None:
    result = read("gk_epsg4549_cm120.geojson", datum="wgs84")
    assert result.datum_used.name == "EPSG:4549"
    (conflict,) = [p for p in result.report.problems if p.rule == "crs_conflict"]
    assert conflict.severity == "warning" and "EPSG::4549" in conflict.message_en


def test_cgcs2000_is_accepted_with_a_note() -> None:
    result = read("cgcs2000_epsg4490.geojson")
    notes = [p for p in result.report.problems if p.rule == "crs_note"]
    assert notes and "CGCS2000" in notes[0].message_en and "CGCS2000" in notes[0].message_zh


def test_shapefile_winding_is_a_warning_and_fixed() -> None:
    result = read("from_shp_4549_to_4326.geojson")
    assert {p.rule for p in result.report.problems} == {"winding"}
    assert all(p.severity == "warning" for p in result.report.problems)
    assert {r.action for r in result.repairs} == {"rewind"}


def test_metre_coordinates_declared_as_degrees_are_refused_naming_the_crs(make_grid_file):
    raw = data_bytes("gdal-generated/gk_epsg4549_cm120.geojson").replace(
        b'"crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:EPSG::4549" } },', b""
    )
    result = read_grid_file(raw, datum="wgs84", property_names=NAMES, default_level="street")
    rules = {p.rule for p in result.report.problems}
    assert "metres_as_degrees" in rules and not result.cells
    message = next(p for p in result.report.problems if p.rule == "metres_as_degrees")
    assert "635183" in message.message_en and "wgs84" in message.message_en


def test_a_point_in_the_hole_of_xh001_is_not_assigned_to_xh001() -> None:
    cells = read("from_shp_4549_to_4326.geojson").cells
    index = GridIndex.build(
        IndexedCell(i, c.code, c.name, Level.STREET, None, c.geometry) for i, c in enumerate(cells)
    )
    placement = index.locate(121.4199, 31.2095)
    assert placement.status == "none"
    assert index.locate(121.4190, 31.2100).cell.code == "XH-001"


def test_gbk_file_without_cpg_is_refused_with_a_message_naming_gbk() -> None:
    result = read("from_shp_gbk_nocpg.geojson")
    (found,) = [p for p in result.report.problems if p.rule == "not_utf8"]
    assert found.severity == "error" and "GBK" in found.message_en and "GBK" in found.message_zh
    assert "UTF-8" in found.message_zh
    # decoded as GB18030 so the report can still show the cells by name
    assert [c.name for c in result.cells] == ["新华路街道 第1网格", "新华路街道 第2网格"]


def test_gbk_file_with_cpg_was_written_as_utf8_and_is_fine() -> None:
    result = read("from_shp_gbk.geojson")
    assert not result.report.has_errors
    assert result.cells[0].properties["community_"] == "番禺路居委"


def test_progress_reports_reach_the_total() -> None:
    calls: list[tuple[int, int]] = []
    read("src_cell_wgs84.geojson", progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
