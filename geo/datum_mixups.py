"""Which datum mix-up explains a displaced grid: WGS-84, GCJ-02 and BD-09 tried on centroids.

Reading the file "as T instead of D" needs no file: a draft is ``to_wgs84(raw, D)``, so
``to_wgs84(from_wgs84(draft, D), T)`` is what the file gives read as T. The offsets vary
over tens of kilometres, so moving a cell's centroid is as good as moving its polygon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from geo.datums import BD09, GCJ02, WGS84, Datum, from_wgs84_arrays, to_wgs84_arrays
from geo.measure import distances_m

# The cause is named only if reading the file the other way leaves at most this share of the
# shift (and no more than the threshold): a real move is not explained away by a datum.
_EXPLAINED_SHARE = 0.25
_GEOGRAPHIC = (WGS84, GCJ02, BD09)


@dataclass(frozen=True)
class DatumSuspect:
    """The file reads right as ``likely``: it was declared ``declared`` by mistake."""

    declared: str
    likely: str
    shift_m: float  # median shift as declared
    residual_m: float  # median shift left when read as ``likely``


def reread(lon_lat: NDArray[np.float64], declared: Datum, likely: Datum) -> NDArray[np.float64]:
    """Where WGS-84 points read from a file declared ``declared`` would be, read as ``likely``.

    >>> xy = reread(np.array([[121.4226, 31.2068]]), GCJ02, WGS84)  # a WGS-84 file read as GCJ
    >>> [round(float(v), 5) for v in xy[0]]
    [121.42724, 31.20494]
    """
    raw_x, raw_y = from_wgs84_arrays(lon_lat[:, 0], lon_lat[:, 1], declared)
    lon, lat = to_wgs84_arrays(raw_x, raw_y, likely)
    return np.column_stack([lon, lat])


def suspect_datum(
    old: NDArray[np.float64],
    new: NDArray[np.float64],
    declared: Datum,
    shift_m: float,
    threshold_m: float,
) -> DatumSuspect | None:
    """The geographic datum that, read instead of ``declared``, puts ``new`` back on ``old``.

    ``old`` and ``new`` are matched centroids, shape (n, 2), WGS-84. Only WGS-84, GCJ-02 and
    BD-09 are tried (a projected file declared with a wrong CRS lands kilometres away and is
    caught by the far-from-district check and ``geo.crs_guess``). Returns None when none fits.

    >>> old = np.array([[121.4226, 31.2068]])
    >>> suspect_datum(old, reread(old, WGS84, GCJ02), GCJ02, 488.0, 30.0).likely
    'wgs84'
    """
    if declared.kind == "epsg" or not len(old):
        return None
    best: DatumSuspect | None = None
    for likely in _GEOGRAPHIC:
        if likely.kind == declared.kind:
            continue
        moved = reread(new, declared, likely)
        residual = float(np.median(distances_m(old[:, 0], old[:, 1], moved[:, 0], moved[:, 1])))
        if residual > min(threshold_m, shift_m * _EXPLAINED_SHARE):
            continue
        if best is None or residual < best.residual_m:
            best = DatumSuspect(declared.kind, likely.kind, round(shift_m, 1), round(residual, 1))
    return best
