"""The units import (职能部门, 驻区单位, 物业公司 …), matched by unit code."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from server.audit.operations import record
from server.enums import UnitKind
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
        "code", "单位编码", "Unit code", ("单位编码", "编码", "代码"), required=True, max_length=32
    ),
    FieldSpec(
        "name_zh", "单位名称", "Name", ("单位名称", "名称", "单位"), required=True, max_length=100
    ),
    FieldSpec("name_en", "英文名称", "English name", ("英文名称", "英文名"), max_length=150),
    FieldSpec(
        "kind", "单位类别", "Kind", ("单位类别", "类别", "类型"), required=True, max_length=20
    ),
    FieldSpec("phone", "联系电话", "Phone", ("联系电话", "电话"), max_length=40),
    FieldSpec("address", "地址", "Address", ("地址", "办公地址"), max_length=200),
    FieldSpec("cell_code", "所在网格", "Cell", ("所在网格", "网格编码", "楼组编码"), max_length=64),
    FieldSpec("active", "启用", "Active", ("启用", "状态", "在用"), max_length=8),
)
KINDS = {
    "职能部门": UnitKind.DEPARTMENT,
    "部门": UnitKind.DEPARTMENT,
    "驻区单位": UnitKind.STATIONED_UNIT,
    "物业公司": UnitKind.PROPERTY_COMPANY,
    "物业": UnitKind.PROPERTY_COMPANY,
    "应急抢修队": UnitKind.REPAIR_TEAM,
    "抢修队": UnitKind.REPAIR_TEAM,
    "社会组织": UnitKind.SOCIAL_ORG,
    "志愿者队伍": UnitKind.VOLUNTEER_TEAM,
    "服务商": UnitKind.SERVICE_PROVIDER,
    **{k.value: k for k in UnitKind},
}


@dataclass
class UnitPlan:
    rows: list[tuple[int, str, dict[str, Any]]]
    missing: list[int]


class UnitImport:
    name = "units"
    specs = SPECS

    def check(
        self, ctx: Context, rows: Iterator[Row], mapping: Mapping, report: ImportReport
    ) -> Checked:
        codes = published_codes(ctx.session)
        seen: dict[str, int] = {}
        found = []
        for number, values in rows:
            cells = RowReader(number, values, mapping, SPECS)
            code = cells.text("code")
            if code in seen:
                cells.flag("duplicate_key", "code", code, first_row=seen[code])
            seen.setdefault(code, number)
            kind_text = cells.text("kind")
            kind = KINDS.get(kind_text.lower()) if kind_text else None
            if kind_text and kind is None:
                cells.flag("unit_kind_unknown", "kind", kind_text)
            cell = cells.text("cell_code") or None
            if cell and cell not in codes:
                cells.flag("cell_unknown", "cell_code", cell)
            phone = cells.phone("phone")
            values_ = {
                "name_zh": cells.text("name_zh"),
                "name_en": cells.text("name_en") or cells.text("name_zh"),
                "kind": kind,
                "phone": phone,
                "address": cells.text("address") or None,
                "cell_code": cell,
                "is_active": cells.flag_bool("active", True),
            }
            report.extend(cells.problems)
            if not cells.has_errors and kind is not None:
                found.append((number, code, values_))
        stored = {u.code: u for u in ctx.session.scalars(select(Unit))}
        listed = {code for _, code, _ in found}
        missing = [u.id for u in stored.values() if u.code not in listed and u.is_active]
        counts = {
            "units": len(found),
            "units_new": sum(code not in stored for _, code, _ in found),
            "units_changed": sum(
                code in stored and _changes(stored[code], v) != [] for _, code, v in found
            ),
            "units_missing": len(missing) if ctx.full else 0,
        }
        return Checked(UnitPlan(found, missing if ctx.full else []), counts)

    def apply(self, ctx: Context, checked: Checked, run_id: Any) -> dict[str, int]:
        plan: UnitPlan = checked.plan
        created = updated = 0
        for _, code, values in plan.rows:
            unit = ctx.session.scalar(select(Unit).where(Unit.code == code))
            if unit is None:
                ctx.session.add(Unit(code=code, **values))
                created += 1
                continue
            changed = _changes(unit, values)
            if changed:
                for key in changed:
                    setattr(unit, key, values[key])
                record(
                    ctx.session,
                    ctx.access,
                    action="update",
                    subject_type="unit",
                    subject_id=unit.id,
                    fields=changed,
                    detail={"reason": "units import"},
                )
                updated += 1
        for unit_id in plan.missing:
            ctx.session.add(
                ImportReview(
                    run_id=run_id,
                    reason="missing_from_file",
                    subject_type="units",
                    subject_id=str(unit_id),
                )
            )
        ctx.session.flush()
        return {
            "units_created": created,
            "units_updated": updated,
            "flagged_for_review": len(plan.missing),
        }


def _changes(unit: Unit, values: dict[str, Any]) -> list[str]:
    return [k for k, v in values.items() if getattr(unit, k) != v]
