"""The four-level cell hierarchy: street → residential areas → blocks → building groups."""

from __future__ import annotations

import random
from dataclasses import dataclass

from shapely.geometry import Point, Polygon
from shapely.geometry.polygon import orient

from server.demo.models import DemoCell
from server.demo.names import CHINESE_ORDINALS, RESIDENTIAL_AREA_NAMES
from server.demo.roads import Road
from server.demo.tiling import LocalFrame, split_polygon

STREET_CODE = "310105004"  # GB/T 2260 county 310105 (长宁区) + street 004 (新华路街道)
STREET_NAME = "新华路街道"
STREET_NAME_EN = "Xinhua Road Subdistrict"
RESIDENTIAL_AREAS = (6, 8)
BLOCKS_PER_AREA = (2, 4)
GROUPS_PER_BLOCK = (3, 6)


@dataclass(frozen=True)
class CellDraft:
    """A cell before export: code, names, level, parent, metric geometry."""

    code: str
    name: str
    name_en: str
    level: str
    parent_code: str | None
    geometry_m: Polygon


def _reading_order(polys: list[Polygon]) -> list[Polygon]:
    """North to south in 150 m bands, then west to east: stable, map-like numbering."""
    return sorted(polys, key=lambda p: (-round(p.centroid.y / 150.0), p.centroid.x))


def _area_names(areas: list[Polygon], roads: list[Road]) -> list[tuple[str, str]]:
    """Give each area a name; names tied to a road go to the area nearest that road's middle."""
    wanted = RESIDENTIAL_AREA_NAMES[: len(areas)]
    middles = {r.name: r.interior_m.centroid for r in roads}
    pairs = sorted(
        (areas[a].centroid.distance(middles[road]), n, a)
        for n, (_, _, road) in enumerate(wanted)
        if road in middles
        for a in range(len(areas))
    )
    chosen: dict[int, int] = {}  # area index → name index
    for _, n, a in pairs:
        if a not in chosen and n not in chosen.values():
            chosen[a] = n
    free = iter(n for n in range(len(wanted)) if n not in chosen.values())
    for a in range(len(areas)):
        if a not in chosen:
            chosen[a] = next(free)
    return [wanted[chosen[a]][:2] for a in range(len(areas))]


def _children(parent: CellDraft, rng: random.Random, count_range: tuple[int, int]) -> list[Polygon]:
    return _reading_order(split_polygon(parent.geometry_m, rng.randint(*count_range), rng))


def build_cell_drafts(street_m: Polygon, roads: list[Road], rng: random.Random) -> list[CellDraft]:
    """All cells, parents before children, each level's children tiling their parent."""
    street = CellDraft(STREET_CODE, STREET_NAME, STREET_NAME_EN, "street", None, street_m)
    drafts = [street]
    areas = _children(street, rng, RESIDENTIAL_AREAS)
    for a, (area_poly, (name, name_en)) in enumerate(
        zip(areas, _area_names(areas, roads), strict=True), start=1
    ):
        area = CellDraft(
            f"{STREET_CODE}{a:03d}", name, name_en, "residential_area", STREET_CODE, area_poly
        )
        drafts.append(area)
        for b, block_poly in enumerate(_children(area, rng, BLOCKS_PER_AREA), start=1):
            block = CellDraft(
                f"{area.code}-{b:02d}",
                f"第{CHINESE_ORDINALS[b - 1]}块区",
                f"Block {b}",
                "block",
                area.code,
                block_poly,
            )
            drafts.append(block)
            for g, group_poly in enumerate(_children(block, rng, GROUPS_PER_BLOCK), start=1):
                drafts.append(
                    CellDraft(
                        f"{block.code}-{g:02d}",
                        f"{g}号楼组",
                        f"Building group {g}",
                        "building_group",
                        block.code,
                        group_poly,
                    )
                )
    return drafts


def export_cells(
    drafts: list[CellDraft], frame: LocalFrame, street_lonlat: Polygon
) -> list[DemoCell]:
    """Lon/lat DemoCells; the street keeps the exact OSM polygon."""
    cells = []
    for d in drafts:
        geom = street_lonlat if d.level == "street" else frame.to_lonlat(d.geometry_m)
        cells.append(
            DemoCell(d.code, d.name, d.name_en, d.level, d.parent_code, orient(geom, sign=1.0))
        )
    return cells


def containing_groups(drafts: list[CellDraft], pt_m: Point) -> list[CellDraft]:
    """Building groups whose metric polygon contains `pt_m`."""
    return [d for d in drafts if d.level == "building_group" and d.geometry_m.contains(pt_m)]
