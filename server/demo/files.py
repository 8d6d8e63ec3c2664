"""The demo district as the files a street office brings: register, addresses, staff, units.

`flask demo load` writes these and imports them through the same pipeline an office uses
(server/imports), so the path every office takes is exercised by every demo load. The same
files, written by `flask demo files DIR`, are the samples in docs/samples/.

Everyone in them is invented. Identity numbers start with 99 — no such province code
exists — so a sample number can never be a real person's; phones are in the 1380000 block.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from geo.datums import from_wgs84
from server.demo.models import District
from server.demo.staff import STAFF, worker_for_area
from server.enums import CellLevel, Role
from server.exports.cells import csv_bytes, xlsx_bytes
from server.population.idnumbers import check_char

DEMO_REGION = "990105"  # "99": no such province, so never a real person's number
CATEGORY_WORDS = {  # how the 居委会 write each care tag in their files (several spellings)
    "living_alone": ("独居老人", "孤老", "独居"),
    "elderly_only_household": ("纯老家庭", "纯老户"),
    "aged_80_plus": ("高龄老人", "高龄", "80岁以上"),
    "disability": ("残疾人", "持证残疾人"),
    "low_income": ("低保", "低收入家庭"),
    "child_in_difficulty": ("困境儿童",),
    "serious_illness": ("大病", "重病"),
    "family_planning_special": ("计划生育特殊家庭", "失独家庭"),
    "entitled_groups": ("优抚对象",),
    "empty_nest": ("空巢老人", "空巢"),
}
ROLE_WORDS = {
    Role.ADMIN: "系统管理员",
    Role.DISPATCHER: "调度员",
    Role.GIS: "GIS",
    Role.MANAGER: "管理人员",
    Role.WORKER: "网格员",
}


def household_no(index: int) -> str:
    return f"XH{index + 1:05d}"


def invented_id_number(rng: random.Random, birth_year: int, gender: str) -> str:
    """A well-formed number for an invented person born in ``birth_year``."""
    born = dt.date(birth_year, 1, 1) + dt.timedelta(days=rng.randrange(365))
    sequence = rng.randrange(50) * 2 + (1 if gender == "M" else 0)
    first17 = f"{DEMO_REGION}{born:%Y%m%d}{rng.randrange(10)}{sequence:02d}"
    return first17 + check_char(first17)


def register_rows(district: District, seed: int = 11643) -> list[list[Any]]:
    """One row per resident: 户号, 姓名, 性别, 出生日期, 公民身份号码, 联系电话, 与户主关系,
    地址, 人员类别 (the headers of docs/samples/register-sample.xlsx)."""
    rng = random.Random(seed)
    numbers = {h.id: household_no(i) for i, h in enumerate(district.households)}
    addresses = {h.id: h.address for h in district.households}
    rows: list[list[Any]] = [
        [
            "户号",
            "姓名",
            "性别",
            "出生日期",
            "公民身份号码",
            "联系电话",
            "与户主关系",
            "地址",
            "人员类别",
        ]
    ]
    for r in district.residents:
        number = invented_id_number(rng, r.birth_year, r.gender)
        born = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        words = "、".join(rng.choice(CATEGORY_WORDS[t]) for t in r.care_tags if t in CATEGORY_WORDS)
        rows.append(
            [
                numbers[r.household_id],
                r.name,
                "男" if r.gender == "M" else "女",
                born,
                number,
                r.phone or "",
                r.relation,
                addresses[r.household_id],
                words,
            ]
        )
    return rows


def address_rows(district: District) -> list[list[Any]]:
    """One row per building, its point in GCJ-02 as copied from a Chinese web map."""
    rows: list[list[Any]] = [["标准地址编码", "标准地址", "经度", "纬度"]]
    seen: dict[tuple[str, str, str], Any] = {}
    for h in district.households:
        seen.setdefault((h.road, h.lane, h.building_no), h)
    for index, ((road, lane, number), h) in enumerate(sorted(seen.items())):
        lon, lat = from_wgs84(h.lon, h.lat, "gcj02")
        lane_text = f"{lane}弄" if lane else ""
        rows.append(
            [
                f"310105004-{index + 1:05d}",
                f"{road}{lane_text}{number}号",
                round(lon, 7),
                round(lat, 7),
            ]
        )
    return rows


def staff_rows(district: District, today: dt.date) -> list[list[Any]]:
    """Every demo account, with the cells it answers for (A角 and B角), as of a year ago."""
    principal, deputy, special = _duties(district)
    start = (today - dt.timedelta(days=365)).isoformat()
    rows: list[list[Any]] = [
        ["用户名", "姓名", "角色", "手机", "职责", "负责网格", "B角网格", "任职日期"]
    ]
    for member in STAFF:
        duty, cells = special.get(member.username, ("网格员", principal.get(member.username, [])))
        rows.append(
            [
                member.username,
                member.display_name,
                ROLE_WORDS[member.role],
                member.phone,
                duty if cells or member.username in deputy else "",
                "、".join(cells),
                "、".join(deputy.get(member.username, [])),
                start if cells or member.username in deputy else "",
            ]
        )
    return rows


def _duties(
    district: District,
) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, tuple[str, list[str]]]]:
    """The same duties as ``server.demo.staff.assign_duties``, per person."""
    areas = sorted(c.code for c in district.cells if c.level == CellLevel.RESIDENTIAL_AREA)
    index = {code: i for i, code in enumerate(areas)}
    parent = {c.code: c.parent_code for c in district.cells}
    principal: dict[str, list[str]] = {}
    deputy: dict[str, list[str]] = {}
    police, property_cells, street = [], [], []

    def area_of(code: str) -> str | None:
        while code and code not in index:
            code = parent.get(code) or ""
        return code or None

    for cell in district.cells:
        if cell.level == CellLevel.STREET:
            street.append(cell.code)
            continue
        area = area_of(cell.code)
        first, second = worker_for_area(index[area] if area else 0)
        principal.setdefault(first, []).append(cell.code)
        deputy.setdefault(second, []).append(cell.code)
        if cell.level == CellLevel.RESIDENTIAL_AREA:
            police.append(cell.code)
            if index[cell.code] % 2 == 0:
                property_cells.append(cell.code)
    special = {
        "li.qiang": ("网格员", street),
        "jiang.tao": ("社区民警", police),
        "shen.hua": ("物业经理", property_cells),
    }
    return principal, deputy, special


def unit_rows() -> list[list[Any]]:
    """The shipped units (server/catalogue/data/catalogue.toml) as a units file."""
    from server.catalogue.loading import DATA_FILE, read_toml
    from server.imports.units import KINDS

    words = {kind: text for text, kind in reversed(list(KINDS.items())) if not text.isascii()}
    rows: list[list[Any]] = [["单位编码", "单位名称", "英文名称", "单位类别", "联系电话", "启用"]]
    for unit in read_toml(DATA_FILE).get("units", []):
        rows.append(
            [
                unit["code"],
                unit["name_zh"],
                unit["name_en"],
                words[unit["kind"]],
                unit.get("phone", ""),
                "是",
            ]
        )
    return rows


def files(district: District, today: dt.date) -> dict[str, bytes]:
    """File name → bytes: the register as XLSX, the others as CSV (UTF-8 with BOM)."""
    return {
        "register-sample.xlsx": xlsx_bytes(register_rows(district), sheet="人口登记"),
        "addresses-sample.csv": csv_bytes(address_rows(district)),
        "staff-sample.csv": csv_bytes(staff_rows(district, today)),
    }


def all_samples(district: District, today: dt.date) -> dict[str, bytes]:
    """What docs/samples/ holds: the demo's files and the shipped units."""
    return {**files(district, today), "units-sample.csv": csv_bytes(unit_rows())}
