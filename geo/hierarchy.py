"""Checks across cells: parents exist and contain their children, siblings don't overlap, no gaps.

All cells are projected once into a ``LocalMetric`` frame so tolerances are metres and
areas m². Overlaps are found through an STRtree per level (never all pairs).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.cells import CellDraft
from geo.levels import Level
from geo.measure import LocalMetric
from geo.problems import FeatureRef, Problem, problem


@dataclass(frozen=True)
class Tolerances:
    """Thresholds of the cross-cell checks, all in metres or m²."""

    child_outside_parent_m: float = 5.0  # a child may poke out of its parent this far
    overlap_min_m2: float = 1.0  # sibling overlaps smaller than this are digitising noise
    # … and so are slivers thinner than this: neighbours that do not share vertices overlap
    # by a few millimetres along their whole edge once coordinates are rounded (7 decimals)
    overlap_min_width_m: float = 0.1
    gap_min_m2: float = 100.0  # uncovered parts of a parent smaller than this are ignored
    gap_min_width_m: float = 5.0  # … and so are slivers narrower than this


DEFAULT_TOLERANCES = Tolerances()


def _spot(frame: LocalMetric, geometry: BaseGeometry) -> tuple[float, float]:
    point = frame.to_lonlat(geometry.representative_point())
    return point.x, point.y


def check_hierarchy(
    cells: list[CellDraft],
    tolerances: Tolerances | None = None,
    parent_field: str = "parent_code",
    progress: Callable[[int, int], None] | None = None,
    parents: Iterable[CellDraft] = (),
) -> list[Problem]:
    """Return problems of parents, containment, sibling overlaps and coverage gaps.

    ``parents`` are cells outside the file (e.g. the published grid) that the file's cells
    may name as parents; they are looked up and contain their children, but are not checked
    themselves, and their coverage is not checked (the file may hold only some children).

    >>> from shapely import box
    >>> a = CellDraft("A", "a", Level.STREET, None, box(121.0, 31.0, 121.01, 31.01))
    >>> b = CellDraft("B", "b", Level.STREET, None, box(121.005, 31.0, 121.015, 31.01), 1)
    >>> [(p.rule, p.code, round(p.data["overlap_area_m2"], -3)) for p in check_hierarchy([a, b])]
    [('sibling_overlap', 'B', 529000.0)]
    """
    tolerances = tolerances or DEFAULT_TOLERANCES
    usable = [c for c in cells if c.level is not None and c.code and c.geometry.is_valid]
    if not usable:
        return []
    frame = LocalMetric.around([c.geometry for c in usable])
    metric = dict(
        zip(
            (id(c) for c in usable), frame.many_to_metric([c.geometry for c in usable]), strict=True
        )
    )
    by_code = {c.code: c for c in reversed(usable)}  # first occurrence wins on duplicates
    outside = _outside_parents(usable, by_code, parents, frame, metric)
    problems = _parents(usable, {**outside, **by_code}, metric, frame, tolerances, parent_field)
    if progress:
        progress(1, 3)
    problems += _overlaps(usable, metric, frame, tolerances)
    if progress:
        progress(2, 3)
    problems += _gaps(usable, by_code, metric, frame, tolerances)
    if progress:
        progress(3, 3)
    return problems


def _outside_parents(
    cells: list[CellDraft],
    by_code: dict[str, CellDraft],
    parents: Iterable[CellDraft],
    frame: LocalMetric,
    metric: dict[int, BaseGeometry],
) -> dict[str, CellDraft]:
    """The given parents that cells of the file name and the file lacks, projected too."""
    wanted = {c.parent_code for c in cells if c.parent_code and c.parent_code not in by_code}
    found = {p.code: p for p in parents if p.code in wanted and p.level and p.geometry.is_valid}
    for parent in found.values():
        metric[id(parent)] = frame.many_to_metric([parent.geometry])[0]
    return found


def _parents(
    cells: list[CellDraft],
    by_code: dict[str, CellDraft],
    metric: dict[int, BaseGeometry],
    frame: LocalMetric,
    tol: Tolerances,
    parent_field: str,
) -> list[Problem]:
    problems: list[Problem] = []
    for cell in cells:
        assert cell.level is not None
        expected = cell.level.parent
        if expected is None:
            continue
        ref: FeatureRef = {"feature_index": cell.index, "code": cell.code, "name": cell.name}
        if not cell.parent_code:
            problems.append(
                problem(
                    "parent_missing",
                    **ref,
                    level=cell.level.value,
                    level_zh=cell.level.name_zh,
                    field=parent_field,
                )
            )
            continue
        parent = by_code.get(cell.parent_code)
        if parent is None:
            problems.append(problem("parent_not_found", **ref, parent_code=cell.parent_code))
            continue
        if parent.level != expected:
            problems.append(
                problem(
                    "parent_level_mismatch",
                    **ref,
                    parent_code=parent.code,
                    parent_level=str(parent.level),
                    expected=expected.value,
                )
            )
            continue
        found = _outside(metric[id(cell)], metric[id(parent)], tol.child_outside_parent_m)
        if found is not None:
            area, distance, where = found
            problems.append(
                problem(
                    "child_outside_parent",
                    **ref,
                    location=_spot(frame, where),
                    parent_code=parent.code,
                    outside_area_m2=round(area, 1),
                    outside_distance_m=round(distance, 1),
                )
            )
    return problems


def _outside(child: BaseGeometry, parent: BaseGeometry, tolerance_m: float):  # type: ignore[no-untyped-def]
    outside = child.difference(parent)
    if outside.is_empty or outside.area == 0:
        return None
    points = shapely.points(shapely.get_coordinates(outside))
    distances = shapely.distance(points, parent)
    far = int(np.argmax(distances))
    if distances[far] <= tolerance_m:
        return None
    return outside.area, float(distances[far]), points[far]


def _overlaps(
    cells: list[CellDraft], metric: dict[int, BaseGeometry], frame: LocalMetric, tol: Tolerances
) -> list[Problem]:
    problems: list[Problem] = []
    by_level: dict[Level | None, list[CellDraft]] = defaultdict(list)
    for cell in cells:
        by_level[cell.level].append(cell)
    for same_level in by_level.values():
        geoms = np.array([metric[id(c)] for c in same_level], dtype=object)
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        shared = shapely.intersection(geoms[left], geoms[right])
        areas = shapely.area(shared)
        cores = shapely.buffer(shared, -tol.overlap_min_width_m / 2)
        for i, j, area, where, core in zip(left, right, areas, shared, cores, strict=True):
            if area < tol.overlap_min_m2 or core.is_empty:
                continue
            first, later = same_level[i], same_level[j]
            problems.append(
                problem(
                    "sibling_overlap",
                    feature_index=later.index,
                    code=later.code,
                    name=later.name,
                    location=_spot(frame, where),
                    other_code=first.code,
                    other_index=first.index,
                    overlap_area_m2=round(float(area), 1),
                )
            )
    return problems


def _gaps(
    cells: list[CellDraft],
    by_code: dict[str, CellDraft],
    metric: dict[int, BaseGeometry],
    frame: LocalMetric,
    tol: Tolerances,
) -> list[Problem]:
    children: dict[str, list[BaseGeometry]] = defaultdict(list)
    for cell in cells:
        if cell.parent_code in by_code:
            children[cell.parent_code].append(metric[id(cell)])
    problems: list[Problem] = []
    for parent_code, parts in children.items():
        parent = by_code[parent_code]
        uncovered = metric[id(parent)].difference(shapely.union_all(parts))
        for gap in shapely.get_parts(uncovered):
            if gap.area < tol.gap_min_m2 or gap.buffer(-tol.gap_min_width_m / 2).is_empty:
                continue
            problems.append(
                problem(
                    "coverage_gap",
                    feature_index=parent.index,
                    code=parent.code,
                    name=parent.name,
                    location=_spot(frame, gap),
                    gap_area_m2=round(gap.area, 1),
                )
            )
    return problems
