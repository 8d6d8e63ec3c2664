"""A campaign's selection → its target rows (buildings, households or residents), not stored.

The rules (docs/forms.md §Campaigns): the area is the building groups (楼组) under the
responsible cells, narrowed to those under the selection's cells when it names some; within
it, households (or active residents) are kept when they pass every criterion given: a care
tag (a resident holding one, or a household/building with such a resident) and the uploaded
list. A building target stands for one (road, lane, building) in one cell: a building whose
households lie in two cells gives one target per cell. Only active residents count.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.cases.grid_access import CellInfo, descendants
from server.population.models import ACTIVE, Household, Resident, ResidentTag

BUILDING_GROUP = "building_group"
#: Longest label the targets table holds.
LABEL_CHARS = 200


@dataclass(frozen=True)
class Selection:
    """What the office chose; `list_*` are the ids an uploaded list matched (None: no list)."""

    responsible: tuple[str, ...] = ()
    cells: tuple[str, ...] = ()
    care_tags: tuple[str, ...] = ()
    list_name: str | None = None
    list_households: frozenset[uuid.UUID] | None = None
    list_residents: frozenset[uuid.UUID] | None = None

    def to_json(self) -> dict[str, Any]:
        """As kept in `Campaign.selection`."""
        return {
            "responsible": list(self.responsible),
            "cells": list(self.cells),
            "care_tags": list(self.care_tags),
            "list": self.list_name,
            "list_households": sorted(h.hex for h in self.list_households or ()),
            "list_residents": sorted(r.hex for r in self.list_residents or ()),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Selection:
        has_list = bool(data.get("list"))
        return cls(
            responsible=tuple(data.get("responsible") or ()),
            cells=tuple(data.get("cells") or ()),
            care_tags=tuple(data.get("care_tags") or ()),
            list_name=data.get("list") or None,
            list_households=frozenset(uuid.UUID(h) for h in data.get("list_households") or ())
            if has_list
            else None,
            list_residents=frozenset(uuid.UUID(r) for r in data.get("list_residents") or ())
            if has_list
            else None,
        )


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One target before it is stored (`CampaignTarget`'s columns but id and version)."""

    kind: str
    cell_code: str
    label: str
    road: str = ""
    lane: str = ""
    building: str = ""
    household_id: uuid.UUID | None = None
    resident_id: uuid.UUID | None = None


@dataclass
class Resolved:
    """The targets of a selection, and how many chosen things lay outside the area."""

    targets: list[TargetRow] = field(default_factory=list)
    outside: int = 0

    def per_cell(self) -> dict[str, int]:
        """Target count per building-group code, in code order."""
        return dict(sorted(Counter(t.cell_code for t in self.targets).items()))


def building_groups(cells: Mapping[str, CellInfo], codes: Iterable[str]) -> set[str]:
    """The building groups at or under `codes` (a 居民区 or 块区 means all of its 楼组)."""
    return {
        code for code in descendants(dict(cells), set(codes)) if cells[code].level == BUILDING_GROUP
    }


def responsible_codes(cells: Mapping[str, CellInfo], picked: Iterable[str]) -> set[str]:
    """The codes stored as the campaign's cells: the picked ones and every cell below them,
    so a worker whose duty is on any of them (or below) gets the campaign."""
    return descendants(dict(cells), set(picked))


def building_label(road: str, lane: str, building: str) -> str:
    """A building as the register writes it: 新华路329弄12号.

    >>> building_label("新华路", "329", "12"), building_label("新华路", "", "5")
    ('新华路329弄12号', '新华路5号')
    >>> building_label("新华路", "329弄5支弄", "12号")
    '新华路329弄5支弄12号'
    """
    lane_text = f"{lane}弄" if lane and not lane.endswith("弄") else lane
    ends = ("号", "幢", "栋", "座")
    building_text = f"{building}号" if building and not building.endswith(ends) else building
    return f"{road}{lane_text}{building_text}"


def resolve(
    session: Session, kind: str, selection: Selection, cells: Mapping[str, CellInfo]
) -> Resolved:
    """The targets `selection` gives for targets of `kind` (building | household | resident)."""
    area = building_groups(cells, selection.responsible)
    if selection.cells:
        area &= building_groups(cells, selection.cells)
    if kind == "resident":
        return _residents(session, selection, area)
    households = _households(session, selection, area)
    if kind == "household":
        return Resolved(
            _ordered(
                [
                    TargetRow(
                        "household",
                        h.cell_code,
                        h.address[:LABEL_CHARS],
                        h.road,
                        h.lane,
                        h.building,
                        household_id=h.id,
                    )
                    for h in households.rows
                ]
            ),
            households.outside,
        )
    buildings = sorted({(h.cell_code, h.road, h.lane, h.building) for h in households.rows})
    return Resolved(
        [
            TargetRow("building", c, building_label(r, la, b)[:LABEL_CHARS], r, la, b)
            for c, r, la, b in buildings
        ],
        households.outside,
    )


@dataclass
class _Households:
    rows: list[Any]
    outside: int


def _households(session: Session, selection: Selection, area: set[str]) -> _Households:
    columns = (
        Household.id,
        Household.address,
        Household.road,
        Household.lane,
        Household.building,
        Household.cell_code,
    )
    rows = list(session.execute(select(*columns)))
    chosen: set[uuid.UUID] | None = None
    if selection.care_tags:
        chosen = _tagged_households(session, selection.care_tags)
    if selection.list_households is not None or selection.list_residents is not None:
        listed = set(selection.list_households or ())
        if selection.list_residents:
            listed |= _households_of(session, selection.list_residents)
        chosen = listed if chosen is None else chosen & listed
    picked = [r for r in rows if chosen is None or r.id in chosen]
    inside = [r for r in picked if r.cell_code in area]
    # Only what was picked one by one counts as "outside": a whole register is not news.
    outside = len(picked) - len(inside) if chosen is not None else 0
    return _Households(inside, outside)


def _tagged_households(session: Session, tags: Iterable[str]) -> set[uuid.UUID]:
    stmt = (
        select(Resident.household_id)
        .join(ResidentTag, ResidentTag.resident_id == Resident.id)
        .where(ResidentTag.tag_code.in_(list(tags)), Resident.status == ACTIVE)
        .distinct()
    )
    return set(session.scalars(stmt))


def _households_of(session: Session, resident_ids: frozenset[uuid.UUID]) -> set[uuid.UUID]:
    stmt = select(Resident.id, Resident.household_id)
    return {hh for rid, hh in session.execute(stmt) if rid in resident_ids}


def _residents(session: Session, selection: Selection, area: set[str]) -> Resolved:
    stmt = (
        select(
            Resident.id,
            Resident.name,
            Household.id,
            Household.address,
            Household.cell_code,
            Household.road,
            Household.lane,
            Household.building,
        )
        .join(Household, Household.id == Resident.household_id)
        .where(Resident.status == ACTIVE)
    )
    rows = session.execute(stmt).all()
    chosen: set[uuid.UUID] | None = None
    if selection.care_tags:
        tagged = select(ResidentTag.resident_id).where(
            ResidentTag.tag_code.in_(list(selection.care_tags))
        )
        chosen = set(session.scalars(tagged))
    if selection.list_households is not None or selection.list_residents is not None:
        homes = selection.list_households or frozenset()
        residents = selection.list_residents or frozenset()
        listed = {r[0] for r in rows if r[0] in residents or r[2] in homes}
        chosen = listed if chosen is None else chosen & listed
    picked = [r for r in rows if chosen is None or r[0] in chosen]
    inside = [r for r in picked if r[4] in area]
    outside = len(picked) - len(inside) if chosen is not None else 0
    targets = [
        TargetRow(
            "resident",
            cell,
            f"{name} {address}"[:LABEL_CHARS],
            road,
            lane,
            building,
            household_id=hid,
            resident_id=rid,
        )
        for rid, name, hid, address, cell, road, lane, building in inside
    ]
    return Resolved(_ordered(targets), outside)


def _ordered(targets: list[TargetRow]) -> list[TargetRow]:
    """By cell, then label (Python's order: the same on both backends)."""
    return sorted(targets, key=lambda t: (t.cell_code, t.label, str(t.resident_id or "")))
