"""Standard addresses, staff and units through the same pipeline as the register."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from geo.datums import from_wgs84
from server.accounts.models import User
from server.accounts.passwords import verify_password
from server.addresses.models import StandardAddress
from server.enums import DutyRank, DutyRole, UnitKind
from server.extensions import db
from server.grid.models import Duty
from server.imports.models import ImportReview
from server.population.models import Household
from server.units.models import Unit
from tests.server.import_world import DOORS, TODAY, csv_bytes, household_rows, xlsx_bytes


def test_doors_are_placed_in_the_building_group_their_point_falls_in(office):
    doors = {a.code: a for a in db.session.scalars(select(StandardAddress))}
    assert doors["A1"].cell_code == "R1-B1-G1" and doors["A4"].cell_code == "R2-B2-G2"
    assert doors["A4"].building_key == "法华镇路|535||1"


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_coordinates_from_a_chinese_web_map_are_stored_in_wgs84(office, datum):
    rows = [DOORS[0]] + [[f"M{r[0]}", r[1], *from_wgs84(r[2], r[3], datum)] for r in DOORS[1:]]
    office.apply("addresses", csv_bytes(rows), datum=datum)
    door = db.session.scalar(select(StandardAddress).where(StandardAddress.code == "MA1"))
    assert door.lon == pytest.approx(DOORS[1][2], abs=2e-6) and door.cell_code == "R1-B1-G1"
    assert door.source_datum == datum


@pytest.mark.parametrize(
    ("row", "rule"),
    [
        (["B1", "新华路1号", 31.2025, 121.4225], "coordinates_outside"),  # swapped
        (["B1", "新华路1号", 116.39, 39.9], "coordinates_outside"),  # Beijing
        (["B1", "新华路1号", "东经121度", 31.2], "number_unreadable"),
        (["B1", "新华路1号", 121.4225, None], "coordinates_invalid"),
        (["A1", "新华路2号", 121.4225, 31.2025], "duplicate_key"),
        (["", "新华路2号", 121.4225, 31.2025], "required_missing"),
    ],
)
def test_a_bad_address_row_is_an_error_naming_its_row(office, row, rule):
    run = office.check("addresses", csv_bytes([*DOORS, row]))
    assert (6, rule) in [(p["row"], p["rule"]) for p in run.report["problems"]], run.report
    assert run.state == "refused"


def test_a_door_outside_every_building_group_is_kept_unplaced_with_a_warning(office):
    run = office.apply("addresses", csv_bytes([DOORS[0], ["Z1", "延安西路1号", 121.45, 31.21]]))
    assert [p["rule"] for p in run.report["problems"]] == ["outside_grid"]
    door = db.session.scalar(select(StandardAddress).where(StandardAddress.code == "Z1"))
    assert door.cell_code is None


def test_a_footprint_places_its_building_by_its_centre(office):
    corners = [(121.4221, 31.2021), (121.4229, 31.2021), (121.4229, 31.2029), (121.4221, 31.2029)]
    wkt = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in [*corners, corners[0]]) + "))"
    rows = [["标准地址编码", "标准地址", "楼栋轮廓"], ["F1", "新华路329弄16号", wkt]]
    office.apply("addresses", xlsx_bytes(rows), datum="wgs84")
    door = db.session.scalar(select(StandardAddress).where(StandardAddress.code == "F1"))
    assert door.footprint_wkb and door.cell_code == "R1-B1-G1"


def test_an_unmatched_register_address_is_left_unplaced_for_the_address_check(office):
    rows = household_rows()
    rows[1][7] = "新华路999弄1号101室"
    office.apply("register", csv_bytes(rows))
    home = db.session.scalar(select(Household).where(Household.register_key == "no:H1"))
    assert home.cell_code == "" and home.address_match == "unmatched"
    review = db.session.scalar(select(ImportReview).where(ImportReview.subject_id == str(home.id)))
    assert review.reason == "address_unmatched" and review.resolved_at is None


STAFF = [
    ["用户名", "姓名", "角色", "手机", "职责", "负责网格", "B角网格", "任职日期"],
    [
        "zhang.wei",
        "张伟",
        "网格员",
        "138 0000 2345",
        "网格员",
        "R1-B1-G1、R1-B1-G2",
        "R2-B1-G1",
        "2026-01-01",
    ],
    ["li.na", "李娜", "调度员", "13800003456", "", "", "", ""],
]


def test_staff_accounts_come_with_their_duties_and_no_password(office):
    run = office.apply("staff", csv_bytes(STAFF))
    assert run.counts["staff_created"] == 2 and run.counts["duties_created"] == 3
    user = db.session.scalar(select(User).where(User.username == "zhang.wei"))
    assert user.phone == "13800002345" and not verify_password(user.password_hash, "")
    duties = {
        (d.cell_code, d.rank)
        for d in db.session.scalars(select(Duty).where(Duty.user_id == user.id))
    }
    assert ("R2-B1-G1", DutyRank.DEPUTY) in duties and ("R1-B1-G1", DutyRank.PRINCIPAL) in duties
    assert all(
        d.role == DutyRole.GRID_WORKER and d.starts_on == dt.date(2026, 1, 1)
        for d in db.session.scalars(select(Duty))
    )
    again = office.apply("staff", csv_bytes(STAFF))
    assert again.counts["staff_updated"] == 0 and again.counts["duties_created"] == 0


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda r: r.__setitem__(0, "张 伟"), "username_invalid"),
        (lambda r: r.__setitem__(2, "超级用户"), "role_unknown"),
        (lambda r: r.__setitem__(4, "保安"), "duty_unknown"),
        (lambda r: r.__setitem__(5, "NO-SUCH-CELL"), "cell_unknown"),
    ],
)
def test_a_bad_staff_row_is_refused(office, change, rule):
    rows = [list(r) for r in STAFF]
    change(rows[1])
    run = office.check("staff", csv_bytes(rows))
    assert (2, rule) in [(p["row"], p["rule"]) for p in run.report["problems"]]
    assert run.state == "refused"


def test_units_are_created_then_updated_by_code(office):
    rows = [
        ["单位编码", "单位名称", "单位类别", "联系电话", "所在网格"],
        ["U1", "区房管局", "职能部门", "62345678", ""],
        ["U2", "新华物业", "物业公司", "", "R1-B1-G1"],
    ]
    office.apply("units", csv_bytes(rows))
    rows[1][3] = "021-62340000"
    run = office.apply("units", csv_bytes(rows))
    assert run.counts["units_updated"] == 1 and run.counts["units_created"] == 0
    unit = db.session.scalar(select(Unit).where(Unit.code == "U1"))
    assert unit.kind == UnitKind.DEPARTMENT and unit.phone == "021-62340000"


def test_today_is_the_offices_date(office):
    assert office.context().today == TODAY
