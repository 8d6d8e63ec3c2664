"""Verbs of the register pages: edit with a reason, move a household, a person moved out or
deceased (kept on record), a newborn or a new tenant.

Each checks the actor covers the household's cell (else NotFound), checks its input (else
InvalidInput, nothing changed), writes through ``server.population.editing`` /
``operations`` (server version stamped, scope exits for phones that lose a row) and leaves one
audit entry with the reason. The household card's history is read from those entries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.address_text import parse
from server.addresses.search import place_of
from server.audit.operations import AccessContext, record
from server.exceptions import Conflict, InvalidInput
from server.population import editing
from server.population.identity import IdVault
from server.population.idnumbers import IdNumberError, parse_id_number
from server.population.models import (
    ACTIVE,
    LEFT_STATUSES,
    CareTag,
    Household,
    Resident,
    ResidentTag,
)
from server.population.phones import PhoneError, normalise_phone
from server.register.reading import Cells, household_in_scope, resident_in_scope
from sync.models import ScopeExit
from sync.versions import next_version

RELATIONS = ("户主", "配偶", "子女", "父母", "其他")
GENDERS = ("M", "F")
#: Why a person is added: a baby born into the household, someone moving in (a tenant).
ARRIVALS = ("newborn", "tenant", "other")


@dataclass(frozen=True)
class Actor:
    """Who changes the register: the audit context and the cells they cover."""

    context: AccessContext
    cells: Cells
    today: dt.date


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if len(reason) < 2 or len(reason) > 200:
        raise InvalidInput(_l("Give a reason (2 to 200 characters)."), field="reason")
    return reason


def person_values(form: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """Name, gender, birth year, phone, relation and notes from a form, checked."""
    name = (form.get("name") or "").strip()
    if not name or len(name) > 60:
        raise InvalidInput(_l("Give the name (at most 60 characters)."), field="name")
    gender = form.get("gender") or ""
    if gender not in GENDERS:
        raise InvalidInput(_l("Choose male or female."), field="gender")
    year_text = (form.get("birth_year") or "").strip()
    birth_year = int(year_text) if year_text.isdigit() else None
    if year_text and (birth_year is None or not today.year - 120 <= birth_year <= today.year):
        raise InvalidInput(_l("The birth year is not plausible."), field="birth_year")
    phone_text = (form.get("phone") or "").strip()
    try:
        phone = normalise_phone(phone_text) if phone_text else None
    except PhoneError:
        raise InvalidInput(_l("That is not a phone number."), field="phone") from None
    relation = form.get("relation") or "其他"
    if relation not in RELATIONS:
        raise InvalidInput(_l("Choose the relation to the head of household."), field="relation")
    notes = (form.get("notes") or "").strip()
    if len(notes) > 500:
        raise InvalidInput(_l("Notes are at most 500 characters."), field="notes")
    return {
        "name": name,
        "gender": gender,
        "birth_year": birth_year,
        "phone": phone,
        "relation": relation,
        "notes": notes,
    }


def _tags(session: Session, codes: Iterable[str]) -> set[str]:
    wanted = {c for c in codes if c}
    known = set(session.scalars(select(CareTag.code).where(CareTag.code.in_(wanted))))
    if wanted - known:
        raise InvalidInput(_l("Choose care tags from the list."), field="tags")
    return wanted


def edit_household(
    session: Session, actor: Actor, household_id: uuid.UUID, *, notes: str, reason: str
) -> list[str]:
    """Change the household's notes (its address changes by a move)."""
    household = household_in_scope(session, actor.cells, household_id)
    why = _reason(reason)
    if len(notes.strip()) > 1000:
        raise InvalidInput(_l("Notes are at most 1000 characters."), field="notes")
    return editing.update_household(
        session, actor.context, household, {"notes": notes.strip()}, reason=why
    )


def edit_resident(
    session: Session,
    actor: Actor,
    resident_id: uuid.UUID,
    form: Mapping[str, Any],
    tags: Iterable[str],
    *,
    reason: str,
) -> list[str]:
    """Correct a person's details and care tags (tags added today carry today's date)."""
    resident = resident_in_scope(session, actor.cells, resident_id)
    why = _reason(reason)
    values = person_values(form, actor.today)
    return editing.update_resident(
        session,
        actor.context,
        resident,
        values,
        reason=why,
        tags=_tags(session, tags),
        tags_since=actor.today,
    )


def set_status(
    session: Session,
    actor: Actor,
    resident_id: uuid.UUID,
    status: str,
    *,
    on: dt.date | None,
    reason: str,
) -> Resident:
    """Mark a person moved out or deceased (on a date), or back on the register.

    A person who left stays in the table (visits and the history name them); the phones of
    the cell receive a deletion (a scope exit) and the visit plans stop counting them. Back
    on the register, the next pull brings them again.
    """
    resident = resident_in_scope(session, actor.cells, resident_id)
    why = _reason(reason)
    if status not in (ACTIVE, *LEFT_STATUSES):
        raise InvalidInput(_l("Choose moved out or deceased."), field="status")
    if status == resident.status:
        raise Conflict(_l("The register already says so."), field="status")
    if status != ACTIVE and (on is None or on > actor.today):
        raise InvalidInput(_l("Give the date (not in the future)."), field="on")
    version = next_version(session)
    household = session.get(Household, resident.household_id)
    if status != ACTIVE and resident.status == ACTIVE and household is not None:
        session.add(
            ScopeExit(
                version=version,
                table_name="residents",
                row_id=resident.id.hex,
                cell_code=household.cell_code,
            )
        )
    resident.status = status
    resident.status_on = on if status != ACTIVE else None
    resident.status_reason = why if status != ACTIVE else ""
    resident.version = version
    record(
        session,
        actor.context,
        action="update",
        subject_type="resident",
        subject_id=resident.id,
        fields=["status", "status_on", "status_reason"],
        detail={"reason": why, "status": status},
    )
    return resident


def add_resident(
    session: Session,
    actor: Actor,
    vault: IdVault,
    household_id: uuid.UUID,
    form: Mapping[str, Any],
    tags: Iterable[str],
    *,
    arrival: str,
    reason: str,
) -> Resident:
    """Register a newborn or someone moving in; the phones of the cell pull them."""
    household = household_in_scope(session, actor.cells, household_id)
    why = _reason(reason)
    if arrival not in ARRIVALS:
        raise InvalidInput(_l("Say who this is: a newborn, a tenant or other."), field="arrival")
    values = person_values(form, actor.today)
    identity = _identity(session, vault, form.get("id_number") or "", values, actor.today)
    if arrival == "newborn" and values["birth_year"] is None:
        values["birth_year"] = actor.today.year
    version = next_version(session)
    row = editing.resident_values(
        {**values, **identity, "household_id": household.id}, version=version
    )
    resident = Resident(**row)
    for code in sorted(_tags(session, tags)):
        resident.tags.append(ResidentTag(tag_code=code, since=actor.today))
    session.add(resident)
    session.flush()
    record(
        session,
        actor.context,
        action="create",
        subject_type="resident",
        subject_id=resident.id,
        fields=sorted(k for k, v in values.items() if v) + (["id_number"] if identity else []),
        detail={"reason": why, "arrival": arrival},
    )
    return resident


def _identity(
    session: Session, vault: IdVault, text: str, values: dict[str, Any], today: dt.date
) -> dict[str, Any]:
    """The sealed columns of a typed number (none without one); it must agree with the
    person and be on nobody else's record."""
    if not text.strip():
        return {}
    try:
        number = parse_id_number(text, today=today)
    except IdNumberError:
        raise InvalidInput(_l("That identity number is not valid."), field="id_number") from None
    if number.sex != values["gender"] or (
        values["birth_year"] is not None and values["birth_year"] != number.birth_date.year
    ):
        raise InvalidInput(
            _l("The identity number does not agree with the gender or the birth year."),
            field="id_number",
        )
    values["birth_year"] = number.birth_date.year
    found = editing.identity_values(vault, number)
    taken = session.scalar(
        select(Resident.id).where(Resident.id_number_digest == found["id_number_digest"])
    )
    if taken is not None:
        raise Conflict(_l("This identity number is already on the register."), field="id_number")
    return found


def move_household(
    session: Session,
    actor: Actor,
    household_id: uuid.UUID,
    *,
    address: str,
    cell_code: str | None,
    building_groups: Iterable[str],
    reason: str,
) -> list[str]:
    """Give the household a new address and, with it, possibly another building group.

    The address is matched to a standard door when it names one (its point and cell come
    with it); ``cell_code`` chosen by hand wins. The phones of the old cell receive
    deletions, those of the new cell the household and its people.
    """
    household = household_in_scope(session, actor.cells, household_id)
    why = _reason(reason)
    text = address.strip()
    parts = parse(text)
    if not text or len(text) > 200 or parts is None:
        raise InvalidInput(
            _l("Write the address as road, lane, number and room (新华路329弄12号302室)."),
            field="address",
        )
    door = place_of(session, text)
    target = cell_code or (door.cell_code if door else None) or household.cell_code
    if target not in set(building_groups) or (
        actor.cells is not None and target not in actor.cells
    ):
        raise InvalidInput(_l("Choose a building group you cover."), field="cell_code")
    lane = f"{parts.lane}弄{parts.sublane}支弄" if parts.sublane else parts.lane
    changes = {
        "address": text,
        "road": parts.road[:60],
        "lane": lane[:20],
        "building": parts.number[:20],
        "room": parts.room[:20],
        "address_id": door.id if door else None,
        "address_match": "matched" if door else "unmatched",
        "lon": door.lon if door else None,
        "lat": door.lat if door else None,
    }
    return editing.update_household(
        session, actor.context, household, changes, cell_code=target, reason=why
    )
