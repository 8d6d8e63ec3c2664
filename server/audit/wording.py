"""The audit trail in words: actions, subjects and fields named, ids turned into names.

Entries store codes (`read`, `case_caller`, a UUID); administrators read "查看 · 来电人信息 ·
案件 XH-2026-000123". Names are looked up in one query per kind of subject; a subject that
is gone reads "已删除" and its id stays in the hover title only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit.models import AuditEntry

ACTIONS: dict[str, Any] = {
    "read": _l("Viewed"),
    "reveal": _l("Revealed"),
    "create": _l("Created"),
    "update": _l("Edited"),
    "delete": _l("Deleted"),
    "export": _l("Exported"),
    "login": _l("Signed in"),
    "enable": _l("Enabled or disabled"),
    "disclosure": _l("Changed who can see it"),
    "duty_assigned": _l("Duty assigned"),
    "duty_ended": _l("Duty ended"),
    "ignore": _l("Ignored"),
    "import_check": _l("Import checked"),
    "import_apply": _l("Import applied"),
    "password_reset": _l("Password reset"),
    "reset_link_issued": _l("Reset link issued"),
    "publish": _l("Published"),
    "publish_displaced": _l("Published (cells moved)"),
    "close": _l("Ended"),
}

SUBJECTS: dict[str, Any] = {
    "case": _l("Case"),
    "case_caller": _l("Caller of a case"),
    "resident": _l("Resident"),
    "household": _l("Household"),
    "visit_log": _l("Visit records"),
    "register_search": _l("Register search"),
    "user": _l("Staff member"),
    "users": _l("Staff list"),
    "unit": _l("Unit"),
    "units": _l("Unit list"),
    "catalogue_item": _l("Catalogue item"),
    "catalogue_items": _l("Catalogue"),
    "category_mapping": _l("Category mapping"),
    "care_tag": _l("Care tag"),
    "grid_version": _l("Grid version"),
    "base_layer": _l("Base layer"),
    "import_run": _l("Import"),
    "campaign": _l("Campaign"),
}

FIELDS: dict[str, Any] = {
    "caller_name": _l("Caller"),
    "caller_phone": _l("Caller's phone"),
    "title": _l("Title"),
    "address": _l("Address"),
    "lon": _l("Longitude"),
    "lat": _l("Latitude"),
    "road": _l("Road"),
    "lane": _l("Lane"),
    "building": _l("Building"),
    "room": _l("Room"),
    "address_id": _l("Standard address"),
    "address_match": _l("Standard address"),
    "cell_code": _l("Cell"),
    "notes": _l("Notes"),
    "name": _l("Name"),
    "gender": _l("Gender"),
    "birth_year": _l("Year of birth"),
    "phone": _l("Phone"),
    "relation": _l("Relation"),
    "id_number": _l("ID number"),
    "situation": _l("Situation"),
    "needs": _l("Needs"),
    "follow_up": _l("Follow-up"),
    "status": _l("Status"),
    "status_on": _l("Date"),
    "status_reason": _l("Reason"),
    "residents": _l("Residents"),
    "tags": _l("Care tags"),
    "tag_code": _l("Care tag"),
    "visits": _l("Visits"),
    "username": _l("User name"),
    "display_name": _l("Display name"),
    "role": _l("Role"),
    "email": _l("Email"),
    "unit_id": _l("Unit"),
    "is_active": _l("Active"),
    "catalogue_items": _l("Catalogue items"),
    "limit_urgent_hours": _l("Time limit (urgent)"),
    "limit_high_hours": _l("Time limit (high)"),
    "limit_normal_hours": _l("Time limit (normal)"),
    "visit_form_id": _l("Visit form"),
    "target_labels": _l("Target names"),
    "answered_at": _l("Answer times"),
    "answers": _l("Answer contents"),
}


@dataclass(frozen=True)
class EntryWords:
    """What the audit page shows for one entry."""

    action: str
    kind: str
    subject: str  # a name or number; "" when the entry is about a page, not a record
    fields: str


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _as_int(value: str) -> int | None:
    return int(value) if value.isdecimal() and len(value) < 12 else None


def _names(session: Session, kind: str, ids: set[str], locale: str) -> dict[str, str]:
    """{subject id: name} for one kind of subject (ids it does not know are left out)."""
    from server.accounts.models import User
    from server.backoffice import mask
    from server.campaigns.models import Campaign
    from server.cases.models import Case
    from server.catalogue.models import CatalogueItem
    from server.grid.models import GridVersion
    from server.imports.models import ImportRun
    from server.layers.models import BaseLayer
    from server.population.models import Household, Resident
    from server.units.models import Unit

    table: dict[str, tuple[Any, Callable[[str], Any], Callable[[Any], str]]] = {
        "case": (Case, _as_uuid, lambda c: c.number),
        "case_caller": (Case, _as_uuid, lambda c: c.number),
        "resident": (Resident, _as_uuid, lambda r: mask(r.name)),
        "household": (Household, _as_uuid, lambda h: h.address),
        "user": (User, _as_int, lambda u: u.display_name),
        "unit": (Unit, _as_int, lambda u: u.name(locale)),
        "catalogue_item": (CatalogueItem, _as_int, lambda i: f"{i.name(locale)} {i.code}"),
        "grid_version": (GridVersion, _as_int, lambda v: v.name),
        "base_layer": (BaseLayer, _as_int, lambda layer: layer.name),
        "import_run": (ImportRun, _as_uuid, lambda r: r.filename or str(_l("(no file name)"))),
        "campaign": (Campaign, _as_int, lambda c: f"{c.title_zh} {c.code}"),
    }
    if kind not in table:
        return {}
    model, parse, name = table[kind]
    keys = {key: parsed for key in ids if (parsed := parse(key)) is not None}
    if not keys:
        return {}
    rows = session.scalars(select(model).where(model.id.in_(set(keys.values())))).all()
    by_key = {row.id: name(row) for row in rows}
    return {key: by_key[parsed] for key, parsed in keys.items() if parsed in by_key}


def describe(session: Session, entries: Sequence[AuditEntry], locale: str) -> list[EntryWords]:
    """The words for each entry, in order (one name query per kind of subject)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        wanted[entry.subject_type].add(entry.subject_id)
    names = {kind: _names(session, kind, ids, locale) for kind, ids in wanted.items()}
    comma = "、" if locale.startswith("zh") else ", "
    return [_words(entry, names.get(entry.subject_type, {}), comma) for entry in entries]


def _words(entry: AuditEntry, names: dict[str, str], comma: str) -> EntryWords:
    known = entry.subject_type in {
        "case", "case_caller", "resident", "household", "user", "unit", "catalogue_item",
        "grid_version", "base_layer", "import_run", "campaign",
    }  # fmt: skip
    subject = names.get(entry.subject_id) or (str(_l("deleted")) if known else "")
    return EntryWords(
        action=str(ACTIONS.get(entry.action, _l("Other action"))),
        kind=str(SUBJECTS.get(entry.subject_type, _l("Other record"))),
        subject=subject,
        fields=field_names(entry.fields, comma),
    )


def field_names(fields: Iterable[Any], comma: str = "、") -> str:
    """Field codes as words (the Chinese list comma by default)."""
    return comma.join(str(FIELDS.get(str(f), _l("other field"))) for f in fields)
