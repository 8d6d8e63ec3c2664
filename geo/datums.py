"""Datums of uploaded and requested coordinates, and transforms to and from WGS-84 storage.

Storage is always WGS-84 lon/lat. ``parse_datum`` turns what a user, a form field or a
legacy GeoJSON ``crs`` member says into a ``Datum``; ``to_wgs84`` / ``from_wgs84`` move
points (scalars or numpy arrays) and ``geometry_to_wgs84`` / ``geometry_from_wgs84`` move
shapely geometries. Projected CRSs go through pyproj with ``always_xy=True``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from geo import chinese_offsets as cn
from geo.errors import UnknownDatumError

DatumKind = Literal["wgs84", "gcj02", "bd09", "epsg"]


@dataclass(frozen=True)
class Datum:
    """A coordinate reference: WGS-84, GCJ-02, BD-09, or any EPSG CRS pyproj knows.

    ``note`` says when we treated something as WGS-84 that is not literally WGS-84
    (CGCS2000 / EPSG:4490 differs by centimetres), so reports can say so.
    """

    kind: DatumKind
    epsg: int | None = None
    note: str | None = None

    @property
    def name(self) -> str:
        """The canonical text form, accepted back by ``parse_datum``.

        >>> parse_datum("urn:ogc:def:crs:EPSG::4549").name
        'EPSG:4549'
        """
        return f"EPSG:{self.epsg}" if self.kind == "epsg" else self.kind

    @property
    def label(self) -> str:
        """The name people read: WGS-84, GCJ-02, BD-09 or EPSG:NNNN.

        >>> parse_datum("gcj02").label, parse_datum("EPSG:4549").label
        ('GCJ-02', 'EPSG:4549')
        """
        return _LABELS.get(self.name, self.name)

    @property
    def is_geographic(self) -> bool:
        """True when coordinates are degrees (lon, lat), False for projected metres.

        >>> parse_datum("gcj02").is_geographic, parse_datum("EPSG:4549").is_geographic
        (True, False)
        """
        return self.kind != "epsg" or _crs(self.epsg).is_geographic  # type: ignore[arg-type]


_LABELS = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}
WGS84 = Datum("wgs84")
GCJ02 = Datum("gcj02")
BD09 = Datum("bd09")

_CGCS2000_NOTE = (
    "CGCS2000 (EPSG:4490) treated as WGS-84; the two differ by a few centimetres. "
    "CGCS2000 按 WGS-84 处理（两者相差仅数厘米）。"
)
_WORDS = {
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "wgs 84": WGS84,
    "gps": WGS84,
    "crs84": WGS84,
    "urn:ogc:def:crs:ogc:1.3:crs84": WGS84,
    "urn:ogc:def:crs:ogc::crs84": WGS84,
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "gcj": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
    "bd09ll": BD09,
}
_EPSG_RE = re.compile(r"^(?:epsg:{1,2}|urn:ogc:def:crs:epsg:[0-9.]*:)(\d{4,6})$")


@lru_cache(maxsize=64)
def _crs(epsg: int) -> pyproj.CRS:
    return pyproj.CRS.from_epsg(epsg)


def parse_datum(text: str) -> Datum:
    """Return the Datum named by ``text``; raise UnknownDatumError for anything else.

    >>> parse_datum("GCJ02")
    Datum(kind='gcj02', epsg=None, note=None)
    >>> parse_datum("urn:ogc:def:crs:OGC:1.3:CRS84").name
    'wgs84'
    >>> parse_datum("EPSG:4490").kind, parse_datum("EPSG:4490").note is not None
    ('wgs84', True)
    >>> parse_datum("EPSG:999999")
    Traceback (most recent call last):
    ...
    geo.errors.UnknownDatumError: unknown datum or CRS: 'EPSG:999999'
    """
    key = str(text).strip().lower()
    if key in _WORDS:
        return _WORDS[key]
    match = _EPSG_RE.match(key)
    if match is None:
        raise UnknownDatumError(f"unknown datum or CRS: {text!r}", text=str(text))
    epsg = int(match.group(1))
    if epsg == 4326:
        return WGS84
    if epsg == 4490:
        return Datum("wgs84", note=_CGCS2000_NOTE)
    try:
        _crs(epsg)
    except pyproj.exceptions.CRSError:
        raise UnknownDatumError(f"unknown datum or CRS: {text!r}", text=str(text)) from None
    return Datum("epsg", epsg=epsg)


@lru_cache(maxsize=64)
def _transformer(epsg: int, forward: bool) -> pyproj.Transformer:
    src, dst = (_crs(epsg), _crs(4326)) if forward else (_crs(4326), _crs(epsg))
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


Arrays = tuple[NDArray[np.float64], NDArray[np.float64]]


def to_wgs84_arrays(x: ArrayLike, y: ArrayLike, datum: Datum) -> Arrays:
    """Vectorized: move coordinates given in ``datum`` (lon/lat or easting/northing) to WGS-84.

    >>> lon, lat = to_wgs84_arrays([635183.586], [3454958.172], parse_datum("EPSG:4549"))
    >>> round(float(lon[0]), 5), round(float(lat[0]), 5)
    (121.4185, 31.2085)
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if datum.kind == "wgs84":
        return xa.copy(), ya.copy()
    if datum.kind == "gcj02":
        return cn.gcj02_to_wgs84(xa, ya)
    if datum.kind == "bd09":
        return cn.gcj02_to_wgs84(*cn.bd09_to_gcj02(xa, ya))
    lon, lat = _transformer(datum.epsg, True).transform(xa, ya)  # type: ignore[arg-type]
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def from_wgs84_arrays(lon: ArrayLike, lat: ArrayLike, datum: Datum) -> Arrays:
    """Vectorized: move WGS-84 lon/lat into ``datum``.

    >>> lon, lat = from_wgs84_arrays([116.404], [39.915], GCJ02)
    >>> round(float(lon[0]), 9), round(float(lat[0]), 9)
    (116.410244499, 39.916404282)
    """
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if datum.kind == "wgs84":
        return lon_a.copy(), lat_a.copy()
    if datum.kind == "gcj02":
        return cn.wgs84_to_gcj02(lon_a, lat_a)
    if datum.kind == "bd09":
        return cn.gcj02_to_bd09(*cn.wgs84_to_gcj02(lon_a, lat_a))
    x, y = _transformer(datum.epsg, False).transform(lon_a, lat_a)  # type: ignore[arg-type]
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def to_wgs84(x: float, y: float, datum: Datum | str) -> tuple[float, float]:
    """Move one point given in ``datum`` to WGS-84 ``(lon, lat)``.

    >>> lon, lat = to_wgs84(121.430073, 31.201889, "gcj02")
    >>> round(lon, 4), round(lat, 4)
    (121.4254, 31.2037)
    """
    d = datum if isinstance(datum, Datum) else parse_datum(datum)
    lon, lat = to_wgs84_arrays([x], [y], d)
    return float(lon[0]), float(lat[0])


def from_wgs84(lon: float, lat: float, datum: Datum | str) -> tuple[float, float]:
    """Move one WGS-84 point into ``datum``; returns ``(x, y)`` (lon/lat or metres).

    >>> x, y = from_wgs84(2.3522, 48.8566, "gcj02")  # outside China: unchanged
    >>> (x, y) == (2.3522, 48.8566)
    True
    """
    d = datum if isinstance(datum, Datum) else parse_datum(datum)
    x, y = from_wgs84_arrays([lon], [lat], d)
    return float(x[0]), float(y[0])


def _apply(geometry: BaseGeometry, datum: Datum, forward: bool) -> BaseGeometry:
    if datum.kind == "wgs84":
        return geometry
    move = to_wgs84_arrays if forward else from_wgs84_arrays

    def transform(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = move(coords[:, 0], coords[:, 1], datum)
        return np.column_stack([x, y])

    return shapely.transform(geometry, transform)


def geometry_to_wgs84(geometry: BaseGeometry, datum: Datum | str) -> BaseGeometry:
    """Return ``geometry`` (2-D, in ``datum``) moved to WGS-84.

    >>> from shapely import Point
    >>> geometry_to_wgs84(Point(116.41024449916938, 39.91640428150164), "gcj02").wkt
    'POINT (116.404 39.915)'
    """
    return _apply(geometry, datum if isinstance(datum, Datum) else parse_datum(datum), True)


def geometry_from_wgs84(geometry: BaseGeometry, datum: Datum | str) -> BaseGeometry:
    """Return a WGS-84 ``geometry`` moved into ``datum``.

    >>> from shapely import Point
    >>> geometry_from_wgs84(Point(1, 2), "wgs84").wkt
    'POINT (1 2)'
    """
    return _apply(geometry, datum if isinstance(datum, Datum) else parse_datum(datum), False)
