"""Apply a checked register file: new rows in bulk, changes through the register's verbs.

New households and residents go in with Core bulk inserts (35,000 households in seconds);
every change to an existing row goes through ``population.editing`` (only what differs,
audited with the run as the reason, moves with scope exits). Rows a full re-import lacks
and addresses left unmatched become review items: nothing is deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from server.imports.kinds import Context
from server.imports.models import ImportReview
from server.imports.register_state import Diff, new_id
from server.population import editing
from server.population.models import Household, Resident
from sync.db import metadata
from sync.versions import next_version

CHUNK = 2000
#: New rows go in through Core table inserts (executemany), not the ORM's bulk path: the
#: same path as a hand-written loader, without per-row ORM bookkeeping.
TABLES = {t: metadata.tables[t] for t in ("households", "residents", "resident_tags")}
REVIEWED_MATCHES = ("unmatched", "ambiguous")


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def apply_register(ctx: Context, diff: Diff, run_id: uuid.UUID) -> dict[str, int]:
    """Write ``diff``; return what was done (the run's counts)."""
    session = ctx.session
    stamp = next_version(session)
    reason = f"import {run_id}"
    _insert_households(ctx, diff, stamp)
    _insert_people(ctx, diff, stamp)
    _update_households(ctx, diff, stamp, reason)
    _update_people(ctx, diff, stamp, reason)
    reviews = _reviews(ctx, diff, run_id)
    session.flush()
    return {
        "households_created": len(diff.new_households),
        "households_updated": len(diff.changed_households),
        "residents_created": len(diff.new_people),
        "residents_updated": len(diff.changed_people),
        "unchanged": diff.unchanged_households + diff.unchanged_people,
        "flagged_for_review": reviews,
    }


def _insert_households(ctx: Context, diff: Diff, stamp: int) -> None:
    for chunk in _chunks(diff.new_households):  # rows built per chunk: memory stays flat
        rows = [
            editing.household_values(
                {**h.values(), "id": hid, "cell_code": h.cell_code, "register_key": h.key},
                version=stamp,
            )
            for hid, h in chunk
        ]
        ctx.session.execute(TABLES["households"].insert(), rows)


def _insert_people(ctx: Context, diff: Diff, stamp: int) -> None:
    for chunk in _chunks(diff.new_people):  # rows built per chunk: memory stays flat
        rows, tags = [], []
        for person, hid in chunk:
            rid = new_id(f"resident/{person.key}", diff.taken)
            values = person.values()
            values.update(editing.identity_values(ctx.vault, person.id_number))
            values.update(id=rid, household_id=hid, register_key=person.key)
            rows.append(editing.resident_values(values, version=stamp))
            tags.extend({"resident_id": rid, "tag_code": code} for code in sorted(person.tags))
        ctx.session.execute(TABLES["residents"].insert(), rows)
        if tags:
            ctx.session.execute(TABLES["resident_tags"].insert(), tags)


def _load(
    session: Session, model: Any, ids: Iterable[uuid.UUID], *options: Any
) -> dict[uuid.UUID, Any]:
    found: dict[uuid.UUID, Any] = {}
    for chunk in _chunks(list(ids), 500):
        query = select(model).where(model.id.in_(chunk)).options(*options)
        found.update((row.id, row) for row in session.scalars(query))
    return found


def _update_households(ctx: Context, diff: Diff, stamp: int, reason: str) -> None:
    stored = _load(ctx.session, Household, (hid for hid, *_ in diff.changed_households))
    for hid, household, _changed, _moving in diff.changed_households:
        row = stored[hid]
        row.register_key = row.register_key or household.key
        editing.update_household(
            ctx.session,
            ctx.access,
            row,
            household.values(),
            reason=reason,
            cell_code=household.cell_code or None,
            version=stamp,
        )


def _update_people(ctx: Context, diff: Diff, stamp: int, reason: str) -> None:
    stored = _load(
        ctx.session, Resident, (rid for rid, *_ in diff.changed_people), selectinload(Resident.tags)
    )
    households = _load(ctx.session, Household, {hid for _, _, hid, _ in diff.changed_people})
    mapped = diff.mapped
    for rid, person, hid, _changed in diff.changed_people:
        row = stored[rid]
        row.register_key = person.key
        values = person.values()
        if "id_number" not in mapped:
            values = {k: v for k, v in values.items() if k not in ("gender", "birth_year")}
        editing.update_resident(
            ctx.session,
            ctx.access,
            row,
            {k: v for k, v in values.items() if _mapped(k, mapped)},
            reason=reason,
            household=households.get(hid) or ctx.session.get(Household, hid),
            tags=person.tags if "category" in mapped else None,
            identity=editing.identity_values(ctx.vault, person.id_number)
            if person.digest
            else None,
            version=stamp,
        )


def _mapped(attr: str, mapped: set[str]) -> bool:
    field_name = {"birth_year": "birth"}.get(attr, attr)
    return field_name in mapped or (attr in ("gender", "birth_year") and "id_number" in mapped)


def _reviews(ctx: Context, diff: Diff, run_id: uuid.UUID) -> int:
    open_reviews = {
        (row[0], row[1], row[2])
        for row in ctx.session.execute(
            select(ImportReview.subject_type, ImportReview.subject_id, ImportReview.reason).where(
                ImportReview.resolved_at.is_(None)
            )
        )
    }
    items = []

    def add(reason: str, subject_type: str, subject_id: uuid.UUID, **detail: Any) -> None:
        if (subject_type, str(subject_id), reason) not in open_reviews:
            items.append(
                {
                    "run_id": run_id,
                    "reason": reason,
                    "subject_type": subject_type,
                    "subject_id": str(subject_id),
                    "detail": detail,
                    "resolution": "",
                }
            )

    for hid in diff.missing_households:
        add("missing_from_file", "households", hid)
    for rid in diff.missing_people:
        add("missing_from_file", "residents", rid)
    for hid, household in diff.new_households:
        _address_review(add, hid, household)
    for hid, household, _changed, _moving in diff.changed_households:
        _address_review(add, hid, household)
    for chunk in _chunks(items):
        ctx.session.execute(insert(ImportReview), list(chunk))
    return len(items)


def _address_review(add: Any, hid: uuid.UUID, household: Any) -> None:
    if household.address_match in REVIEWED_MATCHES and not household.cell_code:
        add(
            f"address_{household.address_match}",
            "households",
            hid,
            address=household.address,
            row=household.first_row,
        )
