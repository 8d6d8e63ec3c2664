"""Guess how a file whose coordinates land nowhere near the district should have been read.

Three mistakes are common and detectable from the numbers alone: axes written [lat, lon]
(or [northing, easting]); projected metres declared as degrees (a CGCS2000 Gauss-Krüger or
UTM export uploaded as "WGS-84"); and the wrong projected CRS (EPSG:4547, CM 114°E, for
Shanghai's EPSG:4549, CM 120°E; or the zone-prefixed EPSG:4528 for 4549). Each candidate
reading is tried on a sample of the file's first vertices; those that put the sample's median
inside the district (with its margin) are offered as a one-click re-import.

Candidates for metres are the CGCS2000 3° and 6° Gauss-Krüger zones and the WGS-84 UTM zone
around the district (a zone-prefixed easting such as 40 635 183 names its zone itself).
Xi'an 1980 and Beijing 1954 are not tried: PROJ has no accurate datum shift for them, so a
guess would be off by up to 100 m.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geo.datums import WGS84, Datum, parse_datum, to_wgs84_arrays
from geo.errors import GeoError
from geo.structure import RawFeature

_SAMPLE = 200  # features sampled (first vertex of each)
_METRES = 1000.0  # no lon/lat is this large
_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class Reading:
    """One way of reading the file: a datum and whether the axes are swapped."""

    datum: str
    swap_axes: bool = False

    def options(self) -> dict[str, object]:
        """The import options of this reading (what a re-import sends).

        >>> Reading("EPSG:4549", True).options()
        {'datum': 'EPSG:4549', 'swap_axes': True}
        """
        return {"datum": self.datum, "swap_axes": self.swap_axes}

    def labels(self, current: Datum) -> tuple[str, str]:
        """The action's button text, Chinese and English (``current``: the datum just used).

        >>> Reading("wgs84", True).labels(WGS84)[1], Reading("EPSG:4549").labels(WGS84)[0]
        ('Swap the axes and read again', '按 EPSG:4549 重新读取')
        """
        label = parse_datum(self.datum).label
        if self.swap_axes and self.datum == current.name:
            return "交换坐标轴后重新读取", "Swap the axes and read again"
        if self.swap_axes:
            return f"交换坐标轴，按 {label} 重新读取", f"Swap the axes and read again as {label}"
        return f"按 {label} 重新读取", f"Read again as {label}"


def sample_positions(raws: Sequence[RawFeature]) -> np.ndarray:
    """The first vertex of up to 200 features spread over the file, shape (n, 2).

    >>> sample_positions([RawFeature(0, {}, [[[(1.0, 2.0), (3.0, 4.0)]]])]).tolist()
    [[1.0, 2.0]]
    """
    usable = [r for r in raws if r.polygons and r.polygons[0] and r.polygons[0][0]]
    step = max(1, len(usable) // _SAMPLE)
    points = [r.polygons[0][0][0] for r in usable[::step]]  # type: ignore[index]
    return np.array(points, dtype=float).reshape(-1, 2)


def _zone_candidates(xy: np.ndarray, centre_lon: float) -> list[int]:
    """EPSG codes of the projected CRSs that could have made these eastings."""
    easting = float(np.median(xy[:, 0]))
    if easting >= 1e7:  # a zone-prefixed Gauss-Krüger easting: the prefix is the zone
        zone = int(easting // 1e6)
        if 25 <= zone <= 45:
            return [4513 + zone - 25]  # CGCS2000 3-degree GK zone 25 … 45
        if 13 <= zone <= 23:
            return [4491 + zone - 13]  # CGCS2000 6-degree GK zone 13 … 23
        return []
    cm3 = 3 * round(centre_lon / 3)
    three = [4534 + (cm - 75) // 3 for cm in (cm3, cm3 - 3, cm3 + 3) if 75 <= cm <= 135]
    cm6 = 6 * math.floor(centre_lon / 6) + 3
    six = [4502 + (cm6 - 75) // 6] if 75 <= cm6 <= 135 else []
    utm = [32600 + math.floor((centre_lon + 180) / 6) + 1]
    return three + six + utm


def _readings(xy: np.ndarray, declared: Datum, centre_lon: float) -> list[Reading]:
    found: list[Reading] = []
    for swap in (False, True):
        pts = xy[:, ::-1] if swap else xy
        if np.median(np.abs(pts)) > _METRES:
            found += [Reading(f"EPSG:{code}", swap) for code in _zone_candidates(pts, centre_lon)]
        else:
            found.append(Reading(declared.name if declared.is_geographic else WGS84.name, swap))
    return found


def _lands_in(
    xy: np.ndarray, reading: Reading, bbox: tuple[float, float, float, float], margin_m: float
) -> bool:
    try:
        datum = parse_datum(reading.datum)
    except GeoError:
        return False
    pts = xy[:, ::-1] if reading.swap_axes else xy
    with np.errstate(all="ignore"):
        lon, lat = to_wgs84_arrays(pts[:, 0], pts[:, 1], datum)
    lon0, lat0 = float(np.median(lon)), float(np.median(lat))
    if not (math.isfinite(lon0) and math.isfinite(lat0)):
        return False
    pad_lat = margin_m / _M_PER_DEG
    pad_lon = pad_lat / max(math.cos(math.radians(lat0)), 0.1)
    return (
        bbox[0] - pad_lon <= lon0 <= bbox[2] + pad_lon
        and bbox[1] - pad_lat <= lat0 <= bbox[3] + pad_lat
    )


def guess_readings(
    raws: Sequence[RawFeature],
    declared: Datum,
    swapped: bool,
    district_bbox: tuple[float, float, float, float] | None,
    margin_m: float,
) -> list[Reading]:
    """Other readings of the file that put it inside the district, best first (at most 3).

    ``raws`` hold positions in the file's order; ``swapped`` says whether the reading that
    failed swapped them. Without a district there is nothing to land in: only a swap of
    [lat, lon] degrees (lat < 90 < lon, the Chinese pattern) is offered.

    >>> ring = [(31.2, 121.4), (31.2, 121.41), (31.21, 121.41), (31.2, 121.4)]
    >>> raws = [RawFeature(0, {}, [[ring]])]
    >>> guess_readings(raws, WGS84, False, (121.3, 31.1, 121.5, 31.3), 5000.0)
    [Reading(datum='wgs84', swap_axes=True)]
    >>> guess_readings(raws, WGS84, False, None, 5000.0)
    [Reading(datum='wgs84', swap_axes=True)]
    """
    xy = sample_positions(raws)
    if not len(xy):
        return []
    current = Reading(declared.name, swapped)
    if district_bbox is None:
        lat_first = np.median(xy[:, 0]) < 90 < np.median(np.abs(xy[:, 1])) <= 180
        return [Reading(declared.name, not swapped)] if lat_first and not swapped else []
    centre_lon = (district_bbox[0] + district_bbox[2]) / 2
    fits = [
        reading
        for reading in _readings(xy, declared, centre_lon)
        if reading != current and _lands_in(xy, reading, district_bbox, margin_m)
    ]
    return fits[:3]
