"""Benchmark import + validation of a synthetic ~20,000-cell four-level grid file, and the
displacement report of a draft against the published grid.

Run ``python bench/bench_grid_import.py`` (19,801 cells) or ``--quick`` (a small smoke run).
Prints wall time of ``read_grid_file`` (decode, structure, datum, geometry and hierarchy
checks, including STRtree overlap search and coverage gaps) and its peak Python memory; then,
for the demo district (108 cells), the largest real file (DataV's 16 Shanghai districts) and
the synthetic grid, the time of the displacement report (``assess_displacement``: centroid
shifts, median, the datum mix-up tried three ways) and of the diff it sits beside
(``diff_grids``: areas, non-overlap, shifts), each next to ``read_grid_file`` of the same file
as the baseline, for a draft read with the wrong datum (every cell moved: the worst case).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.diff import diff_grids
from geo.displacement import assess_displacement
from geo.reading import PropertyNames, read_grid_file

REAL = Path(__file__).resolve().parents[1] / "tests" / "data" / "geo" / "real"

LON0, LAT0, STEP = 121.40, 31.19, 0.0003  # building groups about 30 m wide


def ring(c0: int, r0: int, c1: int, r1: int) -> list[list[float]]:
    x0, y0, x1, y1 = LON0 + c0 * STEP, LAT0 + r0 * STEP, LON0 + c1 * STEP, LAT0 + r1 * STEP
    return [
        [round(x, 7), round(y, 7)] for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))
    ]


def feature(code: str, level: str, parent: str | None, box: tuple[int, int, int, int]) -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": code, "level": level, "parent_code": parent},
        "geometry": {"type": "Polygon", "coordinates": [ring(*box)]},
    }


def synthetic_file(areas: int, blocks_per_area: int, groups_per_block: int) -> bytes:
    """1 street → areas² residential areas → blocks → building groups, tiling exactly."""
    side = areas * blocks_per_area * groups_per_block
    feats = [feature("S", "street", None, (0, 0, side, side))]
    bsize = groups_per_block
    asize = blocks_per_area * bsize
    for ar in range(areas):
        for ac in range(areas):
            a = f"R{ar}{ac}"
            feats.append(
                feature(
                    a,
                    "residential_area",
                    "S",
                    (ac * asize, ar * asize, (ac + 1) * asize, (ar + 1) * asize),
                )
            )
            for br in range(blocks_per_area):
                for bc in range(blocks_per_area):
                    b = f"{a}-B{br:02d}{bc:02d}"
                    c0, r0 = ac * asize + bc * bsize, ar * asize + br * bsize
                    feats.append(feature(b, "block", a, (c0, r0, c0 + bsize, r0 + bsize)))
                    for gr in range(groups_per_block):
                        for gc in range(groups_per_block):
                            feats.append(
                                feature(
                                    f"{b}-G{gr:02d}{gc:02d}",
                                    "building_group",
                                    b,
                                    (c0 + gc, r0 + gr, c0 + gc + 1, r0 + gr + 1),
                                )
                            )
    return json.dumps({"type": "FeatureCollection", "features": feats}).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    shape = (2, 2, 5) if args.quick else (2, 7, 10)  # 19,801 cells
    data = synthetic_file(*shape)
    start = time.perf_counter()
    result = read_grid_file(data, datum="wgs84")
    seconds = time.perf_counter() - start
    tracemalloc.start()
    read_grid_file(data, datum="wgs84")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"file: {len(data) / 1e6:.1f} MB, {len(result.cells):,} cells, "
        f"{len(result.report.problems)} problems, has_errors={result.report.has_errors}"
    )
    print(
        f"read_grid_file (import + validate)   {seconds:8.2f} s   "
        f"{len(result.cells) / seconds:10,.0f} cells/s"
    )
    print(
        f"peak Python memory (tracemalloc)     {peak / 1e6:8.1f} MB   "
        f"(process max RSS {rss_mb:.0f} MB)"
    )

    print()
    print("displacement report: the file read as gcj02 (draft) against it read as wgs84")
    for label, file, options in datasets(data):
        displacement_figures(label, file, options)


def datasets(synthetic: bytes) -> list[tuple[str, bytes, dict]]:
    """(label, bytes, read options) of the demo grid, the largest real file and the synthetic."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from shapely.geometry import mapping

    from server.demo.district import build_district

    demo = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {
                        "code": c.code,
                        "name": c.name,
                        "level": c.level,
                        "parent_code": c.parent_code,
                    },
                    "geometry": mapping(c.geometry),
                }
                for c in build_district().cells
            ],
        }
    ).encode()
    datav = (REAL / "datav_310000_shanghai_districts_v3.json").read_bytes()
    datav_options = {
        "property_names": PropertyNames(code="adcode", level=None, parent_code=None),
        "default_level": "street",
    }
    return [
        ("demo district (108 cells)", demo, {}),
        ("DataV Shanghai (16 districts, 90 KB)", datav, datav_options),
        (f"synthetic ({len(synthetic) / 1e6:.1f} MB)", synthetic, {}),
    ]


def best_of(runs: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def displacement_figures(label: str, data: bytes, options: dict) -> None:
    runs = 3 if len(data) < 1e6 else 1
    read = best_of(runs, lambda: read_grid_file(data, datum="wgs84", **options))
    published = read_grid_file(data, datum="wgs84", **options).cells
    draft = read_grid_file(data, datum="gcj02", **options).cells
    found = assess_displacement(published, draft, "gcj02")
    assess = best_of(runs, lambda: assess_displacement(published, draft, "gcj02"))
    diff = best_of(runs, lambda: diff_grids(published, draft))
    cause = found.suspect.likely if found.suspect else "none"
    print(
        f"  {label:<38} read {read * 1000:8.1f} ms (baseline) | displacement "
        f"{assess * 1000:7.1f} ms | diff {diff * 1000:8.1f} ms | median "
        f"{found.median_shift_m:.0f} m, cause {cause}"
    )


if __name__ == "__main__":
    main()
