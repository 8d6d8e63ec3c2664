"""Real boundaries: OSM Xinhua (WGS-84) and DataV districts (GCJ-02), as the research note asks."""

from __future__ import annotations

import json

import pytest
import shapely

from geo.levels import Level
from geo.locate import GridIndex, IndexedCell
from geo.measure import geodesic_area_m2
from geo.reading import PropertyNames, read_grid_file
from tests.geo.conftest import SHANGHAI_BBOX, data_bytes

DATAV = PropertyNames(code="adcode", level=None, parent_code=None)
OSM = PropertyNames(code="adcode_12", level=None, parent_code=None)
POINTS = json.loads(data_bytes("real/derived_xinhua_reference_points_wgs84.geojson"))["features"]
WUKANG_MANSION_WGS84 = (121.4336938, 31.2062672)  # 武康大楼, in 徐汇区


def index_of(cells) -> GridIndex:  # type: ignore[no-untyped-def]
    return GridIndex.build(
        IndexedCell(i, c.code, c.name, c.level, c.parent_code, c.geometry)
        for i, c in enumerate(cells)
    )


def read_datav(*files: str, datum: str = "gcj02"):  # type: ignore[no-untyped-def]
    features = [f for name in files for f in json.loads(data_bytes(f"real/{name}"))["features"]]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    return read_grid_file(
        data, datum=datum, property_names=DATAV, default_level="street", district_bbox=SHANGHAI_BBOX
    )


def test_osm_xinhua_boundary_assigns_exactly_the_reference_points_inside() -> None:
    result = read_grid_file(
        data_bytes("real/osm_xinhua_boundary_wgs84.geojson"),
        datum="wgs84",
        property_names=OSM,
        default_level=Level.STREET,
        district_bbox=SHANGHAI_BBOX,
    )
    assert not result.report.problems
    index = index_of(result.cells)
    assert len(POINTS) == 44
    for point in POINTS:
        lon, lat = point["geometry"]["coordinates"]
        placement = index.locate(lon, lat)
        assert (placement.status == "in") is point["properties"]["inside_xinhua_osm"], point


@pytest.mark.parametrize(
    ("lon", "lat", "status"),
    [
        (121.4110, 31.2075, "none"),  # 171 m west, beyond Kaixuan Rd
        (121.4135, 31.2100, "in"),  # inside, 33 m from the edge
    ],
)
def test_points_near_the_xinhua_edge_follow_the_50_m_rule(lon, lat, status) -> None:
    result = read_grid_file(
        data_bytes("real/osm_xinhua_boundary_wgs84.geojson"),
        datum="wgs84",
        property_names=OSM,
        default_level="street",
    )
    assert index_of(result.cells).locate(lon, lat).status == status


def test_the_gcj02_copy_of_xinhua_converts_back_onto_the_osm_polygon() -> None:
    wgs = (
        read_grid_file(
            data_bytes("real/osm_xinhua_boundary_wgs84.geojson"),
            datum="wgs84",
            property_names=OSM,
            default_level="street",
        )
        .cells[0]
        .geometry
    )
    gcj = read_grid_file(
        data_bytes("real/derived_xinhua_boundary_gcj02.geojson"),
        datum="gcj02",
        property_names=OSM,
        default_level="street",
    )
    moved = shapely.symmetric_difference(wgs, gcj.cells[0].geometry)
    # the derived file keeps 7 decimals (≈1 cm); over a 6 km boundary that is ≲ 60 m²
    assert geodesic_area_m2(moved) < 60.0  # of 2.19 km²


def test_changning_with_clockwise_winding_is_treated_like_the_ccw_v3_file() -> None:
    master = read_datav("datav_310105_changning_master.json")
    v3 = read_datav("datav_310105_changning_v3.json")
    assert {p.rule for p in master.report.problems} == {"winding"}
    assert not v3.report.problems
    a, b = master.cells[0].geometry, v3.cells[0].geometry
    assert shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=0)
    assert geodesic_area_m2(a) == pytest.approx(37.15e6, rel=0.01)
    master_index, v3_index = index_of(master.cells), index_of(v3.cells)
    for point in POINTS:
        lon, lat = point["geometry"]["coordinates"]
        assert master_index.locate(lon, lat) == v3_index.locate(lon, lat)


def test_wukang_mansion_lands_in_xuhui_only_after_converting_the_gcj02_datum() -> None:
    right = index_of(read_datav("datav_310000_shanghai_districts_v3.json").cells)
    wrong = index_of(read_datav("datav_310000_shanghai_districts_v3.json", datum="wgs84").cells)
    assert len(right.cells) == 16
    assert right.locate(*WUKANG_MANSION_WGS84).cell.name == "徐汇区"
    assert wrong.locate(*WUKANG_MANSION_WGS84).cell.name == "长宁区"


def test_a_point_on_the_changning_edge_gets_one_cell_whatever_the_build_order() -> None:
    cells = read_datav("datav_310000_shanghai_districts_v3.json").cells
    changning = next(c for c in cells if c.name == "长宁区")
    vertex = shapely.get_parts(changning.geometry)[0].exterior.coords[0]  # shared edge
    answers = {index_of(order).locate(*vertex).cell.code for order in (cells, cells[::-1])}
    assert len(answers) == 1


def test_the_five_datav_county_files_together_report_the_changning_minhang_overlap() -> None:
    result = read_datav(
        "datav_310105_changning_v3.json",
        "datav_310104_xuhui_v3.json",
        "datav_310106_jingan_v3.json",
        "datav_310107_putuo_v3.json",
        "datav_310112_minhang_v3.json",
    )
    overlaps = {
        frozenset((p.code, p.data["other_code"])): p
        for p in result.report.problems
        if p.rule == "sibling_overlap"
    }
    minhang = overlaps[frozenset(("310105", "310112"))]
    assert minhang.severity == "error"
    assert 9_000 < minhang.data["overlap_area_m2"] < 12_000
    assert frozenset(("310105", "310104")) in overlaps  # Xuhui ≈ 1 658 m²
    index = index_of(result.cells)
    assert index.locate(*minhang.location).cell.code == "310105"  # smallest code, once
