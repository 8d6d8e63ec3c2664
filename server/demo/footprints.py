"""Base layers of the demo: the real OSM roads (credited, ODbL), generated footprints for the
invented buildings, and the two real OSM landmarks as points of interest.

The footprints are slabs (老式公房 face south, so their long side runs east–west) centred on
each invented building's point, kept inside its building group and clear of its neighbours.
They carry the building's address (road, lane, number), never a flat or a household.
"""

from __future__ import annotations

import json
from collections import defaultdict

import shapely
from shapely.geometry import Point, Polygon, box, mapping

from server.demo.models import DemoHousehold, District
from server.demo.roads import ROADS_FILE
from server.demo.tiling import LocalFrame

SLAB_M = (28.0, 11.0)  # east–west length, north–south depth of a five-storey walk-up
SMALLEST_M2 = 60.0  # a slab cut smaller than this by its neighbours becomes a small block
GAP_M = 3.0  # between neighbouring footprints
OSM_CREDIT = "© OpenStreetMap contributors, ODbL"
GENERATED_CREDIT = "演示数据（生成的建筑轮廓）"


def roads_file() -> bytes:
    """The shipped OSM roads of Xinhua, as they are (server/demo/data/README.md)."""
    return ROADS_FILE.read_bytes()


def _number(h: DemoHousehold) -> str:
    return f"{h.lane}弄{h.building_no}号" if h.lane else f"{h.building_no}号"


def footprints(district: District, frame: LocalFrame) -> list[dict]:
    """One Polygon feature per invented building, in building order (WGS-84 GeoJSON dicts)."""
    groups = {c.code: frame.to_metric(c.geometry) for c in district.cells}
    buildings: dict[tuple[str, str, str], DemoHousehold] = {}
    for h in district.households:
        buildings.setdefault((h.road, h.lane, h.building_no), h)
    taken: dict[str, list[Polygon]] = defaultdict(list)
    features = []
    for h in buildings.values():
        centre = frame.to_metric(Point(h.lon, h.lat))
        group = groups.get(h.building_group_code)
        slab = _slab(centre, group, taken[h.building_group_code])
        taken[h.building_group_code].append(slab)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "addr:street": h.road,
                    "number": _number(h),
                    "address": f"{h.road}{_number(h)}",
                    "building:levels": 6,
                },
                "geometry": mapping(frame.to_lonlat(slab)),
            }
        )
    return features


def _slab(centre: Point, group: Polygon | None, neighbours: list[Polygon]) -> Polygon:
    length, depth = SLAB_M
    slab = box(
        centre.x - length / 2, centre.y - depth / 2, centre.x + length / 2, centre.y + depth / 2
    )
    if group is not None:
        slab = slab.intersection(group.buffer(-2.0))
    for other in neighbours:
        slab = slab.difference(other.buffer(GAP_M))
    parts = [p for p in getattr(slab, "geoms", [slab]) if isinstance(p, Polygon)]
    best = max(parts, key=lambda p: p.area, default=None)
    if best is None or best.area < SMALLEST_M2:
        best = centre.buffer(5.0, cap_style="square")
    return shapely.normalize(shapely.set_precision(best, 0.01))


def footprints_file(district: District, frame: LocalFrame) -> bytes:
    data = {"type": "FeatureCollection", "features": footprints(district, frame)}
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def poi_file(district: District) -> bytes:
    """The real OSM landmarks (not the approximate ones) as points of interest."""
    features = [
        {
            "type": "Feature",
            "properties": {"name": m.name, "name_en": m.name_en},
            "geometry": {"type": "Point", "coordinates": [m.lon, m.lat]},
        }
        for m in district.landmarks
        if not m.approximate and not m.name.endswith("路口")
    ]
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False
    ).encode()
