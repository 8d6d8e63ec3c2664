"""The catalogue import (受理目录): the office's own matters, matched by item code.

One row per item: code, name, kind (事务/服务), category (小类, by code or name; a new name
makes a new category), time limits per priority in hours, default unit, active. Applying
creates and updates items (each change audited, versions bumped so the phones pull them); a
full re-import flags the active items the file lacks for review and never deletes or
disables one (cases already filed name them). The TOML file stays the shipped default.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from server.audit.operations import record
from server.catalogue.models import CatalogueCategory, CatalogueItem
from server.enums import CatalogueKind
from server.imports.columns import FieldSpec, Mapping
from server.imports.kinds import Checked, Context
from server.imports.models import ImportReview
from server.imports.report import ImportReport
from server.imports.tabular import Row
from server.imports.values import RowReader
from server.units.models import Unit
from sync.versions import next_version

MIN_HOURS, MAX_HOURS = 0.1, 8760.0  # as the back office's item form (server/admin)
LIMITS = ("limit_urgent_hours", "limit_high_hours", "limit_normal_hours")
SPECS: tuple[FieldSpec, ...] = (
    FieldSpec("code", "编码", "Code", ("编码", "事项编码", "代码"), required=True, max_length=16),
    FieldSpec(
        "name_zh", "名称", "Name", ("名称", "事项名称", "事项"), required=True, max_length=100
    ),
    FieldSpec("name_en", "英文名称", "English name", ("英文名称", "英文名"), max_length=150),
    FieldSpec("kind", "大类", "Kind", ("大类", "类型"), required=True, max_length=8),
    FieldSpec(
        "category", "小类", "Category", ("小类", "类别", "分类"), required=True, max_length=100
    ),
    FieldSpec(
        "limit_urgent_hours",
        "紧急时限（小时）",
        "Urgent limit (hours)",
        ("紧急时限（小时）", "紧急时限", "时限紧急", "紧急"),
        required=True,
    ),
    FieldSpec(
        "limit_high_hours",
        "较急时限（小时）",
        "High limit (hours)",
        ("较急时限（小时）", "较急时限", "时限较急", "较急"),
        required=True,
    ),
    FieldSpec(
        "limit_normal_hours",
        "一般时限（小时）",
        "Normal limit (hours)",
        ("一般时限（小时）", "一般时限", "时限一般", "一般"),
        required=True,
    ),
    FieldSpec(
        "default_unit",
        "默认处置单位编码",
        "Default unit code",
        ("默认处置单位编码", "默认单位编码", "处置单位编码", "默认处置单位"),
        max_length=32,
    ),
    FieldSpec("keywords", "关键词", "Keywords", ("关键词", "关键字"), max_length=300),
    FieldSpec("active", "启用", "Active", ("启用", "状态", "在用"), max_length=8),
)
KINDS = {
    "事务": CatalogueKind.AFFAIR,
    "服务": CatalogueKind.SERVICE,
    **{k.value: k for k in CatalogueKind},
}
KIND_ZH = {CatalogueKind.AFFAIR: "事务", CatalogueKind.SERVICE: "服务"}
KIND_EN = {CatalogueKind.AFFAIR: "affairs", CatalogueKind.SERVICE: "services"}
KEYWORD_SEPARATORS = re.compile(r"[、,，;；/\s]+")


@dataclass
class ItemRow:
    row: int
    code: str
    category: str  # the category's code, or the name of a new category
    kind: CatalogueKind
    default_unit: str | None
    values: dict[str, Any]


@dataclass
class CataloguePlan:
    rows: list[ItemRow]
    new_categories: dict[str, CatalogueKind]  # name → kind
    missing: list[int]


class CatalogueImport:
    name = "catalogue"
    specs = SPECS

    def check(
        self, ctx: Context, rows: Iterator[Row], mapping: Mapping, report: ImportReport
    ) -> Checked:
        categories = list(ctx.session.scalars(select(CatalogueCategory)))
        by_code = {c.code: c for c in categories}
        by_name = {c.name_zh: c for c in categories}
        units = {u.code: u for u in ctx.session.scalars(select(Unit))}
        seen: dict[str, int] = {}
        new_categories: dict[str, CatalogueKind] = {}
        found: list[ItemRow] = []
        for number, values in rows:
            cells = RowReader(number, values, mapping, SPECS)
            code = cells.text("code")
            if code and code in seen:
                cells.flag("duplicate_key", "code", code, first_row=seen[code])
            if code:
                seen.setdefault(code, number)
            name = cells.text("name_zh")
            kind_text = cells.text("kind")
            kind = KINDS.get(kind_text.lower()) if kind_text else None
            if kind_text and kind is None:
                cells.flag("catalogue_kind_unknown", "kind", kind_text)
            category_text = cells.text("category")
            category = by_code.get(category_text) or by_name.get(category_text)
            if category is not None and kind is not None and category.kind != kind:
                cells.flag(
                    "category_kind_mismatch",
                    "category",
                    category_text,
                    category_kind_zh=KIND_ZH[category.kind],
                    category_kind_en=KIND_EN[category.kind],
                )
            if category is None and category_text and kind is not None:
                first_kind = new_categories.setdefault(category_text, kind)
                if first_kind != kind:
                    cells.flag(
                        "category_kind_mismatch",
                        "category",
                        category_text,
                        category_kind_zh=KIND_ZH[first_kind],
                        category_kind_en=KIND_EN[first_kind],
                    )
            hours = {field: _hours(cells, field) for field in LIMITS}
            if all(h is not None for h in hours.values()):
                urgent, high, normal = (hours[f] for f in LIMITS)
                if not urgent <= high <= normal:  # type: ignore[operator]
                    cells.flag(
                        "time_limits_order", "limit_high_hours", f"{urgent} / {high} / {normal}"
                    )
            unit_code = cells.text("default_unit") or None
            if unit_code and unit_code not in units:
                cells.flag("unit_unknown", "default_unit", unit_code)
            elif unit_code and not units[unit_code].is_active:
                cells.flag("unit_inactive", "default_unit", unit_code)
            keywords = [k for k in KEYWORD_SEPARATORS.split(cells.text("keywords")) if k]
            active = cells.flag_bool("active", True)
            report.extend(cells.problems)
            if cells.has_errors or kind is None or category_text == "":
                continue
            found.append(
                ItemRow(
                    number,
                    code,
                    category.code if category is not None else category_text,
                    kind,
                    unit_code,
                    {
                        "name_zh": name,
                        "name_en": cells.text("name_en") or name,
                        **hours,
                        "keywords": keywords,
                        "is_active": active,
                    },
                )
            )
        stored = {i.code: i for i in ctx.session.scalars(select(CatalogueItem))}
        listed = {r.code for r in found}
        missing = [i.id for i in stored.values() if i.code not in listed and i.is_active]
        used_new = {r.category for r in found if r.category not in by_code}
        plan = CataloguePlan(
            found,
            {k: v for k, v in new_categories.items() if k in used_new},
            missing if ctx.full else [],
        )
        counts = {
            "items": len(found),
            "items_new": sum(r.code not in stored for r in found),
            "items_changed": sum(
                r.code in stored and bool(_changes(stored[r.code], _values(r, by_code, units)))
                for r in found
            ),
            "categories_new": len(plan.new_categories),
            "items_missing": len(plan.missing),
        }
        return Checked(plan, counts)

    def apply(self, ctx: Context, checked: Checked, run_id: Any) -> dict[str, int]:
        from server.catalogue.loading import pinyin_initials

        plan: CataloguePlan = checked.plan
        session = ctx.session
        categories = {c.code: c for c in session.scalars(select(CatalogueCategory))}
        units = {u.code: u for u in session.scalars(select(Unit))}
        version: int | None = None
        sort = max((c.sort for c in categories.values()), default=0)
        for name, kind in plan.new_categories.items():
            sort += 1
            category = CatalogueCategory(
                code=_free_code(categories, kind), kind=kind, name_zh=name, name_en=name, sort=sort
            )
            session.add(category)
            categories[category.code] = category
            categories[name] = category  # rows name a new category by its name
        session.flush()
        items = {i.code: i for i in session.scalars(select(CatalogueItem))}
        created = updated = 0
        for row in plan.rows:
            values = _values(row, categories, units)
            item = items.get(row.code)
            if item is None:
                version = version or next_version(session)
                item = CatalogueItem(
                    code=row.code,
                    pinyin_initials=pinyin_initials(values["name_zh"]),
                    questions=[],
                    version=version,
                    **values,
                )
                session.add(item)
                session.flush()
                record(
                    session,
                    ctx.access,
                    action="create",
                    subject_type="catalogue_item",
                    subject_id=item.id,
                    detail={"reason": "catalogue import", "code": row.code},
                )
                created += 1
                continue
            changes = _changes(item, values)
            if not changes:
                continue
            for key, (_, new) in changes.items():
                setattr(item, key, new)
            if "name_zh" in changes:
                item.pinyin_initials = pinyin_initials(item.name_zh)
            version = version or next_version(session)
            item.version = version  # the phones pull the changed item
            record(
                session,
                ctx.access,
                action="update",
                subject_type="catalogue_item",
                subject_id=item.id,
                fields=sorted(changes),
                detail={"changes": _shown(changes), "reason": "catalogue import"},
            )
            updated += 1
        for item_id in plan.missing:
            session.add(
                ImportReview(
                    run_id=run_id,
                    reason="missing_from_file",
                    subject_type="catalogue_items",
                    subject_id=str(item_id),
                )
            )
        session.flush()
        return {
            "items_created": created,
            "items_updated": updated,
            "categories_created": len(plan.new_categories),
            "flagged_for_review": len(plan.missing),
        }


def _hours(cells: RowReader, field: str) -> float | None:
    value = cells.decimal(field)
    if value is None:
        if cells.raw(field) in (None, "") or not str(cells.raw(field)).strip():
            cells.flag("required_missing", field)
        return None
    if not math.isfinite(value) or not MIN_HOURS <= value <= MAX_HOURS:
        cells.flag("time_limit_invalid", field, value, lo=MIN_HOURS, hi=int(MAX_HOURS))
        return None
    return round(value, 2)


def _values(
    row: ItemRow, categories: dict[str, CatalogueCategory], units: dict[str, Unit]
) -> dict[str, Any]:
    category = categories.get(row.category)
    unit = units.get(row.default_unit) if row.default_unit else None
    return {
        **row.values,
        "category_id": category.id if category is not None else None,
        "default_unit_id": unit.id if unit is not None else None,
    }


def _changes(item: CatalogueItem, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (getattr(item, k), v) for k, v in values.items() if getattr(item, k) != v}


def _shown(changes: dict[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    return {k: [old, new] for k, (old, new) in changes.items()}


def _free_code(categories: dict[str, CatalogueCategory], kind: CatalogueKind) -> str:
    """The next category code of that kind: A08 after A07, S09 after S08."""
    prefix = "A" if kind == CatalogueKind.AFFAIR else "S"
    number = 1
    while f"{prefix}{number:02d}" in categories:
        number += 1
    return f"{prefix}{number:02d}"
