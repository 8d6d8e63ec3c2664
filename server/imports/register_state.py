"""The register as stored, and what a file would change in it (the dry run's counts).

Loaded once per run as plain tuples (no ORM objects: 100,000 residents fit in memory this
way), matched against the file's households and people by stable key, then by the keyed
hash of the identity number, then by address (households made by hand before any import).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.address_text import normalise
from server.imports.kinds import Context
from server.imports.report import ImportReport, problem
from server.population import editing
from server.population.models import ACTIVE, Household, Resident, ResidentTag

# File field → resident attribute compared when that column is in the file.
PERSON_FIELDS = {
    "name": ("name",),
    "gender": ("gender",),
    "birth": ("birth_year",),
    "phone": ("phone",),
    "relation": ("relation",),
    "notes": ("notes",),
}
#: Household columns a file sets (its notes are the office's own, never from a file).
HOUSEHOLD_COMPARED = tuple(f for f in editing.HOUSEHOLD_FIELDS if f != "notes")


#: New rows get ids derived from their stable key: the same file gives the same ids anywhere
#: (the demo's cases and visits point at them), and a re-created row gets its old id back.
ID_NAMESPACE = uuid.UUID("4e3f0f4e-6a49-5b8e-9d53-0f1c3a5e2b11")


def new_id(key: str, taken: dict[uuid.UUID, Any]) -> uuid.UUID:
    """The id of a new row with this stable key (a random one if it is somehow taken)."""
    found = uuid.uuid5(ID_NAMESPACE, key)
    return found if found not in taken else uuid.uuid4()


@dataclass(slots=True)
class StoredPerson:
    id: uuid.UUID
    household_id: uuid.UUID
    key: str | None
    values: dict[str, Any]
    digest: str | None
    tags: frozenset[str]


@dataclass
class State:
    households: dict[uuid.UUID, dict[str, Any]]
    household_by_key: dict[str, uuid.UUID]
    people: dict[uuid.UUID, StoredPerson]
    person_by_key: dict[str, uuid.UUID]
    person_by_digest: dict[str, uuid.UUID]
    by_name_year: dict[tuple[str, int | None], list[uuid.UUID]]
    #: Households with a head (户主) on the register.
    headed: set[uuid.UUID] = field(default_factory=set)
    #: People kept on record who moved out or died: a complete file no longer lists them,
    #: and that is no news (server/register/).
    left: set[uuid.UUID] = field(default_factory=set)


def load(session: Session) -> State:
    """Every household and resident, as tuples and dicts."""
    h = Household
    households: dict[uuid.UUID, dict[str, Any]] = {}
    by_key: dict[str, uuid.UUID] = {}
    columns = [h.id, h.register_key, h.cell_code, *(getattr(h, c) for c in HOUSEHOLD_COMPARED)]
    for row in session.execute(select(*columns)):
        values = dict(zip(("cell_code", *HOUSEHOLD_COMPARED), row[2:], strict=True))
        households[row[0]] = values
        if row[1]:
            by_key[row[1]] = row[0]
        # Also by address: a household first imported without 户号 (or made by hand) is
        # found again when a later file gives its 户号.
        by_key.setdefault(f"addr:{normalise(values['address'])}", row[0])
    tags: dict[uuid.UUID, set[str]] = defaultdict(set)
    for resident_id, code in session.execute(select(ResidentTag.resident_id, ResidentTag.tag_code)):
        tags[resident_id].add(code)
    r = Resident
    people: dict[uuid.UUID, StoredPerson] = {}
    person_by_key: dict[str, uuid.UUID] = {}
    by_digest: dict[str, uuid.UUID] = {}
    by_name_year: dict[tuple[str, int | None], list[uuid.UUID]] = defaultdict(list)
    query = select(
        r.id,
        r.household_id,
        r.register_key,
        r.id_number_digest,
        r.name,
        r.gender,
        r.birth_year,
        r.phone,
        r.relation,
        r.notes,
        r.status,
    )
    left: set[uuid.UUID] = set()
    for (
        rid,
        hid,
        key,
        digest,
        name,
        gender,
        year,
        phone,
        relation,
        notes,
        status,
    ) in session.execute(query):
        if status != ACTIVE:
            left.add(rid)
        values = {
            "name": name,
            "gender": gender,
            "birth_year": year,
            "phone": phone,
            "relation": relation,
            "notes": notes,
        }
        people[rid] = StoredPerson(rid, hid, key, values, digest, frozenset(tags.get(rid, ())))
        if key:
            person_by_key[key] = rid
        if digest:
            by_digest[digest] = rid
        by_name_year[(name, year)].append(rid)
    headed = {p.household_id for p in people.values() if p.values["relation"] == "户主"}
    return State(households, by_key, people, person_by_key, by_digest, by_name_year, headed, left)


@dataclass
class Diff:
    """What applying the file does, row by row (ids of new rows already chosen)."""

    mapped: set[str]
    new_households: list[tuple[uuid.UUID, Any]] = field(default_factory=list)
    changed_households: list[tuple[uuid.UUID, Any, list[str], bool]] = field(default_factory=list)
    #: (person, household id): the person's own id is chosen when inserted (new_id).
    new_people: list[tuple[Any, uuid.UUID]] = field(default_factory=list)
    #: Resident ids already taken (a new id must not be one of them).
    taken: dict[uuid.UUID, Any] = field(default_factory=dict)
    changed_people: list[tuple[uuid.UUID, Any, uuid.UUID, list[str]]] = field(default_factory=list)
    unchanged_households: int = 0
    unchanged_people: int = 0
    missing_households: list[uuid.UUID] = field(default_factory=list)
    missing_people: list[uuid.UUID] = field(default_factory=list)

    def counts(self, households: int, people: int) -> dict[str, int]:
        return {
            "households": households,
            "residents": people,
            "households_new": len(self.new_households),
            "households_changed": len(self.changed_households),
            "households_unchanged": self.unchanged_households,
            "residents_new": len(self.new_people),
            "residents_changed": len(self.changed_people),
            "residents_unchanged": self.unchanged_people,
            "households_missing": len(self.missing_households),
            "residents_missing": len(self.missing_people),
        }


def compare(
    state: State, households: dict[str, Any], ctx: Context, report: ImportReport, mapped: set[str]
) -> Diff:
    """Match every household and person of the file to the register; report moves and
    possible duplicates; with ``ctx.full``, list what the file lacks."""
    diff = Diff(mapped, taken=state.people)
    seen_households: set[uuid.UUID] = set()
    seen_people: set[uuid.UUID] = set()
    for key, household in households.items():
        if not household.people:
            continue
        hid = state.household_by_key.get(key) or state.household_by_key.get(
            f"addr:{normalise(household.address)}"
        )
        if hid is None or hid in seen_households:
            hid = new_id(f"household/{key}", state.households)
            diff.new_households.append((hid, household))
        else:
            _compare_household(diff, state.households[hid], hid, household)
        seen_households.add(hid)
        for person in household.people:
            _compare_person(diff, state, person, hid, household, seen_people, report)
        _check_head(state, hid, household, report)
    if ctx.full:
        diff.missing_households = [h for h in state.households if h not in seen_households]
        diff.missing_people = [
            p for p in state.people if p not in seen_people and p not in state.left
        ]
    return diff


def _check_head(state: State, hid: uuid.UUID, household: Any, report: ImportReport) -> None:
    """A household needs one head (户主): in the file, or already on the register."""
    heads = sum(p.relation == "户主" for p in household.people)
    shown = household.key.split(":", 1)[1]
    if heads > 1:
        report.add(
            problem("household_two_heads", row=household.first_row, value=shown, count=heads)
        )
    elif heads == 0 and hid not in state.headed and any(p.relation for p in household.people):
        report.add(problem("household_no_head", row=household.first_row, value=shown))


def _compare_household(diff: Diff, stored: dict[str, Any], hid: uuid.UUID, household: Any) -> None:
    values = household.values()
    changed = [k for k in HOUSEHOLD_COMPARED if stored[k] != values[k]]
    moving = bool(household.cell_code) and household.cell_code != stored["cell_code"]
    if changed or moving:
        diff.changed_households.append((hid, household, changed, moving))
    else:
        diff.unchanged_households += 1


def _compare_person(
    diff: Diff,
    state: State,
    person: Any,
    hid: uuid.UUID,
    household: Any,
    seen: set[uuid.UUID],
    report: ImportReport,
) -> None:
    rid = state.person_by_key.get(person.key)
    if rid is None and person.digest:
        rid = state.person_by_digest.get(person.digest)
    if rid is None and not person.digest:
        rid = next(
            (
                p
                for p in state.by_name_year.get((person.name, person.birth_year), [])
                if state.people[p].household_id == hid and not state.people[p].key
            ),
            None,
        )
    if rid is None or rid in seen:
        diff.new_people.append((person, hid))
        _possible_duplicate(state, person, hid, report)
        return
    seen.add(rid)
    stored = state.people[rid]
    changed = person_changes(diff.mapped, stored, person)
    if stored.household_id != hid:
        changed.append("household_id")
        other = state.households.get(stored.household_id, {}).get("address", "")
        report.add(problem("person_moves", row=person.row, value=person.name, other_address=other))
    if changed:
        diff.changed_people.append((rid, person, hid, changed))
    else:
        diff.unchanged_people += 1


def person_changes(mapped: set[str], stored: StoredPerson, person: Any) -> list[str]:
    """Fields of ``person`` that differ from the stored resident (only the file's columns)."""
    wanted = person.values()
    changed = [
        attr
        for field_name, attrs in PERSON_FIELDS.items()
        if field_name in mapped or (field_name in ("gender", "birth") and "id_number" in mapped)
        for attr in attrs
        if stored.values[attr] != wanted[attr]
    ]
    if "category" in mapped and stored.tags != person.tags:
        changed.append("tags")
    if person.digest and stored.digest != person.digest:
        changed.append("id_number")
    return changed


def _possible_duplicate(state: State, person: Any, hid: uuid.UUID, report: ImportReport) -> None:
    if person.digest:
        return
    for other in state.by_name_year.get((person.name, person.birth_year), []):
        stored = state.people[other]
        if stored.household_id != hid:
            address = state.households.get(stored.household_id, {}).get("address", "")
            report.add(
                problem(
                    "possible_duplicate",
                    row=person.row,
                    value=person.name,
                    birth_year=person.birth_year or "?",
                    other_address=address,
                )
            )
            return
