"""What the register pages read: search by name, address, phone or ID tail; the household card.

Everything is limited to the cells the reader covers (``server.cases.coverage``): a
household outside them is "not found", whatever its id.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from geo.address_text import building_key, normalise
from server.accounts.models import User
from server.audit.models import AuditEntry
from server.cases.models import Case
from server.exceptions import NotFound
from server.population import editing
from server.population.identity import IdVault
from server.population.idnumbers import clean
from server.population.models import ACTIVE, CareTag, Household, Resident, ResidentTag, Visit

Cells = frozenset[str] | None
SHOWN = 50  # households per search
ID_TAIL = re.compile(r"^\d{3}[\dX]$")


@dataclass
class Hit:
    """One household found, with the residents that matched (all of them for an address)."""

    household: Household
    residents: list[Resident] = field(default_factory=list)


def in_cells(household: Household | None, cells: Cells) -> bool:
    return household is not None and (cells is None or household.cell_code in cells)


def household_in_scope(session: Session, cells: Cells, household_id: uuid.UUID) -> Household:
    """The household, if the reader covers its cell; else NotFound (an id opens nothing)."""
    household = session.get(Household, household_id)
    if household is None or not in_cells(household, cells):
        raise NotFound(_l("No such household."), field="household_id")
    return household


def resident_in_scope(session: Session, cells: Cells, resident_id: uuid.UUID) -> Resident:
    resident = session.get(Resident, resident_id)
    household = session.get(Household, resident.household_id) if resident else None
    if resident is None or not in_cells(household, cells):
        raise NotFound(_l("No such resident."), field="resident_id")
    return resident


def search(session: Session, vault: IdVault, cells: Cells, text: str) -> list[Hit]:
    """Households whose address, or residents whose name, phone or ID tail matches ``text``.

    Four characters of digits (an X last) are also tried as the last four of an identity
    number; digits are tried against phones (any part of the number).
    """
    raw = (text or "").strip()[:60]
    if not raw:
        return []
    who = [Resident.name.contains(raw, autoescape=True)]
    digits = re.sub(r"\D", "", raw) if re.fullmatch(r"[\d\s\-+]+", raw) else ""
    if len(digits) >= 4:
        who.append(Resident.phone.contains(digits[-8:], autoescape=True))
    tail = clean(raw)
    if ID_TAIL.match(tail):
        who.append(Resident.id_tail_digest == vault.tail_digest(tail))
    where = [Household.address.contains(raw, autoescape=True)]
    q = normalise(raw)
    if q and q != raw:
        where.append(Household.address.contains(q, autoescape=True))
    people = select(Resident.household_id).where(or_(*who))
    query = select(Household).where(or_(Household.id.in_(people), *where))
    if cells is not None:
        query = query.where(Household.cell_code.in_(sorted(cells)))
    households = list(session.scalars(query.order_by(Household.address, Household.id).limit(SHOWN)))
    residents = _residents(session, [h.id for h in households])
    tail_digest = vault.tail_digest(tail) if ID_TAIL.match(tail) else None
    hits = []
    for h in households:
        mine = residents.get(h.id, [])
        matched = [r for r in mine if _matches(r, raw, digits, tail_digest)]
        hits.append(Hit(h, matched or mine))
    return hits


def _matches(r: Resident, raw: str, digits: str, tail_digest: str | None) -> bool:
    if raw in r.name:
        return True
    if len(digits) >= 4 and r.phone and digits[-8:] in r.phone.replace("-", ""):
        return True
    return tail_digest is not None and r.id_tail_digest == tail_digest


def _residents(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Resident]]:
    found: dict[uuid.UUID, list[Resident]] = {}
    if ids:
        query = (
            select(Resident)
            .where(Resident.household_id.in_(ids))
            .options(selectinload(Resident.tags).selectinload(ResidentTag.tag))
        )
        for r in session.scalars(query):
            found.setdefault(r.household_id, []).append(r)
    for rows in found.values():
        rows.sort(key=_order)
    return found


def _order(r: Resident) -> tuple[bool, bool, int, str]:
    return (r.status != ACTIVE, r.relation != "户主", r.birth_year or 9999, r.name)


@dataclass
class Card:
    """The household card: where, who, their care tags, visits, cases, and the history."""

    household: Household
    residents: list[Resident]
    masked: dict[uuid.UUID, str]
    visits: list[Visit]
    cases: list[Case]
    history: list[AuditEntry]
    names: dict[int, str]
    care_tags: list[CareTag]

    @property
    def names_of(self) -> dict[str, str]:
        """Resident id (as the audit log writes it) → name, for the history."""
        return {str(r.id): r.name for r in self.residents}


def card(session: Session, vault: IdVault, cells: Cells, household_id: uuid.UUID) -> Card:
    household = household_in_scope(session, cells, household_id)
    residents = _residents(session, [household.id]).get(household.id, [])
    visits = list(
        session.scalars(
            select(Visit)
            .where(Visit.household_id == household.id)
            .order_by(Visit.visited_at.desc())
            .limit(30)
        )
    )
    history = _history(session, household, residents)
    people = {v.worker_id for v in visits} | {e.actor_id for e in history if e.actor_id}
    names = dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(people))).all()
    )
    return Card(
        household,
        residents,
        {r.id: editing.masked_id_number(vault, r) for r in residents},
        visits,
        cases_at(session, household, [v.case_id for v in visits if v.case_id]),
        history,
        {int(k): str(v) for k, v in names.items()},
        list(session.scalars(select(CareTag).order_by(CareTag.priority, CareTag.code))),
    )


def cases_at(session: Session, household: Household, linked: list[uuid.UUID]) -> list[Case]:
    """Cases raised from this household's visits, and cases filed at its building."""
    key = building_key(household.address)
    found = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(linked)))}
    if key:
        candidates = select(Case).where(
            Case.cell_code == household.cell_code,
            Case.address.contains(household.road, autoescape=True),
        )
        for c in session.scalars(candidates.order_by(Case.reported_at.desc()).limit(200)):
            if building_key(c.address) == key:
                found[c.id] = c
    return sorted(found.values(), key=lambda c: c.reported_at, reverse=True)[:20]


def _history(session: Session, household: Household, residents: list[Resident]) -> list[AuditEntry]:
    """Every change to the household and its people (not the reads), newest first."""
    subjects = or_(
        (AuditEntry.subject_type == "household") & (AuditEntry.subject_id == str(household.id)),
        (AuditEntry.subject_type == "resident")
        & AuditEntry.subject_id.in_([str(r.id) for r in residents]),
    )
    return list(
        session.scalars(
            select(AuditEntry)
            .where(subjects, AuditEntry.action != "read")
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(100)
        )
    )
