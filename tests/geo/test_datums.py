"""Datums: parsing, published GCJ-02/BD-09 vectors, exact inverses, pyproj CRSs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import Polygon

from geo.datums import (
    BD09,
    GCJ02,
    WGS84,
    from_wgs84,
    from_wgs84_arrays,
    geometry_from_wgs84,
    geometry_to_wgs84,
    parse_datum,
    to_wgs84,
    to_wgs84_arrays,
)
from geo.errors import GeoError, UnknownDatumError

# Published vectors, (wgs_lon, wgs_lat, gcj_lon, gcj_lat), kept in one file the phone's
# pwa/js/gcj02.js is tested against too (tests/pwa/test_gcj02.py): where they come from is
# said there.
GCJ_FILE = Path(__file__).resolve().parents[1] / "data" / "geo" / "gcj02-vectors.json"
GCJ_VECTORS = [tuple(v) for v in json.loads(GCJ_FILE.read_text(encoding="utf-8"))["gcj02"]]
# The geotool test agrees with the others only to 8e-8° (8 mm): its implementation differs
# in some constant. Kept, with a sub-metre tolerance, as an independent check.
GEOTOOL_VECTOR = (121.0917077, 30.6107779, 121.09626935575027, 30.608604331756705)
# (gcj_lon, gcj_lat, bd_lon, bd_lat): coordtransform README and the geotool test.
BD_VECTORS = [
    (116.404, 39.915, 116.41036949371029, 39.92133699351021),
    (121.09626935575027, 30.608604331756705, 121.10271732371203, 30.61484572185035),
]
CHINA = st.tuples(st.floats(73.6, 134.7), st.floats(18.2, 53.5))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("wgs84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("bd09", "bd09"),
        ("BD09LL", "bd09"),
        ("EPSG:4549", "EPSG:4549"),
        ("urn:ogc:def:crs:EPSG::4549", "EPSG:4549"),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", "wgs84"),
        ("urn:ogc:def:crs:EPSG::4490", "wgs84"),
        ("EPSG:32632", "EPSG:32632"),
    ],
)
def test_datum_names_and_legacy_crs_urns_parse(text: str, name: str) -> None:
    assert parse_datum(text).name == name


def test_cgcs2000_is_treated_as_wgs84_and_says_so() -> None:
    datum = parse_datum("EPSG:4490")
    assert datum.kind == "wgs84"
    assert datum.note and "CGCS2000" in datum.note


@pytest.mark.parametrize("text", ["mars", "EPSG:999999", "", "urn:ogc:def:crs:EPSG::abc"])
def test_unknown_datums_raise_a_geo_error_naming_the_text(text: str) -> None:
    with pytest.raises(UnknownDatumError) as caught:
        parse_datum(text)
    assert isinstance(caught.value, GeoError)
    assert caught.value.data["text"] == text


@pytest.mark.parametrize(("lon", "lat", "gcj_lon", "gcj_lat"), GCJ_VECTORS)
def test_wgs84_to_gcj02_matches_published_vectors(lon, lat, gcj_lon, gcj_lat) -> None:
    assert from_wgs84(lon, lat, GCJ02) == pytest.approx((gcj_lon, gcj_lat), abs=1e-9)


def test_wgs84_to_gcj02_matches_an_independent_implementation_within_a_centimetre() -> None:
    lon, lat, gcj_lon, gcj_lat = GEOTOOL_VECTOR
    assert from_wgs84(lon, lat, GCJ02) == pytest.approx((gcj_lon, gcj_lat), abs=1e-7)
    assert to_wgs84(gcj_lon, gcj_lat, GCJ02) == pytest.approx((lon, lat), abs=1e-7)


@pytest.mark.parametrize(("lon", "lat", "gcj_lon", "gcj_lat"), GCJ_VECTORS)
def test_gcj02_inverse_recovers_published_wgs84_within_a_centimetre(lon, lat, gcj_lon, gcj_lat):
    assert to_wgs84(gcj_lon, gcj_lat, GCJ02) == pytest.approx((lon, lat), abs=1e-7)


@pytest.mark.parametrize(("gcj_lon", "gcj_lat", "bd_lon", "bd_lat"), BD_VECTORS)
def test_bd09_forward_and_inverse_match_published_vectors(gcj_lon, gcj_lat, bd_lon, bd_lat):
    wgs = to_wgs84(gcj_lon, gcj_lat, GCJ02)
    assert from_wgs84(*wgs, BD09) == pytest.approx((bd_lon, bd_lat), abs=1e-7)
    assert to_wgs84(bd_lon, bd_lat, BD09) == pytest.approx(wgs, abs=1e-7)


def test_the_xinhua_gcj_trap_point_converts_back_to_the_road_crossing() -> None:
    # research note: WGS 新华路×番禺路 (121.425438, 31.203749) is (121.430073, 31.201889) in GCJ
    assert from_wgs84(121.425438, 31.203749, GCJ02) == pytest.approx(
        (121.430073, 31.201889), abs=2e-6
    )


@settings(max_examples=300, deadline=None)
@given(CHINA)
def test_gcj02_round_trip_is_exact_to_a_millimetre_across_china(point) -> None:
    lon, lat = point
    assert to_wgs84(*from_wgs84(lon, lat, GCJ02), GCJ02) == pytest.approx((lon, lat), abs=1e-8)


@settings(max_examples=300, deadline=None)
@given(CHINA)
def test_bd09_round_trip_is_exact_to_a_millimetre_across_china(point) -> None:
    lon, lat = point
    assert to_wgs84(*from_wgs84(lon, lat, BD09), BD09) == pytest.approx((lon, lat), abs=1e-8)


@settings(max_examples=100, deadline=None)
@given(st.tuples(st.floats(-179, -10), st.floats(-80, 80)))
def test_gcj02_equals_wgs84_outside_china(point) -> None:
    assert from_wgs84(*point, GCJ02) == point
    assert to_wgs84(*point, GCJ02) == point


def test_vectorized_transforms_agree_with_the_scalar_ones() -> None:
    rng = np.random.default_rng(3)
    lons, lats = rng.uniform(100, 125, 1000), rng.uniform(20, 45, 1000)
    for datum in (GCJ02, BD09):
        x, y = from_wgs84_arrays(lons, lats, datum)
        back_lon, back_lat = to_wgs84_arrays(x, y, datum)
        assert np.abs(back_lon - lons).max() < 1e-8 and np.abs(back_lat - lats).max() < 1e-8
        assert (x[7], y[7]) == from_wgs84(lons[7], lats[7], datum)


@pytest.mark.parametrize(
    ("epsg", "x", "y"),
    [
        ("EPSG:4549", 635183.58604681212455, 3454958.171544421464205),
        ("EPSG:4528", 40635183.586046815, 3454958.1715444215),
        ("EPSG:4547", 1207872.5318602268, 3477919.1480119894),
    ],
)
def test_gauss_kruger_coordinates_written_by_gdal_reproject_to_xinhua(epsg, x, y) -> None:
    assert to_wgs84(x, y, epsg) == pytest.approx((121.4185, 31.2085), abs=1e-7)


def test_utm_round_trip_through_pyproj_keeps_lon_lat_order() -> None:
    x, y = from_wgs84(9.0, 52.0, "EPSG:32632")
    assert x == pytest.approx(500000, abs=1e-3)
    assert to_wgs84(x, y, "EPSG:32632") == pytest.approx((9.0, 52.0), abs=1e-9)


def test_geometries_move_between_datums_and_back() -> None:
    square = Polygon([(121.42, 31.20), (121.43, 31.20), (121.43, 31.21), (121.42, 31.21)])
    for datum in (WGS84, GCJ02, BD09, parse_datum("EPSG:4549")):
        there = geometry_from_wgs84(square, datum)
        back = geometry_to_wgs84(there, datum)
        assert back.equals_exact(square, tolerance=1e-8)
    assert geometry_from_wgs84(square, GCJ02).centroid.x > square.centroid.x + 0.004
