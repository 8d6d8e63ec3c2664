"""What the import pages show, in the reader's language: kinds, fields, counts, review items."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.exports.cells import safe_row
from server.imports.models import ImportReview, ImportRun

KIND_LABELS: dict[str, Any] = {
    "register": _l("Population register"),
    "addresses": _l("Standard addresses"),
    "staff": _l("Staff"),
    "units": _l("Units"),
    "catalogue": _l("Catalogue"),
}
KIND_HINTS: dict[str, Any] = {
    "register": _l(
        "One row per person: name, sex, date of birth, identity number, phone, relation to "
        "the head, address (or road, lane, building, room), category."
    ),
    "addresses": _l(
        "One row per door: address code, standard address, longitude and latitude (any datum) "
        "or a footprint as WKT."
    ),
    "staff": _l("One row per person: user name, name, role, phone, duty and the cells."),
    "units": _l("One row per unit: code, name, kind, phone, address, cell."),
    "catalogue": _l(
        "One row per matter: code, name, kind (affair or service), category, time limits in "
        "hours (urgent, high, normal), default unit code, active."
    ),
}
COUNT_LABELS: dict[str, Any] = {
    "rows": _l("Data rows"),
    "errors": _l("Errors"),
    "warnings": _l("Warnings"),
    "households_new": _l("New households"),
    "households_changed": _l("Households changed"),
    "households_unchanged": _l("Households unchanged"),
    "households_missing": _l("Households not in the file"),
    "residents_new": _l("New residents"),
    "residents_changed": _l("Residents changed"),
    "residents_unchanged": _l("Residents unchanged"),
    "residents_missing": _l("Residents not in the file"),
    "addresses_new": _l("New addresses"),
    "addresses_changed": _l("Addresses changed"),
    "addresses_unchanged": _l("Addresses unchanged"),
    "addresses_missing": _l("Addresses not in the file"),
    "addresses_unplaced": _l("Addresses in no building group"),
    "staff_new": _l("New accounts"),
    "staff_changed": _l("Accounts changed"),
    "staff_missing": _l("Accounts not in the file"),
    "units_new": _l("New units"),
    "units_changed": _l("Units changed"),
    "units_missing": _l("Units not in the file"),
    "items_new": _l("New catalogue items"),
    "items_changed": _l("Catalogue items changed"),
    "items_missing": _l("Catalogue items not in the file"),
    "categories_new": _l("New categories"),
    "flagged_for_review": _l("Flagged for review"),
    "duties_created": _l("Duties added"),
}
STATE_LABELS: dict[str, Any] = {
    "checking": _l("Being checked…"),
    "applying": _l("Being applied…"),
    "checked": _l("Checked, not applied yet"),
    "refused": _l("Has errors: cannot be applied"),
    "applied": _l("Applied"),
    "superseded": _l("Withdrawn"),
}
SHOWN_PROBLEMS = 500


def shown_counts(run: ImportRun) -> list[tuple[Any, int]]:
    """The counts a person reads, labelled, in a fixed order (zeros of "missing" hidden)."""
    counts = run.counts or {}
    return [
        (label, counts[key])
        for key, label in COUNT_LABELS.items()
        if key in counts and (counts[key] or not key.endswith(("_missing", "_unplaced")))
    ]


def unplaced(session: Session) -> int:
    """Open address reviews: households the address check has still to place."""
    return int(
        session.scalar(
            select(func.count()).where(
                ImportReview.reason.in_(("address_unmatched", "address_ambiguous")),
                ImportReview.resolved_at.is_(None),
            )
        )
        or 0
    )


def who(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return str(_l("the command line"))
    return session.scalar(select(User.display_name).where(User.id == user_id)) or "—"


def report_csv(run: ImportRun, lang: str) -> bytes:
    """The stored problems as CSV (UTF-8 with BOM), every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    zh = lang != "en"
    writer.writerow(
        ["行", "列", "值", "级别", "规则", "说明"]
        if zh
        else ["row", "column", "value", "severity", "rule", "message"]
    )
    for p in run.report.get("problems", []):
        severity = {"error": "错误", "warning": "警告"}.get(p["severity"]) if zh else p["severity"]
        message = p["message_zh"] if zh else p["message_en"]
        writer.writerow(
            safe_row(
                [
                    p.get("row") or "",
                    p.get("column") or "",
                    p.get("value") or "",
                    severity,
                    p["rule"],
                    message,
                ]
            )
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def unknown_categories(session: Session, *, runs: int = 20) -> list[tuple[str, int]]:
    """Category texts the latest register checks did not know, most frequent first."""
    from collections import Counter

    from server.imports.categories import lookup_table

    known = lookup_table(session)
    seen: Counter[str] = Counter()
    query = (
        select(ImportRun.report)
        .where(ImportRun.kind == "register")
        .order_by(ImportRun.created_at.desc())
        .limit(runs)
    )
    for report in session.scalars(query):
        for p in (report or {}).get("problems", []):
            if p.get("rule") == "category_unknown" and p.get("value"):
                seen[p["value"]] += 1
    return [(text, n) for text, n in seen.most_common(50) if text.lower() not in known]
