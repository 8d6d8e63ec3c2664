"""What publishing a version would move: a dry run of the relocation that publishing does.

Shown before anyone confirms a publication (page, API, CLI): how many open cases change
cell (and leave the grid), how many change hands and how many people that touches; the
current duties left on cells the version removes; and the households whose address point
would no longer lie in the cell they are registered in (publishing does not move a
household's registration, but every new matter at its door would go to another cell).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from geo.locate import GridIndex
from server.grid import assignment, people
from server.grid.models import Duty
from server.grid.storage import StoredCell, load_cells
from server.population.models import Household, Resident


@dataclass
class PublishImpact:
    """The numbers a publisher confirms; all zero for a version identical to the published."""

    version_id: int
    against_version_id: int | None
    open_cases: int = 0  # open cases the relocation looks at (with a point or a cell)
    cases_moving: int = 0  # … whose cell changes
    cases_leaving_grid: int = 0  # … of which fall outside every cell (the unplaced queue)
    cases_changing_hands: int = 0  # … whose grid worker changes
    people_of_cases: int = 0  # grid workers who lose or gain one of those cases
    duties_orphaned: int = 0  # current duties on cells this version removes
    people_orphaned: int = 0  # … held by this many people
    households_moving: int = 0  # households that would lie outside their registered cell
    residents_moving: int = 0  # … and the residents registered in them
    removed_cells_with_households: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _paths(cells: list[StoredCell]) -> dict[str, list[str]]:
    parent = {c.code: c.parent_code for c in cells}
    paths: dict[str, list[str]] = {}
    for code in parent:
        path, at = [], code
        while at and at not in path and len(path) < 32:
            path.append(at)
            at = parent.get(at)  # type: ignore[assignment]
        paths[code] = path
    return paths


def _cases(
    session: Session, index: GridIndex, cells: list[StoredCell], on: dt.date, impact: PublishImpact
) -> None:
    plan = assignment.plan_relocation(session, index)
    impact.open_cases = len(plan)
    moving = [step for step in plan if step.moves]
    impact.cases_moving = len(moving)
    impact.cases_leaving_grid = sum(step.cell_code is None for step in moving)
    paths = _paths(cells)
    worker: dict[str | None, int | None] = {None: None}
    for code in {step.cell_code for step in moving} - {None}:
        worker[code], _ = assignment.grid_worker_for(session, code, on=on, path=paths[code])
    touched: set[int] = set()
    for step in moving:
        after = worker[step.cell_code]
        if after != step.case.assignee_id:
            impact.cases_changing_hands += 1
            touched.update(p for p in (after, step.case.assignee_id) if p is not None)
    impact.people_of_cases = len(touched)


def _duties(session: Session, codes: set[str], on: dt.date, impact: PublishImpact) -> None:
    current = session.execute(
        select(Duty.cell_code, Duty.user_id).where(
            Duty.starts_on <= on, or_(Duty.ends_on.is_(None), Duty.ends_on >= on)
        )
    ).all()
    orphaned = [row for row in current if row.cell_code not in codes]
    impact.duties_orphaned = len(orphaned)
    impact.people_orphaned = len({row.user_id for row in orphaned})


def _households(
    session: Session,
    index: GridIndex,
    codes: set[str],
    published: GridIndex | None,
    impact: PublishImpact,
) -> None:
    rows = session.execute(select(Household.id, Household.cell_code, Household.lon, Household.lat))
    households = rows.all()
    leaving = {h.id for h in households if h.cell_code not in codes}
    removed = {h.cell_code for h in households if h.cell_code not in codes}
    located = [h for h in households if h.lon is not None and h.lat is not None]
    if located:
        lon, lat = np.array([h.lon for h in located]), np.array([h.lat for h in located])
        after = _codes_at(index, lon, lat)
        before = _codes_at(published, lon, lat) if published is not None else None
        for i, h in enumerate(located):
            inside_now = before is None or before[i] == h.cell_code
            if after[i] != h.cell_code and inside_now:
                leaving.add(h.id)
    impact.households_moving = len(leaving)
    impact.removed_cells_with_households = sorted(removed)[:50]
    if leaving:
        ids = list(leaving)
        impact.residents_moving = sum(
            session.scalar(
                select(func.count()).where(Resident.household_id.in_(ids[start : start + 500]))
            )
            or 0
            for start in range(0, len(ids), 500)
        )


def _codes_at(index: GridIndex, lon: np.ndarray, lat: np.ndarray) -> list[str | None]:
    bulk = index.locate_many(lon, lat)
    return [index.cells[int(i)].code if i >= 0 else None for i in bulk.cell_index]


def publish_impact(
    session: Session,
    version_id: int,
    *,
    near_m: float,
    on: dt.date,
    published: GridIndex | None,
) -> PublishImpact:
    """Count what publishing ``version_id`` would move; ``published``: today's index (or None).

    Nothing is written: the relocation is planned with the same function publishing applies.
    """
    cells = load_cells(session, version_id)
    index = GridIndex.build([c.indexed() for c in cells], near_m=near_m)
    impact = PublishImpact(version_id, people.published_version_id(session))
    codes = {c.code for c in cells}
    _cases(session, index, cells, on, impact)
    _duties(session, codes, on, impact)
    _households(session, index, codes, published, impact)
    return impact
