"""geo.points.whole_point: a stored location is a whole WGS-84 point or nothing."""

from __future__ import annotations

import pytest

from geo.points import PointError, whole_point, whole_point_or_none


@pytest.mark.parametrize(
    ("lon", "lat", "field", "problem"),
    [
        (121.4, None, "lat", "half"),
        (None, 31.2, "lon", "half"),
        (float("nan"), 31.2, "lon", "not_a_number"),
        (121.4, float("-inf"), "lat", "not_a_number"),
        (True, 31.2, "lon", "not_a_number"),
        ("121.4", 31.2, "lon", "not_a_number"),
        (10**400, 31.2, "lon", "not_a_number"),
        (180.0001, 31.2, "lon", "out_of_range"),
        (121.4, -90.5, "lat", "out_of_range"),
    ],
)
def test_anything_but_a_whole_point_is_refused_naming_the_axis(lon, lat, field, problem):
    with pytest.raises(PointError) as raised:
        whole_point(lon, lat)
    assert raised.value.data == {"field": field, "problem": problem}
    assert raised.value.code == "invalid_point"
    assert whole_point_or_none(lon, lat) is None


@pytest.mark.parametrize(("lon", "lat"), [(180, 90), (-180, -90), (0, 0), (121, 31.2)])
def test_a_whole_point_comes_back_as_floats(lon, lat):
    assert whole_point(lon, lat) == (float(lon), float(lat))


def test_the_axis_names_of_another_wire_format_are_used_in_the_error():
    with pytest.raises(PointError) as raised:
        whole_point(121.4, None, lon_field="long")
    assert raised.value.data["field"] == "lat"
    with pytest.raises(PointError) as raised:
        whole_point(None, 31.2, lon_field="long")
    assert raised.value.data["field"] == "long"
