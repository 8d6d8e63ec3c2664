"""Reading base-layer files: kinds and geometry types, datums, bad coordinates, kept properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo.datums import to_wgs84
from geo.layer_reading import read_layer_file

ROADS = (
    Path(__file__).resolve().parents[2] / "server/demo/data/osm_xinhua_named_roads_wgs84.geojson"
)
XINHUA_BBOX = (121.41, 31.20, 121.44, 31.22)


def collection(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def feature(geometry_type: str, coordinates: object, **properties: object) -> dict:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": geometry_type, "coordinates": coordinates},
    }


LINE = [[121.42, 31.205], [121.425, 31.206]]
SQUARE = [
    [[121.42, 31.205], [121.4202, 31.205], [121.4202, 31.2052], [121.42, 31.2052], [121.42, 31.205]]
]


def rules(result) -> list[str]:
    return [p.rule for p in result.report.problems]


def test_the_real_osm_roads_of_xinhua_read_cleanly_with_their_names():
    result = read_layer_file(
        ROADS.read_bytes(), kind="roads", datum="wgs84", district_bbox=XINHUA_BBOX
    )
    assert not result.report.has_errors, result.report.problems[:3]
    assert len(result.features) == 70
    assert {"新华路", "番禺路", "定西路"} <= {f.label for f in result.features}
    assert result.features[0].properties["class"] in {
        "residential",
        "tertiary",
        "secondary",
        "primary",
    }
    assert rules(result) == []  # the OSM way ids are dropped without a word


@pytest.mark.parametrize(
    ("kind", "geometry_type", "coordinates"),
    [
        ("roads", "LineString", LINE),
        ("roads", "MultiLineString", [LINE, [[121.43, 31.21], [121.431, 31.211]]]),
        ("buildings", "Polygon", SQUARE),
        ("buildings", "MultiPolygon", [SQUARE]),
        ("poi", "Point", [121.42, 31.205]),
    ],
)
def test_each_kind_takes_its_geometry_types(kind, geometry_type, coordinates):
    result = read_layer_file(
        collection(feature(geometry_type, coordinates, name="甲")), kind=kind, datum="wgs84"
    )
    assert not result.report.has_errors and len(result.features) == 1
    # a MultiPolygon of one part is stored as that Polygon
    assert geometry_type.endswith(result.features[0].geometry.geom_type)


@pytest.mark.parametrize(
    ("kind", "geometry_type", "coordinates"),
    [
        ("roads", "Point", [121.42, 31.205]),
        ("buildings", "LineString", LINE),
        ("poi", "Polygon", SQUARE),
    ],
)
def test_a_geometry_of_the_wrong_kind_is_an_error(kind, geometry_type, coordinates):
    result = read_layer_file(
        collection(feature(geometry_type, coordinates)), kind=kind, datum="wgs84"
    )
    assert result.report.has_errors and result.features == []
    assert "layer_geometry_type" in rules(result)


@pytest.mark.parametrize(
    ("coordinates", "rule"),
    [
        ([[121.42, 31.205], [121.42, 31.205]], "line_degenerate"),
        ([["121.42", 31.205], [121.43, 31.2]], "string_coordinate"),
        ([[31.205, 121.42], [31.206, 121.425]], "coordinates_out_of_range"),
        ([121.42, 31.205], "bad_nesting"),
    ],
)
def test_bad_lines_are_reported_by_rule_and_not_kept(coordinates, rule):
    result = read_layer_file(
        collection(feature("LineString", coordinates)), kind="roads", datum="wgs84"
    )
    assert rule in rules(result) and result.features == []


@pytest.mark.parametrize(
    "data", [b"", b"not json", b'{"type": "FeatureCollection", "features": []}']
)
def test_an_unusable_file_is_an_error_never_an_exception(data):
    result = read_layer_file(data, kind="roads", datum="wgs84")
    assert result.report.has_errors and result.features == []


def test_gcj02_positions_are_stored_in_wgs84():
    result = read_layer_file(
        collection(feature("Point", [121.43, 31.20], name="店")), kind="poi", datum="gcj02"
    )
    point = result.features[0].geometry
    assert (point.x, point.y) == pytest.approx(to_wgs84(121.43, 31.20, "gcj02"), abs=1e-9)
    assert result.datum_used.name == "gcj02"


def test_swapped_axes_are_read_when_asked():
    swapped = [[31.205, 121.42], [31.206, 121.425]]
    result = read_layer_file(
        collection(feature("LineString", swapped)), kind="roads", datum="wgs84", swap_axes=True
    )
    assert not result.report.has_errors
    assert result.features[0].geometry.coords[0] == (121.42, 31.205)


def test_a_z_value_is_dropped_with_a_warning():
    line = [[121.42, 31.205, 4.0], [121.425, 31.206, 5.0]]
    result = read_layer_file(collection(feature("LineString", line)), kind="roads", datum="wgs84")
    assert not result.report.has_errors and "z_dropped" in rules(result)
    assert not result.features[0].geometry.has_z


def test_a_feature_far_from_the_district_is_an_error():
    beijing = [[116.40, 39.91], [116.41, 39.92]]
    result = read_layer_file(
        collection(feature("LineString", beijing)),
        kind="roads",
        datum="wgs84",
        district_bbox=XINHUA_BBOX,
    )
    assert "far_from_district" in rules(result) and result.features == []


def test_a_footprint_keeps_its_address_and_number_and_drops_the_household():
    data = collection(
        feature(
            "Polygon",
            SQUARE,
            **{
                "addr:street": "新华路",
                "addr:housenumber": "329弄12",
                "户主": "张三",
                "phone": "13800000000",
            },
        )
    )
    result = read_layer_file(data, kind="buildings", datum="wgs84")
    found = result.features[0]
    assert found.properties == {"street": "新华路", "number": "329弄12"}
    assert found.label == "329弄12号"
    assert result.dropped_keys == ["phone", "户主"]
    assert "properties_dropped" in rules(result) and not result.report.has_errors
