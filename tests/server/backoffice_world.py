"""A small street for back-office tests: five cells, people on duty, a catalogue, a clock.

    S (street) ⊃ S-A1 (residential area) ⊃ S-A1-B1 (block) ⊃ G1 | G2 (building groups)

Import the fixtures into a test module: `from tests.server.backoffice_world import *`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from shapely import box, to_wkb

from server.accounts.models import User
from server.catalogue.models import CatalogueCategory, CatalogueItem
from server.enums import (
    CatalogueKind,
    CellLevel,
    DutyRank,
    DutyRole,
    GridStatus,
)
from server.extensions import db
from server.grid.models import Cell, Duty, GridVersion
from server.units.models import Unit

__all__ = ["Clock", "World", "form_token", "post_form", "world"]

LON0, LAT0 = 121.420, 31.200
T0 = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai

CELLS = (
    ("S", "新华路街道", CellLevel.STREET, None, (0.0, 0.0, 0.02, 0.02)),
    ("S-A1", "番禺居民区", CellLevel.RESIDENTIAL_AREA, "S", (0.0, 0.0, 0.02, 0.02)),
    ("S-A1-B1", "第一块区", CellLevel.BLOCK, "S-A1", (0.0, 0.0, 0.02, 0.02)),
    ("G1", "1号楼组", CellLevel.BUILDING_GROUP, "S-A1-B1", (0.0, 0.0, 0.01, 0.02)),
    ("G2", "2号楼组", CellLevel.BUILDING_GROUP, "S-A1-B1", (0.01, 0.0, 0.02, 0.02)),
)
#: A point inside G1 and one inside G2 (lon, lat).
IN_G1 = (LON0 + 0.005, LAT0 + 0.01)
IN_G2 = (LON0 + 0.015, LAT0 + 0.01)


@dataclass
class Clock:
    """The app's controllable clock: `clock.now = …` or `clock.advance(hours=3)`."""

    now: dt.datetime = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@dataclass
class World:
    clock: Clock
    users: dict[str, Any] = field(default_factory=dict)
    items: dict[str, CatalogueItem] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)


def _grid() -> None:
    grid = GridVersion(name="test", status=GridStatus.PUBLISHED, published_at=T0)
    db.session.add(grid)
    for code, name, level, parent, (x0, y0, x1, y1) in CELLS:
        geom = box(LON0 + x0, LAT0 + y0, LON0 + x1, LAT0 + y1)
        db.session.add(cell_row(grid, code, name, level, parent, geom))


def cell_row(
    grid: GridVersion, code: str, name: str, level: CellLevel, parent: str | None, geom: Any
) -> Cell:
    """A cell of `grid` covering `geom` (a shapely polygon), its bounds filled in."""
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return Cell(
        grid_version=grid,
        code=code,
        name=name,
        level=level,
        parent_code=parent,
        geometry_wkb=to_wkb(geom),
        min_lon=min_lon,
        min_lat=min_lat,
        max_lon=max_lon,
        max_lat=max_lat,
        area_m2=1.0,
    )


def _catalogue(world: World) -> None:
    for code, name, kind in (
        ("U-GD", "供电公司驻街服务站", "stationed_unit"),
        ("U-CGZD", "街道城管执法中队", "department"),
        ("U-WY", "小区物业服务企业(按网格)", "property_company"),
    ):
        world.units[code] = Unit(code=code, name_zh=name, name_en=code, kind=kind)
        db.session.add(world.units[code])
    db.session.add(
        Unit(
            code="U-WY-G1",
            name_zh="G1 物业",
            name_en="G1 property",
            kind="property_company",
            cell_code="S-A1",
        )
    )
    affairs = CatalogueCategory(
        code="A05", kind=CatalogueKind.AFFAIR, name_zh="市政与公用设施", name_en="Utilities"
    )
    env = CatalogueCategory(
        code="A01", kind=CatalogueKind.AFFAIR, name_zh="社区环境", name_en="Environment"
    )
    db.session.add_all([affairs, env])
    db.session.flush()
    for code, name, initials, category, unit, limits in (
        ("A05-01", "电线破损裸露、漏电隐患", "dxpsll", affairs, "U-GD", (2, 8, 24)),
        ("A01-01", "生活垃圾堆积", "shljdj", env, "U-CGZD", (4, 24, 72)),
        ("A01-09", "小区公共设施损坏", "xqggss", env, "U-WY", (8, 48, 120)),
    ):
        item = CatalogueItem(
            code=code,
            category_id=category.id,
            name_zh=name,
            name_en=code,
            default_unit_id=world.units[unit].id,
            pinyin_initials=initials,
            limit_urgent_hours=limits[0],
            limit_high_hours=limits[1],
            limit_normal_hours=limits[2],
        )
        db.session.add(item)
        world.items[code] = item


def _duties(world: World) -> None:
    start = dt.date(2026, 1, 1)
    for username, cell, rank in (
        ("w1", "G1", DutyRank.PRINCIPAL),
        ("w2", "G1", DutyRank.DEPUTY),
        ("w3", "G2", DutyRank.PRINCIPAL),
        ("wb", "S-A1-B1", DutyRank.PRINCIPAL),
        ("wa", "S-A1", DutyRank.PRINCIPAL),
        ("mgr", "S", DutyRank.PRINCIPAL),
    ):
        db.session.add(
            Duty(
                user_id=world.users[username].id,
                cell_code=cell,
                role=DutyRole.GRID_WORKER,
                rank=rank,
                starts_on=start,
            )
        )


@functools.cache
def _password_hash() -> str:
    # One Argon2 hash for every test user: hashing nine per test would cost seconds.
    from server.accounts.passwords import hash_password
    from tests.server.conftest import PASSWORD

    return hash_password(PASSWORD)


@pytest.fixture
def world(app: Any) -> World:
    """The app (with the controllable clock) is the test's `app`; returns the world."""
    from flask import current_app

    clock = Clock()
    current_app.config["CLOCK"] = clock
    w = World(clock)
    for name, role, display in (
        ("d1", "dispatcher", "赵敏"),
        ("d2", "dispatcher", "钱磊"),
        ("mgr", "manager", "李强"),
        ("w1", "worker", "周杰"),
        ("w2", "worker", "吴芳"),
        ("w3", "worker", "郑浩"),
        ("wb", "worker", "王静"),
        ("wa", "worker", "冯宇"),
        ("admin", "admin", "管理员"),
    ):
        w.users[name] = User(
            username=name, display_name=display, role=role, password_hash=_password_hash()
        )
        db.session.add(w.users[name])
    db.session.flush()
    _grid()
    _catalogue(w)
    db.session.flush()
    _duties(w)
    db.session.commit()
    return w


def form_token(client: Any, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: Any, path: str, data: dict[str, Any], *, token_from: str = "/") -> Any:
    return client.post(path, data={**data, "csrf_token": form_token(client, token_from)})
