"""Verbs that change the register's people and households, with a reason, audited.

One place writes: the register import's apply and the back-office register pages both call
these. Each changes only what differs, stamps the server version (so the phones of the
cell pull the change), moves through ``population.operations`` when a cell changes (scope
exits for the phones that lose the row), and writes one audit entry naming the fields (never
their values: the audit log is not a second copy of the register).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit.operations import AccessContext, record
from server.population import operations
from server.population.identity import IdVault
from server.population.idnumbers import TAIL_LENGTH, IdNumber, masked
from server.population.models import Household, Resident, ResidentTag
from sync.versions import next_version

HOUSEHOLD_FIELDS = (
    "address",
    "road",
    "lane",
    "building",
    "room",
    "lon",
    "lat",
    "address_id",
    "address_match",
    "notes",
)
RESIDENT_FIELDS = ("name", "gender", "birth_year", "phone", "relation", "notes")


def identity_values(vault: IdVault, number: IdNumber | str | None) -> dict[str, Any]:
    """The three stored columns of a checked identity number (all None without one)."""
    if number is None:
        return {"id_number_sealed": None, "id_number_digest": None, "id_tail_digest": None}
    text = number.number if isinstance(number, IdNumber) else number
    return {
        "id_number_sealed": vault.seal(text),
        "id_number_digest": vault.digest(text),
        "id_tail_digest": vault.tail_digest(text[-TAIL_LENGTH:]),
    }


def household_values(values: Mapping[str, Any], *, version: int) -> dict[str, Any]:
    """A full row for a new household (bulk insert or one by one)."""
    row = {name: values.get(name) for name in HOUSEHOLD_FIELDS}
    row.update(
        id=values.get("id") or uuid.uuid4(),
        cell_code=values.get("cell_code") or "",
        register_key=values.get("register_key"),
        version=version,
    )
    for text_field in ("lane", "room", "notes", "address_match"):
        row[text_field] = row[text_field] or ""
    return row


def resident_values(values: Mapping[str, Any], *, version: int) -> dict[str, Any]:
    """A full row for a new resident; identity columns come from ``identity_values``."""
    row = {name: values.get(name) for name in RESIDENT_FIELDS}
    row.update(
        id=values.get("id") or uuid.uuid4(),
        household_id=values["household_id"],
        register_key=values.get("register_key"),
        relation=values.get("relation") or "",
        notes=values.get("notes") or "",
        version=version,
    )
    for name in ("id_number_sealed", "id_number_digest", "id_tail_digest"):
        row[name] = values.get(name)
    return row


def update_household(
    session: Session,
    context: AccessContext,
    household: Household,
    changes: Mapping[str, Any],
    *,
    reason: str,
    cell_code: str | None = None,
    version: int | None = None,
) -> list[str]:
    """Set the fields that differ (and move cell if ``cell_code`` differs); audit them."""
    changed = [k for k in HOUSEHOLD_FIELDS if k in changes and getattr(household, k) != changes[k]]
    moving = cell_code is not None and cell_code != household.cell_code
    if not changed and not moving:
        return []
    version = version if version is not None else next_version(session)
    for name in changed:
        setattr(household, name, changes[name])
    if moving:
        operations.move_household(session, household, cell_code or "", version=version)
        changed.append("cell_code")
    household.version = version
    record(
        session,
        context,
        action="update",
        subject_type="household",
        subject_id=household.id,
        fields=changed,
        detail={"reason": reason},
    )
    return changed


def update_resident(
    session: Session,
    context: AccessContext,
    resident: Resident,
    changes: Mapping[str, Any],
    *,
    reason: str,
    household: Household | None = None,
    tags: Iterable[str] | None = None,
    identity: dict[str, Any] | None = None,
    version: int | None = None,
    tags_since: dt.date | None = None,
) -> list[str]:
    """Set what differs: fields, household (a move), care tags, identity number; audit it.

    Care tags added now get ``tags_since`` as their date (None: not known, as from a file).

    ``identity`` is ``identity_values(...)``; it counts as changed only when the number does
    (the digest differs), since every sealing draws a new nonce.
    """
    changed = [k for k in RESIDENT_FIELDS if k in changes and getattr(resident, k) != changes[k]]
    version_now = version
    if identity is not None and identity["id_number_digest"] != resident.id_number_digest:
        for name, value in identity.items():
            setattr(resident, name, value)
        changed.append("id_number")
    for name in (n for n in changed if n != "id_number"):
        setattr(resident, name, changes[name])
    if tags is not None and _set_tags(session, resident, set(tags), tags_since):
        changed.append("tags")
    if household is not None and household.id != resident.household_id:
        version_now = version_now if version_now is not None else next_version(session)
        operations.move_resident(session, resident, household, version=version_now)
        changed.append("household_id")
    if not changed:
        return []
    resident.version = version_now if version_now is not None else next_version(session)
    record(
        session,
        context,
        action="update",
        subject_type="resident",
        subject_id=resident.id,
        fields=changed,
        detail={"reason": reason},
    )
    return changed


def _set_tags(
    session: Session, resident: Resident, wanted: set[str], since: dt.date | None = None
) -> bool:
    current = {t.tag_code: t for t in resident.tags}
    if set(current) == wanted:
        return False
    for code, tag in current.items():
        if code not in wanted:
            resident.tags.remove(tag)
    for code in sorted(wanted - set(current)):
        resident.tags.append(ResidentTag(tag_code=code, since=since))
    return True


def reveal_id_number(
    session: Session, context: AccessContext, vault: IdVault, resident: Resident, *, reason: str
) -> str | None:
    """The identity number in clear, for a role that may see it; every reveal is audited.

    Callers check the role (``server.population.identity_access``); this records the read.
    """
    if not resident.id_number_sealed:
        return None
    number = vault.open(resident.id_number_sealed)
    record(
        session,
        context,
        action="reveal",
        subject_type="resident",
        subject_id=resident.id,
        fields=["id_number"],
        detail={"reason": reason},
    )
    return number


def masked_id_number(vault: IdVault, resident: Resident) -> str:
    """What every page shows: 1*************002X ('' without a number). Not audited."""
    if not resident.id_number_sealed:
        return ""
    return masked(vault.open(resident.id_number_sealed))


def find_by_id_tail(session: Session, vault: IdVault, tail: str) -> list[Resident]:
    """Residents whose identity number ends with ``tail`` (four characters, e.g. '002X').

    The caller limits the result to the cells the user covers.
    """
    digest = vault.tail_digest(tail.strip().upper())
    return list(session.scalars(select(Resident).where(Resident.id_tail_digest == digest)))


def rekey_identities(session: Session, vault: IdVault, *, batch: int = 1000) -> int:
    """Re-seal every identity number with the current key and recompute its digests with
    the current HMAC key (after rotating either); return how many rows changed.

    Every old key must still be in the keyring while this runs.
    """
    changed = 0
    query = select(Resident).where(Resident.id_number_sealed.is_not(None)).order_by(Resident.id)
    for resident in session.scalars(query.execution_options(yield_per=batch)):
        number = vault.open(resident.id_number_sealed or "")
        digest = vault.digest(number)
        if (
            vault.is_current(resident.id_number_sealed or "")
            and digest == resident.id_number_digest
        ):
            continue
        resident.id_number_sealed = vault.seal(number)
        if resident.register_key == f"id:{resident.id_number_digest}":
            resident.register_key = f"id:{digest}"
        resident.id_number_digest = digest
        resident.id_tail_digest = vault.tail_digest(number[-4:])
        changed += 1
    session.flush()
    return changed
