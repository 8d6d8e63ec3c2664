"""Real OSM roads of Xinhua and an illustrative house-numbering model along each of them."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import LineString, Point, Polygon, shape
from shapely.ops import linemerge

from server.demo.tiling import LocalFrame

DATA_DIR = Path(__file__).parent / "data"
BOUNDARY_FILE = DATA_DIR / "osm_xinhua_boundary_wgs84.geojson"
ROADS_FILE = DATA_DIR / "osm_xinhua_named_roads_wgs84.geojson"

INTERIOR_MARGIN_M = 15.0  # a road counts only where it runs this far inside the boundary
MIN_INTERIOR_LENGTH_M = 300.0
DEFAULT_NUMBERS_PER_M = 0.55  # fitted on 新华路 (160号 … 593弄), used where no anchor exists

NAMES_EN_FALLBACK = {"凯旋路": "Kaixuan Road"}

# Real addresses of OSM objects (© OpenStreetMap contributors, ODbL) used to calibrate numbering:
# road → [(number, lon, lat)]. Two anchors fix start and direction, one fixes only the start.
NUMBER_ANCHORS: dict[str, list[tuple[int, float, float]]] = {
    "新华路": [(160, 121.42489, 31.20466), (593, 121.41643, 31.20585)],  # 上海影城, 梅泉别墅
    "番禺路": [(129, 121.42542, 31.20987)],  # 邬达克纪念馆
    "华山路": [(1006, 121.43225, 31.21400)],  # 花园住宅群 (华山路1006弄)
    "延安西路": [(934, 121.42719, 31.21507), (1453, 121.41772, 31.21205)],  # 妇幼保健院, 大西别墅
}


@dataclass(frozen=True)
class Road:
    """One named road: metric geometry and numbering `first + rate * s` along a straight axis.

    `s` is the distance (m) of a point's projection on the road's axis from `origin`; the axis
    runs east→west for E–W roads and north→south for N–S roads (Shanghai custom).
    """

    name: str
    name_en: str
    geometry_m: shapely.Geometry
    interior_m: shapely.Geometry
    origin: tuple[float, float]
    axis: tuple[float, float]
    first_number: float
    numbers_per_m: float
    odd_on_left: bool = True

    def axis_position(self, pt_m: Point) -> float:
        """Signed distance (m) of `pt_m` along the axis from the origin."""
        return (pt_m.x - self.origin[0]) * self.axis[0] + (pt_m.y - self.origin[1]) * self.axis[1]

    def number_at(self, pt_m: Point) -> int:
        """House number at `pt_m`, odd on the left of rising numbers, even on the right."""
        raw = round(self.first_number + self.numbers_per_m * self.axis_position(pt_m))
        odd = self.is_left(pt_m) == self.odd_on_left
        if raw % 2 != int(odd):
            raw += 1
        return max(raw, 1 if odd else 2)

    def is_left(self, pt_m: Point) -> bool:
        """True if `pt_m` lies left of the road in the direction of rising numbers."""
        foot = shapely.ops.nearest_points(self.geometry_m, pt_m)[0]
        cross = self.axis[0] * (pt_m.y - foot.y) - self.axis[1] * (pt_m.x - foot.x)
        return (cross > 0) == (self.numbers_per_m > 0)

    def point_at_number(self, number: float) -> Point:
        """Point on the road where the numbering reaches `number` (nearest the axis)."""
        s = (number - self.first_number) / self.numbers_per_m
        cx, cy = self.origin[0] + s * self.axis[0], self.origin[1] + s * self.axis[1]
        nx, ny = -self.axis[1], self.axis[0]
        cut = LineString([(cx - 500 * nx, cy - 500 * ny), (cx + 500 * nx, cy + 500 * ny)])
        hits = shapely.get_parts(shapely.intersection(cut, self.geometry_m))
        centre = Point(cx, cy)
        return min((Point(h.coords[0]) for h in hits), key=centre.distance)


def load_boundary_lonlat() -> Polygon:
    """The real OSM polygon of 新华路街道 (WGS-84)."""
    data = json.loads(BOUNDARY_FILE.read_text(encoding="utf-8"))
    return shape(data["features"][0]["geometry"])


def _axis(geom_m: shapely.Geometry) -> tuple[tuple[float, float], tuple[float, float]]:
    """(origin, unit axis): principal direction of the vertices, pointing west or south."""
    xy = shapely.get_coordinates(geom_m)
    centre = xy.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov((xy - centre).T))
    ux, uy = vectors[:, -1]
    if abs(ux) >= abs(uy):
        ux, uy = (ux, uy) if ux < 0 else (-ux, -uy)
    else:
        ux, uy = (ux, uy) if uy < 0 else (-ux, -uy)
    s = (xy - centre) @ np.array([ux, uy])
    start = centre + s.min() * np.array([ux, uy])
    return (float(start[0]), float(start[1])), (float(ux), float(uy))


def _numbering(name: str, road: Road, frame: LocalFrame) -> Road:
    """`road` with first number, rate and odd side fitted to the anchors of `name`."""
    points = [(n, frame.to_metric(Point(lon, lat))) for n, lon, lat in NUMBER_ANCHORS.get(name, [])]
    anchors = [(n, road.axis_position(pt)) for n, pt in points]
    if points:
        n0, pt0 = points[0]
        road = replace(road, odd_on_left=road.is_left(pt0) == (n0 % 2 == 1))
    if len(anchors) >= 2:
        (n0, s0), (n1, s1) = anchors[:2]
        rate = (n1 - n0) / (s1 - s0)
        return replace(road, first_number=n0 - rate * s0, numbers_per_m=rate)
    if len(anchors) == 1:
        n0, s0 = anchors[0]
        return replace(road, first_number=n0 - DEFAULT_NUMBERS_PER_M * s0)
    return road


def load_roads(frame: LocalFrame, street_m: Polygon) -> list[Road]:
    """Named roads that run at least MIN_INTERIOR_LENGTH_M inside the street, sorted by name."""
    data = json.loads(ROADS_FILE.read_text(encoding="utf-8"))
    lines: dict[str, list[LineString]] = defaultdict(list)
    names_en: dict[str, str] = {}
    for feature in data["features"]:
        props = feature["properties"]
        lines[props["name"]].append(frame.to_metric(shape(feature["geometry"])))
        if props.get("name_en"):
            names_en.setdefault(props["name"], props["name_en"])
    inner = street_m.buffer(-INTERIOR_MARGIN_M)
    roads = []
    for name in sorted(lines):
        merged = linemerge(lines[name])
        interior = shapely.intersection(merged, inner)
        if interior.length < MIN_INTERIOR_LENGTH_M:
            continue
        origin, axis = _axis(merged)
        road = Road(
            name,
            names_en.get(name, NAMES_EN_FALLBACK.get(name, name)),
            merged,
            interior,
            origin,
            axis,
            1.0,
            DEFAULT_NUMBERS_PER_M,
        )
        roads.append(_numbering(name, road, frame))
    return roads
