"""A stored location is a whole WGS-84 point or nothing: the one check every entry uses."""

from __future__ import annotations

import math

from geo.errors import GeoError

#: Inclusive bounds of WGS-84 longitude and latitude in degrees.
LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)


class PointError(GeoError):
    """A location that is not a whole point: ``data['field']`` names the axis at fault.

    ``data['problem']`` is ``half`` (one axis given, the other missing), ``not_a_number``
    (not a finite number: NaN, infinity, text, a bool) or ``out_of_range``.
    """

    code = "invalid_point"


def _number(value: object, field: str) -> float:
    # bool is an int to Python; a JSON `true` is no coordinate.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PointError(f"{field} is not a number", field=field, problem="not_a_number")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        raise PointError(f"{field} is not a number", field=field, problem="not_a_number") from None
    if not math.isfinite(number):
        raise PointError(f"{field} is not a finite number", field=field, problem="not_a_number")
    return number


def whole_point(
    lon: object, lat: object, *, lon_field: str = "lon", lat_field: str = "lat"
) -> tuple[float, float] | None:
    """Return ``(lon, lat)`` as floats, or None when neither is given; raise PointError.

    A half point (one axis None) is refused: stored, it draws nowhere and breaks maps that
    trust every located row to have both axes.

    >>> whole_point(121.42, 31.2)
    (121.42, 31.2)
    >>> whole_point(None, None) is None
    True
    >>> whole_point(121.42, None)
    Traceback (most recent call last):
    geo.points.PointError: lat is missing: give both or neither
    >>> whole_point(float("nan"), 31.2)
    Traceback (most recent call last):
    geo.points.PointError: lon is not a finite number
    >>> whole_point(121.42, 91)
    Traceback (most recent call last):
    geo.points.PointError: lat is out of range
    """
    if lon is None and lat is None:
        return None
    if lon is None or lat is None:
        field = lon_field if lon is None else lat_field
        raise PointError(f"{field} is missing: give both or neither", field=field, problem="half")
    x, y = _number(lon, lon_field), _number(lat, lat_field)
    if not LON_RANGE[0] <= x <= LON_RANGE[1]:
        raise PointError(f"{lon_field} is out of range", field=lon_field, problem="out_of_range")
    if not LAT_RANGE[0] <= y <= LAT_RANGE[1]:
        raise PointError(f"{lat_field} is out of range", field=lat_field, problem="out_of_range")
    return x, y


def whole_point_or_none(lon: object, lat: object) -> tuple[float, float] | None:
    """Return ``(lon, lat)`` when they make a whole point, else None (for readers and maps).

    >>> whole_point_or_none(121.42, None) is None
    True
    >>> whole_point_or_none(121.42, 31.2)
    (121.42, 31.2)
    """
    try:
        return whole_point(lon, lat)
    except PointError:
        return None
