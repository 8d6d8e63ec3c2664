"""The standard-address import (标准地址): doors with a point or a footprint, placed in cells.

Coordinates may be in any datum the grid upload accepts (WGS-84, GCJ-02 from AMap/Tencent,
BD-09 from Baidu, EPSG codes such as CGCS2000 Gauss-Krüger); they are stored in WGS-84.
Each door is placed in the building group its point (or footprint's centre) falls in
under the published grid. Re-imports match on the office's address code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import shapely
from shapely import wkt
from shapely.errors import ShapelyError
from sqlalchemy import insert, select, update

from geo.address_text import AddressKey, parse
from geo.datums import geometry_to_wgs84, parse_datum, to_wgs84
from geo.errors import GeoError
from geo.points import PointError, whole_point
from server.addresses.models import StandardAddress
from server.imports.columns import FieldSpec, Mapping
from server.imports.grid_cells import published_codes, published_index
from server.imports.kinds import Checked, Context
from server.imports.models import ImportReview
from server.imports.report import ImportReport
from server.imports.tabular import Row
from server.imports.values import RowReader
from sync.db import utcnow

SPECS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "code",
        "标准地址编码",
        "Address code",
        ("标准地址编码", "地址编码", "门牌编码", "编码", "地址代码"),
        required=True,
        max_length=64,
    ),
    FieldSpec(
        "address",
        "标准地址",
        "Standard address",
        ("标准地址", "地址", "门牌地址", "地址名称", "门牌"),
        max_length=200,
    ),
    FieldSpec("road", "路名", "Road", ("路名", "街路巷", "道路"), max_length=60),
    FieldSpec("lane", "弄号", "Lane", ("弄号", "弄"), max_length=20),
    FieldSpec("sublane", "支弄", "Sub-lane", ("支弄", "支弄号"), max_length=20),
    FieldSpec("number", "门牌号", "Number", ("门牌号", "号", "楼号"), max_length=20),
    FieldSpec(
        "alias", "别名", "Also known as", ("别名", "小区名称", "小区", "楼栋名称"), max_length=200
    ),
    FieldSpec("lon", "经度", "Longitude", ("经度", "lon", "lng", "longitude", "x", "x坐标")),
    FieldSpec("lat", "纬度", "Latitude", ("纬度", "lat", "latitude", "y", "y坐标")),
    FieldSpec(
        "footprint",
        "楼栋轮廓",
        "Footprint (WKT)",
        ("楼栋轮廓", "轮廓", "wkt", "geometry", "几何"),
        max_length=200_000,
    ),
    FieldSpec(
        "cell_code",
        "楼组编码",
        "Building group code",
        ("楼组编码", "网格编码", "所属楼组"),
        max_length=64,
    ),
)
FIELDS = (
    "text",
    "road",
    "lane",
    "sublane",
    "number",
    "building_key",
    "alias",
    "lon",
    "lat",
    "footprint_wkb",
    "source_datum",
    "cell_code",
)


@dataclass(slots=True)
class DoorRow:
    row: int
    code: str
    text: str
    key: AddressKey
    alias: str
    lon: float | None
    lat: float | None
    footprint_wkb: bytes | None
    cell_code: str | None

    def values(self, datum: str) -> dict[str, Any]:
        k = self.key
        return {
            "text": self.text[:200],
            "road": k.road[:60],
            "lane": k.lane[:20],
            "sublane": k.sublane[:20],
            "number": k.number[:20],
            "building_key": k.building_key(),
            "alias": self.alias,
            "lon": self.lon,
            "lat": self.lat,
            "footprint_wkb": self.footprint_wkb,
            "source_datum": datum,
            "cell_code": self.cell_code,
        }


@dataclass
class AddressPlan:
    datum: str
    new: list[DoorRow]
    changed: list[tuple[int, DoorRow]]
    unchanged: int
    missing: list[int]


class AddressImport:
    name = "addresses"
    specs = SPECS

    def check(
        self, ctx: Context, rows: Iterator[Row], mapping: Mapping, report: ImportReport
    ) -> Checked:
        datum_text = str(ctx.options.get("datum") or "wgs84")
        try:
            datum = parse_datum(datum_text)
        except GeoError:
            from server.imports.report import problem

            report.add(problem("unreadable_file", detail=f"datum {datum_text}"))
            return Checked(None, {})
        reader = _DoorReader(ctx, mapping, datum)
        doors = [door for number, values in rows if (door := reader.read(number, values, report))]
        plan = _compare(ctx, doors, datum.name)
        counts = {
            "addresses": len(doors),
            "addresses_new": len(plan.new),
            "addresses_changed": len(plan.changed),
            "addresses_unchanged": plan.unchanged,
            "addresses_missing": len(plan.missing),
            "addresses_unplaced": sum(1 for d in doors if not d.cell_code),
        }
        return Checked(plan, counts)

    def apply(self, ctx: Context, checked: Checked, run_id: Any) -> dict[str, int]:
        plan: AddressPlan = checked.plan
        now = utcnow()
        rows = [
            {
                "code": d.code,
                **d.values(plan.datum),
                "is_active": True,
                "created_at": now,
                "updated_at": now,
            }
            for d in plan.new
        ]
        for start in range(0, len(rows), 2000):
            ctx.session.execute(insert(StandardAddress), rows[start : start + 2000])
        for address_id, door in plan.changed:
            ctx.session.execute(
                update(StandardAddress)
                .where(StandardAddress.id == address_id)
                .values(**door.values(plan.datum), is_active=True, updated_at=now)
            )
        reviews = [
            {
                "run_id": run_id,
                "reason": "missing_from_file",
                "subject_type": "standard_addresses",
                "subject_id": str(i),
                "detail": {},
                "resolution": "",
            }
            for i in plan.missing
        ]
        if reviews:
            ctx.session.execute(insert(ImportReview), reviews)
        return {
            "addresses_created": len(rows),
            "addresses_updated": len(plan.changed),
            "flagged_for_review": len(reviews),
        }


class _DoorReader:
    def __init__(self, ctx: Context, mapping: Mapping, datum: Any) -> None:
        self.ctx, self.mapping, self.datum = ctx, mapping, datum
        self.index = published_index(ctx.session, ctx.near_m)
        self.codes = published_codes(ctx.session)
        self.seen_codes: dict[str, int] = {}
        self.seen_doors: dict[str, int] = {}

    def read(self, number: int, values: list[Any], report: ImportReport) -> DoorRow | None:
        cells = RowReader(number, values, self.mapping, SPECS)
        code = cells.text("code")
        text = cells.text("address") or _compose(cells)
        key = parse(text) if text else None
        if not text:
            cells.flag("required_missing", "address")
        elif key is None or (not key.number and not key.lane):
            cells.flag("address_unparsed", "address" if cells.has("address") else "road", text)
        alias = cells.text("alias")
        point = self._point(cells)
        footprint = self._footprint(cells)
        if point is None and footprint is not None:
            centre = footprint.representative_point()
            point = (centre.x, centre.y)
        cell = self._cell(cells, point, text)
        if code and code in self.seen_codes:
            cells.flag("duplicate_key", "code", code, first_row=self.seen_codes[code])
        elif code:
            self.seen_codes[code] = number
        if key is not None and key.building_key() in self.seen_doors:
            cells.flag(
                "same_door_twice", "address", text, first_row=self.seen_doors[key.building_key()]
            )
        elif key is not None:
            self.seen_doors[key.building_key()] = number
        report.extend(cells.problems)
        if cells.has_errors or key is None or not code:
            return None
        wkb = shapely.to_wkb(footprint) if footprint is not None else None
        lon, lat = point if point else (None, None)
        return DoorRow(number, code, key.text(), key, alias, lon, lat, wkb, cell)

    def _point(self, cells: RowReader) -> tuple[float, float] | None:
        lon, lat = cells.decimal("lon"), cells.decimal("lat")
        if lon is None and lat is None:
            return None
        if lon is None or lat is None:
            cells.flag("coordinates_invalid", "lon" if lon is None else "lat", f"{lon}, {lat}")
            return None
        try:
            point = to_wgs84(lon, lat, self.datum)
        except (GeoError, ValueError):
            cells.flag("coordinates_invalid", "lon", f"{lon}, {lat}")
            return None
        if not self._inside(point):
            cells.flag("coordinates_outside", "lon", f"{lon}, {lat}")
            return None
        try:  # the stored rule (server/locations.py): a transform can give NaN or infinity
            return whole_point(round(point[0], 7), round(point[1], 7))
        except PointError as error:
            cells.flag("coordinates_invalid", str(error.data["field"]), f"{lon}, {lat}")
            return None

    def _inside(self, point: tuple[float, float]) -> bool:
        bbox = self.ctx.district_bbox
        return bbox is None or (bbox[0] <= point[0] <= bbox[2] and bbox[1] <= point[1] <= bbox[3])

    def _footprint(self, cells: RowReader) -> Any:
        text = cells.text("footprint")
        if not text:
            return None
        try:
            shape = geometry_to_wgs84(wkt.loads(text), self.datum)
        except (ShapelyError, GeoError, ValueError) as error:
            cells.flag("footprint_invalid", "footprint", text, detail=type(error).__name__)
            return None
        if shape.is_empty or shape.geom_type not in ("Polygon", "MultiPolygon"):
            cells.flag("footprint_invalid", "footprint", text, detail=shape.geom_type)
            return None
        if not shape.is_valid:  # a bow-tie, a ring crossing itself: no centre to trust
            reason = shapely.is_valid_reason(shape).split("[")[0]
            cells.flag("footprint_invalid", "footprint", text, detail=reason)
            return None
        if not self._inside((shape.centroid.x, shape.centroid.y)):
            cells.flag("coordinates_outside", "footprint", text[:40])
            return None
        return shape

    def _cell(self, cells: RowReader, point: tuple[float, float] | None, text: str) -> str | None:
        code = cells.text("cell_code")
        if code:
            if code not in self.codes:
                cells.flag("cell_unknown", "cell_code", code)
                return None
            return code
        if point is None or self.index is None:
            return None
        found = self.index.locate(point[0], point[1])
        deepest = found.cell
        if deepest is None or str(deepest.level) != "building_group":
            cells.flag("outside_grid", "address" if cells.has("address") else "road", text)
            return None
        return deepest.code


def _compose(cells: RowReader) -> str:
    road = cells.text("road")
    if not road:
        return ""
    lane, sub, number = cells.text("lane"), cells.text("sublane"), cells.text("number")
    lane = f"{lane}弄" if lane and lane[-1].isdigit() else lane
    sub = f"{sub}支弄" if sub and sub[-1].isdigit() else sub
    number = f"{number}号" if number and number[-1].isdigit() else number
    return f"{road}{lane}{sub}{number}"


def _compare(ctx: Context, doors: list[DoorRow], datum: str) -> AddressPlan:
    a = StandardAddress
    stored = {
        row.code: row
        for row in ctx.session.execute(
            select(a.id, a.code, a.is_active, *(getattr(a, f) for f in FIELDS))
        )
    }
    plan = AddressPlan(datum, [], [], 0, [])
    seen = set()
    for door in doors:
        old = stored.get(door.code)
        if old is None:
            plan.new.append(door)
            continue
        seen.add(door.code)
        wanted = door.values(datum)
        if not old.is_active or any(getattr(old, f) != wanted[f] for f in FIELDS):
            plan.changed.append((old.id, door))
        else:
            plan.unchanged += 1
    if ctx.full:
        plan.missing = [
            row.id for code, row in stored.items() if code not in seen and row.is_active
        ]
    return plan
