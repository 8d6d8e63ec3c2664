"""Exact tilings of a polygon into single-Polygon children (Voronoi + Lloyd, in a metric frame)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import shapely
from shapely import affinity
from shapely.geometry import MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

GRID_M = 1e-6  # overlay precision grid in the metric frame: 1 µm
EARTH_RADIUS_M = 6_371_008.8
LLOYD_ROUNDS = 4
MIN_CHILD_SHARE = 0.35  # smallest child ≥ this share of the mean child area, or retry
MAX_ATTEMPTS = 30


@dataclass(frozen=True)
class LocalFrame:
    """Equirectangular metric frame (metres east, metres north) around a lon/lat origin.

    It is affine, so shared vertices stay shared after a round trip and tilings stay exact.
    """

    lon0: float
    lat0: float

    @property
    def m_per_deg_lon(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M * math.cos(math.radians(self.lat0))

    @property
    def m_per_deg_lat(self) -> float:
        return math.radians(1.0) * EARTH_RADIUS_M

    def to_metric(self, geom: BaseGeometry) -> BaseGeometry:
        """Lon/lat geometry → metric geometry."""
        kx, ky = self.m_per_deg_lon, self.m_per_deg_lat
        matrix = [kx, 0.0, 0.0, ky, -self.lon0 * kx, -self.lat0 * ky]
        return affinity.affine_transform(geom, matrix)

    def to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        """Metric geometry → lon/lat geometry."""
        kx, ky = self.m_per_deg_lon, self.m_per_deg_lat
        matrix = [1.0 / kx, 0.0, 0.0, 1.0 / ky, self.lon0, self.lat0]
        return affinity.affine_transform(geom, matrix)

    def point_lonlat(self, x_m: float, y_m: float) -> tuple[float, float]:
        """Metric (x, y) → (lon, lat)."""
        return (self.lon0 + x_m / self.m_per_deg_lon, self.lat0 + y_m / self.m_per_deg_lat)


def random_point_in(poly: Polygon, rng: random.Random) -> Point:
    """Uniform random point strictly inside `poly` (rejection sampling on its bounds)."""
    min_x, min_y, max_x, max_y = poly.bounds
    for _ in range(10_000):
        pt = Point(rng.uniform(min_x, max_x), rng.uniform(min_y, max_y))
        if poly.contains(pt):
            return pt
    return poly.representative_point()


def _voronoi_cells(parent: Polygon, seeds: list[Point]) -> list[BaseGeometry]:
    """Voronoi cells of `seeds` clipped to `parent`, in seed order."""
    envelope = parent.buffer(parent.length)
    regions = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=envelope)
    by_seed: list[BaseGeometry] = []
    for seed in seeds:
        region = next(r for r in regions.geoms if r.intersects(seed))
        by_seed.append(shapely.intersection(region, parent, grid_size=GRID_M))
    return by_seed


def _lloyd(parent: Polygon, seeds: list[Point]) -> list[Point]:
    """Move each seed to the centre of its clipped cell (kept inside the parent)."""
    moved = []
    for seed, cell in zip(seeds, _voronoi_cells(parent, seeds), strict=True):
        centre = cell.centroid if not cell.is_empty else seed
        moved.append(centre if parent.contains(centre) else cell.representative_point())
    return moved


def _polygons_of(geom: BaseGeometry) -> list[Polygon]:
    return [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and g.area > 0]


def _merge_orphans(keep: list[Polygon], orphans: list[Polygon]) -> list[Polygon]:
    """Give every orphan piece to the kept child sharing the longest border with it."""
    pending = sorted(orphans, key=lambda p: -p.area)
    for _ in range(len(pending) * len(keep) + 1):
        if not pending:
            break
        piece = pending.pop(0)
        shared = [shapely.intersection(piece.boundary, k.boundary).length for k in keep]
        best = max(range(len(keep)), key=lambda i: shared[i])
        if shared[best] <= 0:
            pending.append(piece)
            continue
        keep[best] = shapely.union(keep[best], piece, grid_size=GRID_M)
    return keep


def _single_polygons(cells: list[BaseGeometry]) -> list[Polygon] | None:
    """Largest piece per cell, smaller pieces merged into neighbours; None if that fails."""
    keep: list[Polygon] = []
    orphans: list[Polygon] = []
    for cell in cells:
        parts = sorted(_polygons_of(cell), key=lambda p: -p.area)
        if not parts:
            return None
        keep.append(parts[0])
        orphans.extend(parts[1:])
    merged = _merge_orphans(keep, orphans)
    if not all(isinstance(p, Polygon) and p.is_valid for p in merged):
        return None
    return [orient(p, sign=1.0) for p in merged]


def split_polygon(parent: Polygon, count: int, rng: random.Random) -> list[Polygon]:
    """Split metric `parent` into `count` valid, CCW Polygons that tile it exactly."""
    mean_area = parent.area / count
    for _ in range(MAX_ATTEMPTS):
        seeds = [random_point_in(parent, rng) for _ in range(count)]
        for _ in range(LLOYD_ROUNDS):
            seeds = _lloyd(parent, seeds)
        children = _single_polygons(_voronoi_cells(parent, seeds))
        if children and min(c.area for c in children) >= MIN_CHILD_SHARE * mean_area:
            return children
    raise RuntimeError(f"could not split polygon into {count} children")
