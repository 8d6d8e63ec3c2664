"""Load the catalogue, units and care tags from the TOML files; twice changes nothing."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.catalogue.models import CatalogueCategory, CatalogueItem
from server.catalogue.search import initials
from server.enums import CatalogueKind, UnitKind
from server.exceptions import InvalidInput
from server.population.models import CareTag
from server.units.models import Unit

DATA_FILE = Path(__file__).parent / "data" / "catalogue.toml"
CARE_TAGS_FILE = Path(__file__).parents[1] / "population" / "data" / "care_tags.toml"


@dataclass
class LoadReport:
    added: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    def summary(self) -> str:
        parts = [f"added {n} {k}" for k, n in sorted(self.added.items())]
        parts += [f"updated {n} {k}" for k, n in sorted(self.updated.items())]
        return ", ".join(parts) or "nothing to change"


def pinyin_initials(text: str) -> str:
    """First letters of each syllable: 垃圾堆放 → ljdf.

    >>> pinyin_initials("垃圾堆放")
    'ljdf'
    """
    return initials(text)[:64]  # letters only: 生活垃圾堆积、清运 → shljdjqy


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(_l("Cannot read %(path)s: %(error)s", path=path, error=error)) from None


def _apply(
    session: Session,
    report: LoadReport,
    kind: str,
    row: Any,
    values: dict[str, Any],
    *,
    update: bool,
) -> Any:
    if row is None:
        report.count(report.added, kind)
        return values
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if changed and update:
        for key, value in changed.items():
            setattr(row, key, value)
        report.count(report.updated, kind)
    return None


def load_catalogue(session: Session, data: dict[str, Any], *, update: bool = False) -> LoadReport:
    """Insert missing units, categories and items; with `update`, also refresh changed ones.

    Edits made later in the back office survive a plain re-load (update=False).
    """
    report = LoadReport()
    units = {u.code: u for u in session.scalars(select(Unit))}
    for raw in data.get("units", []):
        values = {
            "code": raw["code"],
            "name_zh": raw["name_zh"],
            "name_en": raw["name_en"],
            "kind": UnitKind(raw["kind"]),
            "phone": raw.get("phone"),
        }
        new = _apply(session, report, "units", units.get(raw["code"]), values, update=update)
        if new:
            units[raw["code"]] = Unit(**new)
            session.add(units[raw["code"]])
    categories = {c.code: c for c in session.scalars(select(CatalogueCategory))}
    for sort, raw in enumerate(data.get("categories", [])):
        values = {
            "code": raw["code"],
            "kind": CatalogueKind(raw["kind"]),
            "name_zh": raw["name_zh"],
            "name_en": raw["name_en"],
            "sort": sort,
        }
        row = categories.get(raw["code"])
        new = _apply(session, report, "categories", row, values, update=update)
        if new:
            categories[raw["code"]] = CatalogueCategory(**new)
            session.add(categories[raw["code"]])
    session.flush()
    items = {i.code: i for i in session.scalars(select(CatalogueItem))}
    for raw in data.get("items", []):
        values = _item_values(raw, categories, units)
        new = _apply(session, report, "items", items.get(raw["code"]), values, update=update)
        if new:
            session.add(CatalogueItem(**new))
    session.flush()
    return report


def _item_values(
    raw: dict[str, Any], categories: dict[str, CatalogueCategory], units: dict[str, Unit]
) -> dict[str, Any]:
    category = categories.get(raw["category"])
    if category is None:
        raise InvalidInput(_l("Item %(code)s names an unknown category.", code=raw["code"]))
    unit = units.get(raw.get("default_unit", ""))
    limits = raw["limits_hours"]
    return {
        "code": raw["code"],
        "category_id": category.id,
        "name_zh": raw["name_zh"],
        "name_en": raw["name_en"],
        "default_unit_id": unit.id if unit else None,
        "limit_urgent_hours": float(limits["urgent"]),
        "limit_high_hours": float(limits["high"]),
        "limit_normal_hours": float(limits["normal"]),
        "keywords": list(raw.get("keywords", [])),
        "pinyin_initials": pinyin_initials(raw["name_zh"]),
        "questions": list(raw.get("questions", [])),
    }


def load_care_tags(session: Session, data: dict[str, Any], *, update: bool = False) -> LoadReport:
    report = LoadReport()
    existing = {t.code: t for t in session.scalars(select(CareTag))}
    for raw in data.get("tags", []):
        values = {
            "code": raw["code"],
            "name_zh": raw["name_zh"],
            "name_en": raw["name_en"],
            "visit_every_days": int(raw["visit_every_days"]),
            "priority": int(raw.get("priority", 5)),
            "description_zh": raw.get("description_zh", ""),
        }
        new = _apply(session, report, "care tags", existing.get(raw["code"]), values, update=update)
        if new:
            session.add(CareTag(**new))
    session.flush()
    return report
