"""The staff import: accounts (matched by user name) and the cells they answer for.

New accounts get a random password nobody knows: the office issues each person a one-time
link (users page, or ``flask users reset-link NAME``). A re-import changes only what
differs; people a full re-import lacks are flagged for review, never disabled by a file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from server.accounts import operations as accounts
from server.accounts.models import User
from server.audit.operations import record
from server.enums import DutyRank, DutyRole, Role
from server.exceptions import WanggeError
from server.grid.models import Duty
from server.imports.columns import FieldSpec, Mapping
from server.imports.grid_cells import published_codes
from server.imports.kinds import Checked, Context
from server.imports.models import ImportReview
from server.imports.report import ImportReport
from server.imports.tabular import Row
from server.imports.values import RowReader
from server.units.models import Unit

SPECS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "username",
        "用户名",
        "User name",
        ("用户名", "账号", "登录名", "工号"),
        required=True,
        max_length=64,
    ),
    FieldSpec("display_name", "姓名", "Name", ("姓名", "名字"), required=True, max_length=100),
    FieldSpec("role", "角色", "Role", ("角色", "系统角色", "权限"), required=True, max_length=20),
    FieldSpec("phone", "手机", "Phone", ("手机", "联系电话", "电话", "手机号"), max_length=40),
    FieldSpec("email", "电子邮箱", "E-mail", ("电子邮箱", "邮箱", "email"), max_length=254),
    FieldSpec("unit", "单位编码", "Unit code", ("单位编码", "所属单位"), max_length=32),
    FieldSpec(
        "cells",
        "负责网格",
        "Cells answered for",
        ("负责网格", "负责楼组", "网格编码", "负责区域"),
        max_length=2000,
    ),
    FieldSpec("duty", "职责", "Duty", ("职责", "岗位", "网格职责"), max_length=20),
    FieldSpec(
        "deputy_cells",
        "B角网格",
        "Cells as deputy",
        ("B角网格", "协管网格", "B角负责网格"),
        max_length=2000,
    ),
    FieldSpec("starts_on", "任职日期", "Duties from", ("任职日期", "起始日期", "上岗日期")),
    FieldSpec("active", "在岗", "Active", ("在岗", "状态", "启用"), max_length=8),
)
ROLES = {
    "网格员": Role.WORKER,
    "社区民警": Role.WORKER,
    "物业经理": Role.WORKER,
    "楼组长": Role.WORKER,
    "志愿者": Role.WORKER,
    "调度员": Role.DISPATCHER,
    "联动中心": Role.DISPATCHER,
    "受理员": Role.DISPATCHER,
    "gis": Role.GIS,
    "地理信息": Role.GIS,
    "管理人员": Role.MANAGER,
    "领导": Role.MANAGER,
    "系统管理员": Role.ADMIN,
    "管理员": Role.ADMIN,
    **{r.value: r for r in Role},
}
DUTIES = {
    "网格员": DutyRole.GRID_WORKER,
    "楼组长": DutyRole.BUILDING_GROUP_LEADER,
    "社区民警": DutyRole.COMMUNITY_POLICE,
    "民警": DutyRole.COMMUNITY_POLICE,
    "物业经理": DutyRole.PROPERTY_MANAGER,
    "物业": DutyRole.PROPERTY_MANAGER,
    "志愿者": DutyRole.VOLUNTEER,
    **{d.value: d for d in DutyRole},
}


@dataclass
class StaffRow:
    row: int
    username: str
    values: dict[str, Any]
    active: bool
    cells: list[tuple[str, DutyRank]]
    duty: DutyRole
    starts_on: dt.date | None


@dataclass
class StaffPlan:
    rows: list[StaffRow]
    missing: list[int]


class StaffImport:
    name = "staff"
    specs = SPECS

    def check(
        self, ctx: Context, rows: Iterator[Row], mapping: Mapping, report: ImportReport
    ) -> Checked:
        units = dict(ctx.session.execute(select(Unit.code, Unit.id)).all())
        codes = published_codes(ctx.session)
        seen: dict[str, int] = {}
        people = []
        for number, values in rows:
            found = _read(RowReader(number, values, mapping, SPECS), units, codes, seen, report)
            if found is not None:
                people.append(found)
        users = {u.username: u for u in ctx.session.scalars(select(User))}
        listed = {p.username for p in people}
        missing = [u.id for u in users.values() if u.username not in listed and u.is_active]
        counts = {
            "staff": len(people),
            "staff_new": sum(p.username not in users for p in people),
            "staff_changed": sum(
                p.username in users and _differs(users[p.username], p) for p in people
            ),
            "staff_missing": len(missing) if ctx.full else 0,
        }
        return Checked(StaffPlan(people, missing if ctx.full else []), counts)

    def apply(self, ctx: Context, checked: Checked, run_id: Any) -> dict[str, int]:
        plan: StaffPlan = checked.plan
        created = updated = duties = 0
        for person in plan.rows:
            user = ctx.session.scalar(select(User).where(User.username == person.username))
            if user is None:
                user = accounts.create_user(
                    ctx.session,
                    username=person.username,
                    password=None,
                    role=person.values["role"].value,
                    display_name=person.values["display_name"],
                    phone=person.values["phone"],
                    email=person.values["email"],
                )
                user.unit_id = person.values["unit_id"]
                created += 1
            elif _differs(user, person):
                _update(ctx, user, person)
                updated += 1
            duties += _duties(ctx, user, person)
        for user_id in plan.missing:
            ctx.session.add(
                ImportReview(
                    run_id=run_id,
                    reason="missing_from_file",
                    subject_type="users",
                    subject_id=str(user_id),
                )
            )
        return {
            "staff_created": created,
            "staff_updated": updated,
            "duties_created": duties,
            "flagged_for_review": len(plan.missing),
        }


def _read(
    cells: RowReader,
    units: dict[str, int],
    codes: set[str],
    seen: dict[str, int],
    report: ImportReport,
) -> StaffRow | None:
    username = cells.text("username").lower()
    if username:
        try:
            username = accounts.validate_username(username)
        except WanggeError:
            cells.flag("username_invalid", "username", username)
        if username in seen:
            cells.flag("duplicate_key", "username", username, first_row=seen[username])
        seen.setdefault(username, cells.number)
    role_text = cells.text("role")
    role = ROLES.get(role_text.lower()) if role_text else None
    if role_text and role is None:
        cells.flag("role_unknown", "role", role_text)
    phone = cells.phone("phone")
    email = cells.text("email") or None
    if email:
        try:
            email = accounts.validate_email(email)
        except WanggeError:
            cells.flag("email_invalid", "email", email)
            email = None
    unit_code = cells.text("unit")
    if unit_code and unit_code not in units:
        cells.flag("unit_unknown", "unit", unit_code)
    cell_codes = []
    for field_name, rank in (("cells", DutyRank.PRINCIPAL), ("deputy_cells", DutyRank.DEPUTY)):
        for code in _split(cells.text(field_name)):
            if code not in codes:
                cells.flag("cell_unknown", field_name, code)
            cell_codes.append((code, rank))
    starts = cells.date("starts_on")
    duty_text = cells.text("duty")
    duty = DUTIES.get(duty_text.lower()) if duty_text else DutyRole.GRID_WORKER
    if duty is None:
        cells.flag("duty_unknown", "duty", duty_text)
    active = cells.flag_bool("active", True)
    name = cells.text("display_name")
    report.extend(cells.problems)
    if cells.has_errors or role is None or duty is None:
        return None
    values = {
        "display_name": name,
        "role": role,
        "phone": phone,
        "email": email,
        "unit_id": units.get(unit_code) if unit_code else None,
    }
    starts_on = starts.to_date() if starts else None
    return StaffRow(cells.number, username, values, active, cell_codes, duty, starts_on)


def _split(text: str) -> list[str]:
    import re

    return [p for p in re.split(r"[、,，;；\s]+", text) if p]


def _differs(user: User, person: StaffRow) -> bool:
    return user.is_active != person.active or any(
        getattr(user, k) != v for k, v in person.values.items()
    )


def _update(ctx: Context, user: User, person: StaffRow) -> None:
    changed = [k for k, v in person.values.items() if getattr(user, k) != v]
    for key in changed:
        setattr(user, key, person.values[key])
    if user.is_active != person.active:
        accounts.set_active(ctx.session, user.username, person.active)
        changed.append("is_active")
    record(
        ctx.session,
        ctx.access,
        action="update",
        subject_type="user",
        subject_id=user.id,
        fields=changed,
        detail={"reason": "staff import"},
    )


def _duties(ctx: Context, user: User, person: StaffRow) -> int:
    today: dt.date = ctx.today
    added = 0
    for code, rank in person.cells:
        current = ctx.session.scalar(
            select(Duty.id).where(
                Duty.user_id == user.id,
                Duty.cell_code == code,
                Duty.role == person.duty,
                (Duty.ends_on.is_(None)) | (Duty.ends_on >= today),
            )
        )
        if current is None:
            ctx.session.add(
                Duty(
                    user_id=user.id,
                    cell_code=code,
                    role=person.duty,
                    rank=rank,
                    starts_on=person.starts_on or today,
                    created_by_id=ctx.access.actor_id,
                )
            )
            added += 1
    ctx.session.flush()
    return added
