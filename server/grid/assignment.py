"""A case's place in the grid and its people: locate, assign, relocate on publish, override.

Intake, synced photo reports and publishing all call ``place_and_assign``: a located case
falls into a cell (``in`` or ``near``) and goes to that cell's principal grid worker (the
deputy when the principal has no current duty; the parent cell's when the cell has none,
属地兜底) plus the unit its catalogue item names. A case outside every cell keeps
``placement=unplaced`` and no cell: it waits in the unplaced queue, never dropped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.locate import STATUS_IN, STATUS_NEAR, GridIndex
from server.accounts.models import User
from server.cases.models import Case, CaseEvent
from server.cases.timeline import next_event_seq
from server.enums import OPEN_STATUSES, DutyRank, DutyRole, Placement
from server.exceptions import InvalidInput, NotFound
from server.grid import people
from server.units.models import Unit
from sync.models import ScopeExit

PLACEMENT_BY_STATUS = {"in": Placement.IN, "near": Placement.NEAR, "none": Placement.UNPLACED}


@dataclass(frozen=True)
class Assignment:
    """Who a case goes to and why: the grid worker, the unit, the cell whose duty answered."""

    assignee_id: int | None
    unit_id: int | None
    duty_cell_code: str | None
    fell_back: bool


def grid_worker_for(
    session: Session, cell_code: str, *, on: dt.date, path: list[str] | None = None
) -> tuple[int | None, str | None]:
    """The principal grid worker of a cell (deputy if no principal), and the answering cell.

    ``path`` (the cell and its ancestors, from a locate answer) saves looking it up."""
    answer = people.responsible_people(
        session, cell_code, on=on, role=DutyRole.GRID_WORKER, path=path
    )
    ranked = sorted(answer.people, key=lambda p: p.rank != DutyRank.PRINCIPAL)
    return (ranked[0].user_id if ranked else None), answer.found_at


#: Catalogue units that mean "the one of the cell where the matter is" (docs/catalogue.md).
PER_CELL_UNITS = frozenset({"U-WY", "U-JWH"})


def resolve_unit(
    session: Session, unit_id: int | None, cell_code: str | None, path: list[str] | None = None
) -> int | None:
    """A per-cell placeholder unit (U-WY, U-JWH) becomes the real one of the cell, if known.

    The real one is an active unit of the same kind stationed in the cell or the nearest
    ancestor (a property company of the estate, the residents' committee of the area).
    """
    if unit_id is None or not cell_code:
        return unit_id
    unit = session.get(Unit, unit_id)
    if unit is None or unit.code not in PER_CELL_UNITS:
        return unit_id
    try:
        path = path or people.cell_path(session, cell_code)
    except NotFound:
        return unit_id
    candidates = session.scalars(
        select(Unit).where(
            Unit.cell_code.in_(path),
            Unit.is_active.is_(True),
            Unit.kind == unit.kind,
            Unit.id != unit.id,
        )
    ).all()
    by_cell = {u.cell_code: u for u in candidates}
    return next((by_cell[code].id for code in path if code in by_cell), unit_id)


def assign_case(
    session: Session, case: Case, *, on: dt.date, path: list[str] | None = None
) -> Assignment:
    """Set the case's assignee from its cell's duties and its unit from its catalogue item.

    ``path``: the case's cell and its ancestors when the caller has them (a locate answer)."""
    assignee, found_at = (None, None)
    if case.cell_code:
        try:
            assignee, found_at = grid_worker_for(session, case.cell_code, on=on, path=path)
        except NotFound:  # a cell code from an older grid: nobody answers for it now
            assignee, found_at = None, None
    case.assignee_id = assignee
    if case.unit_id is None and case.catalogue_item is not None:
        case.unit_id = case.catalogue_item.default_unit_id
    case.unit_id = resolve_unit(session, case.unit_id, case.cell_code, path)
    return Assignment(
        assignee, case.unit_id, found_at, bool(found_at and found_at != case.cell_code)
    )


def place_new_case(session: Session, case: Case, index: GridIndex | None, *, on: dt.date) -> None:
    """Locate and assign a case being created; its creation event is its only timeline entry."""
    if case.lon is None or case.lat is None:
        case.cell_code, case.placement = None, Placement.UNLOCATED
    elif index is None:
        case.cell_code, case.placement = None, Placement.UNPLACED
    else:
        found = index.locate(case.lon, case.lat)
        case.placement = PLACEMENT_BY_STATUS[found.status]
        case.cell_code = found.cell.code if found.cell else None
        path = [ref.code for ref in found.path] or None
        assign_case(session, case, on=on, path=path)
        return
    assign_case(session, case, on=on)


def place_and_assign(
    session: Session,
    case: Case,
    index: GridIndex | None,
    *,
    on: dt.date,
    version: int | None = None,
    actor_id: int | None = None,
    why: str = "located",
) -> bool:
    """Locate the case's point (WGS-84) in ``index`` and assign it; True when its cell changed.

    With no published grid (``index`` None) a located case is unplaced. A changed cell is
    written to the case's timeline (kind ``relocated``) with the old and new cell and people.
    """
    if case.lon is None or case.lat is None:
        placement, cell_code = (
            (Placement.UNLOCATED, None) if not case.cell_code else (case.placement, case.cell_code)
        )
    elif index is None:
        placement, cell_code = Placement.UNPLACED, None
    else:
        found = index.locate(case.lon, case.lat)
        placement = PLACEMENT_BY_STATUS[found.status]
        cell_code = found.cell.code if found.cell else None
    return _apply(
        session, case, cell_code, placement, on=on, version=version, actor_id=actor_id, why=why
    )


def _apply(
    session: Session,
    case: Case,
    cell_code: str | None,
    placement: Placement,
    *,
    on: dt.date,
    version: int | None,
    actor_id: int | None,
    why: str,
) -> bool:
    before = (case.cell_code, case.placement, case.assignee_id)
    changed = cell_code != case.cell_code or placement != case.placement
    case.cell_code, case.placement = cell_code, placement
    if cell_code != before[0] or case.assignee_id is None:
        assign_case(session, case, on=on)
    if not changed and case.assignee_id == before[2]:
        return False
    if version is not None:
        case.version = version
        _record_exits(session, case, before[0], before[2], version)
        stamps = dict(case.field_versions or {})
        stamps.update({name: version for name in ("cell_code", "placement", "assignee_id")})
        case.field_versions = stamps
    if case.id is not None:  # a case not yet stored has no timeline to write to
        data = {
            "why": why,
            "from_cell": before[0],
            "to_cell": cell_code,
            "from_placement": str(before[1]) if before[1] else None,
            "to_placement": str(placement),
            "from_assignee_id": before[2],
            "to_assignee_id": case.assignee_id,
        }
        add_event(session, case, "relocated", actor_id=actor_id, data=data, version=version)
    return cell_code != before[0]


def _record_exits(
    session: Session, case: Case, cell_code: str | None, assignee_id: int | None, version: int
) -> None:
    """The open case left its old cell's and old assignee's pull scope: tell their phones.

    An exit for someone who still reaches the case is harmless: the case is upserted at the
    same version, which the pull sends after the deletion (docs/sync-protocol.md).
    """
    if case.id is None or case.status not in OPEN_STATUSES:
        return
    if cell_code and cell_code != case.cell_code:
        session.add(
            ScopeExit(version=version, table_name="cases", row_id=case.id.hex, cell_code=cell_code)
        )
    if assignee_id is not None and assignee_id != case.assignee_id:
        session.add(
            ScopeExit(version=version, table_name="cases", row_id=case.id.hex, user_id=assignee_id)
        )


def add_event(
    session: Session,
    case: Case,
    kind: str,
    *,
    actor_id: int | None,
    data: dict[str, Any],
    note: str = "",
    version: int | None = None,
) -> CaseEvent:
    """Append an event to the case's timeline (next ``seq`` from the server)."""
    event = CaseEvent(
        case_id=case.id,
        seq=next_event_seq(session, case),
        kind=kind,
        actor_id=actor_id,
        note=note,
        data=data,
        version=version or 0,
    )
    session.add(event)
    return event


@dataclass(frozen=True)
class Relocation:
    """Where an open case goes under a grid: its cell (None: outside) and placement."""

    case: Case
    cell_code: str | None
    placement: Placement

    @property
    def moves(self) -> bool:
        return self.cell_code != self.case.cell_code


_PLACEMENT_BY_STATUS_CODE = {STATUS_IN: Placement.IN, STATUS_NEAR: Placement.NEAR}


def plan_relocation(session: Session, index: GridIndex) -> list[Relocation]:
    """Where every open case would go under ``index``; changes nothing (publish's dry run)."""
    cases = session.scalars(select(Case).where(Case.status.in_(OPEN_STATUSES))).all()
    located = [c for c in cases if c.lon is not None and c.lat is not None]
    codes = {cell.code for cell in index.cells}
    plan: list[Relocation] = []
    if located:
        bulk = index.locate_many(
            np.array([c.lon for c in located]), np.array([c.lat for c in located])
        )
        for i, case in enumerate(located):
            row = int(bulk.cell_index[i])
            placement = _PLACEMENT_BY_STATUS_CODE.get(int(bulk.status[i]), Placement.UNPLACED)
            plan.append(Relocation(case, index.cells[row].code if row >= 0 else None, placement))
    for case in cases:  # placed by hand, no point: only a vanished cell unplaces them
        if case.lon is None and case.cell_code and case.cell_code not in codes:
            plan.append(Relocation(case, None, Placement.UNPLACED))
    return plan


def relocate_open_cases(
    session: Session, index: GridIndex, *, on: dt.date, version: int, actor_id: int | None
) -> int:
    """Re-place every open case against a newly published grid; return how many changed cell."""
    moved = 0
    for step in plan_relocation(session, index):
        moved += _apply(
            session,
            step.case,
            step.cell_code,
            step.placement,
            on=on,
            version=version,
            actor_id=actor_id,
            why="grid_published",
        )
    return moved


def override_assignment(
    session: Session,
    actor: User,
    case_id: uuid.UUID,
    *,
    reason: str,
    assignee_username: str | None = None,
    unit_id: int | None = None,
    version: int | None = None,
) -> Case:
    """Assign a case by hand; who and why go on its timeline (``assignment_override``)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(_l("No such case."), field="case_id")
    if not reason.strip():
        raise InvalidInput(_l("Say why the assignment is overridden."), field="reason")
    if assignee_username is None and unit_id is None:
        raise InvalidInput(_l("Name an assignee or a unit."), field="assignee")
    before = {"assignee_id": case.assignee_id, "unit_id": case.unit_id}
    if assignee_username is not None:
        user = session.scalar(select(User).where(User.username == assignee_username))
        if user is None or not user.is_active:
            raise NotFound(_l("No user named %(name)s.", name=assignee_username), field="assignee")
        case.assignee_id = user.id
    if unit_id is not None:
        if session.get(Unit, unit_id) is None:
            raise NotFound(_l("No such unit."), field="unit_id")
        case.unit_id = unit_id
    if version is not None:
        case.version = version
    data = {
        "from_assignee_id": before["assignee_id"],
        "to_assignee_id": case.assignee_id,
        "from_unit_id": before["unit_id"],
        "to_unit_id": case.unit_id,
    }
    add_event(
        session,
        case,
        "assignment_override",
        actor_id=actor.id,
        data=data,
        note=reason.strip(),
        version=version,
    )
    return case
