"""Buildings on real roads: lane (弄) and house (号) numbers, building points, lane 329 mouth."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from shapely.geometry import Point, Polygon

from server.demo.cells import CellDraft, containing_groups
from server.demo.roads import Road
from server.demo.tiling import random_point_in

LANE_329 = ("新华路", 329)
MOUTH_OFFSETS_M = (6.0, 9.0, 4.0, 12.0, 15.0)  # tried in turn, off the 新华路 line, odd side
MOUTH_SHIFTS_M = (0.0, 5.0, -5.0, 10.0, -10.0)  # along the road, if the first spots are unclear
MOUTH_MIN_EDGE_M = 2.0  # the mouth stays this far from any building-group edge
BUILDING_INSET_M = 5.0  # buildings stay this far inside their building group
BUILDING_SPACING_M = 15.0
LANE_SHARE = 0.8  # share of building groups addressed inside a lane (弄)


@dataclass(frozen=True)
class Building:
    """One addressed building inside one building group (metric point)."""

    group_code: str
    road: str
    lane: str  # "" when the building stands directly on the road
    number: str
    point_m: Point


@dataclass
class _Registry:
    """House numbers already taken per road, and the next building number per lane."""

    taken: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    next_in_lane: dict[tuple[str, int], int] = field(default_factory=dict)

    def claim_number(self, road: str, number: int) -> int:
        while number in self.taken[road]:
            number += 2
        self.taken[road].add(number)
        return number

    def open_lane(self, road: str, lane: int, rng: random.Random) -> int:
        if (road, lane) not in self.next_in_lane:
            while lane in self.taken[road]:
                lane += 4
            self.taken[road].add(lane)
            self.next_in_lane[(road, lane)] = rng.randint(1, 12)
        return lane

    def next_building(self, road: str, lane: int, rng: random.Random) -> int:
        number = self.next_in_lane[(road, lane)]
        self.next_in_lane[(road, lane)] = number + rng.randint(1, 3)
        return number


def lane_mouth(roads: list[Road], drafts: list[CellDraft]) -> tuple[Point, CellDraft]:
    """Metric point of 新华路329弄's mouth, just off the road on the odd side, and its group.

    Tries a few offsets across and along the road, preferring the first spot at least
    MOUTH_MIN_EDGE_M from every building-group edge, else the clearest spot found.
    """
    road = next(r for r in roads if r.name == LANE_329[0])
    on_line = road.point_at_number(LANE_329[1])
    sign = 1.0 if (road.numbers_per_m > 0) == road.odd_on_left else -1.0
    nx, ny = -road.axis[1] * sign, road.axis[0] * sign  # unit normal towards the odd side
    best: tuple[float, Point, CellDraft] | None = None
    for along in MOUTH_SHIFTS_M:
        for offset in MOUTH_OFFSETS_M:
            x = on_line.x + offset * nx + along * road.axis[0]
            y = on_line.y + offset * ny + along * road.axis[1]
            pt = Point(x, y)
            groups = containing_groups(drafts, pt)
            if len(groups) != 1:
                continue
            clearance = groups[0].geometry_m.exterior.distance(pt)
            if clearance >= MOUTH_MIN_EDGE_M:
                return pt, groups[0]
            if best is None or clearance > best[0]:
                best = (clearance, pt, groups[0])
    if best is None:
        raise RuntimeError("no spot for the mouth of 新华路329弄 inside one building group")
    return best[1], best[2]


def _nearest_road(group: Polygon, roads: list[Road]) -> Road:
    return min(roads, key=lambda r: (group.centroid.distance(r.interior_m), r.name))


def _building_points(group: Polygon, road: Road, count: int, rng: random.Random) -> list[Point]:
    """`count` points inside `group`, spaced apart, each the road-nearest of a few candidates."""
    area = group.buffer(-BUILDING_INSET_M)
    if area.is_empty or area.area < 1.0:
        area = group.buffer(-1.0)
    area = max(getattr(area, "geoms", [area]), key=lambda p: p.area)
    points: list[Point] = []
    for _ in range(200):
        if len(points) == count:
            break
        candidates = [random_point_in(area, rng) for _ in range(3)]
        best = min(candidates, key=lambda p: p.distance(road.interior_m))
        if all(best.distance(p) >= BUILDING_SPACING_M for p in points):
            points.append(best)
    while len(points) < count:  # tiny group: accept crowding rather than fail
        points.append(random_point_in(area, rng))
    return points


def place_buildings(
    drafts: list[CellDraft], roads: list[Road], mouth_group: str, rng: random.Random
) -> list[Building]:
    """1–2 addressed buildings per building group, in code order."""
    registry = _Registry()
    by_name = {r.name: r for r in roads}
    registry.open_lane(LANE_329[0], LANE_329[1], rng)
    buildings = []
    for d in drafts:
        if d.level != "building_group":
            continue
        forced = d.code == mouth_group
        road = by_name[LANE_329[0]] if forced else _nearest_road(d.geometry_m, roads)
        in_lane = forced or rng.random() < LANE_SHARE
        points = _building_points(d.geometry_m, road, rng.choice((1, 1, 1, 2)), rng)
        if in_lane:
            lane = LANE_329[1] if forced else _snap_lane(road.number_at(points[0]))
            lane = registry.open_lane(road.name, lane, rng)
            for pt in points:
                no = registry.next_building(road.name, lane, rng)
                buildings.append(Building(d.code, road.name, str(lane), str(no), pt))
        else:
            for pt in points:
                no = registry.claim_number(road.name, road.number_at(pt))
                buildings.append(Building(d.code, road.name, "", str(no), pt))
    return buildings


def _snap_lane(number: int) -> int:
    """Lanes sit at …1/…5/…9 (odd side) or …2/…6/…0 (even side) so groups can share one."""
    base = 4 * round(number / 4)
    return base + 1 if number % 2 else base + 2
