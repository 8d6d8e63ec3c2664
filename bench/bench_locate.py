"""Benchmark bulk locate: GridIndex.locate_many vs shapely STRtree.query and a naive loop.

Run ``python bench/bench_locate.py`` (1,000,000 points vs 10,000 cells) or ``--quick``.
All three are measured in the same run on the same synthetic grid and points.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.levels import Level
from geo.locate import GridIndex, IndexedCell

LON0, LAT0 = 121.40, 31.19  # south-west corner, near Xinhua subdistrict


def synthetic_cells(side: int, cell_deg: float, seed: int = 7) -> list[IndexedCell]:
    """A side×side grid of 12-vertex cells with jittered shared edges (no gaps, no overlaps)."""
    rng = np.random.default_rng(seed)
    xs = LON0 + np.arange(side + 1) * cell_deg
    ys = LAT0 + np.arange(side + 1) * cell_deg
    # jitter interior grid nodes so cells are irregular quadrilaterals, edges still shared
    jx = rng.uniform(-0.2, 0.2, (side + 1, side + 1)) * cell_deg
    jy = rng.uniform(-0.2, 0.2, (side + 1, side + 1)) * cell_deg
    jx[[0, -1], :] = jx[:, [0, -1]] = 0
    jy[[0, -1], :] = jy[:, [0, -1]] = 0
    nx = xs[None, :] + jx
    ny = ys[:, None] + jy
    cells = []
    for r in range(side):
        for c in range(side):
            corners = [(r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c)]
            ring = []
            for k in range(4):  # 3 points per edge, straight, so 12 vertices
                (r1, c1), (r2, c2) = corners[k], corners[(k + 1) % 4]
                for t in (0.0, 1 / 3, 2 / 3):
                    ring.append(
                        (
                            nx[r1, c1] + t * (nx[r2, c2] - nx[r1, c1]),
                            ny[r1, c1] + t * (ny[r2, c2] - ny[r1, c1]),
                        )
                    )
            code = f"BG-{r:04d}-{c:04d}"
            cells.append(
                IndexedCell(
                    r * side + c, code, code, Level.BUILDING_GROUP, None, shapely.Polygon(ring)
                )
            )
    return cells


def best_of(runs: int, fn):  # type: ignore[no-untyped-def]
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    side, n_points, naive_n, runs = (
        (20, 20_000, 200, 1) if args.quick else (100, 1_000_000, 2_000, 3)
    )
    cell_deg = 0.0003  # about 30 m: building-group size
    cells = synthetic_cells(side, cell_deg)
    rng = np.random.default_rng(1)
    span = side * cell_deg
    lons = LON0 + rng.uniform(-0.02 * span, 1.02 * span, n_points)
    lats = LAT0 + rng.uniform(-0.02 * span, 1.02 * span, n_points)

    build_s, index = best_of(1, lambda: GridIndex.build(cells))
    ours_s, bulk = best_of(runs, lambda: index.locate_many(lons, lats, near_m=0))

    geoms = np.array([c.geometry for c in cells], dtype=object)
    tree = shapely.STRtree(geoms)
    points = shapely.points(lons, lats)
    base_s, pairs = best_of(runs, lambda: tree.query(points, predicate="within"))

    def naive() -> list[int]:
        found = []
        for x, y in zip(lons[:naive_n], lats[:naive_n], strict=True):
            p = shapely.Point(x, y)
            found.append(next((i for i, g in enumerate(geoms) if g.covers(p)), -1))
        return found

    naive_s, naive_found = best_of(1, naive)
    agree = np.array_equal(
        np.asarray(naive_found), np.where(bulk.status[:naive_n] == 1, bulk.cell_index[:naive_n], -1)
    )
    ours_rate, base_rate, naive_rate = n_points / ours_s, n_points / base_s, naive_n / naive_s
    print(f"cells: {len(cells):,}   points: {n_points:,}   (best of {runs})")
    print(f"GridIndex.build                       {build_s:8.3f} s")
    print(f"GridIndex.locate_many (near_m=0)      {ours_s:8.3f} s   {ours_rate:14,.0f} points/s")
    print(f"shapely STRtree.query(within)         {base_s:8.3f} s   {base_rate:14,.0f} points/s")
    print(
        f"naive loop over cells ({naive_n:,} pts)  {naive_s:8.3f} s   {naive_rate:14,.0f} points/s"
    )
    print(
        f"ratio to shapely: {ours_rate / base_rate:.2f}x   "
        f"ratio to naive: {ours_rate / naive_rate:,.0f}x"
    )
    print(f"in-cell points: {int((bulk.status == 1).sum()):,}   shapely pairs: {pairs.shape[1]:,}")
    print(f"naive sample agrees with locate_many: {agree}")
    with_near_s, _ = best_of(1, lambda: index.locate_many(lons, lats))
    print(
        f"GridIndex.locate_many (near_m=50)     {with_near_s:8.3f} s   "
        f"{n_points / with_near_s:14,.0f} points/s"
    )


if __name__ == "__main__":
    main()
