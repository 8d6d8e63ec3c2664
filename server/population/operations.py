"""Verbs of the population register: move and remove households and residents.

Each one stamps the server version and writes a scope exit naming the cell the row leaves,
so the phones of that cell's workers receive a deletion on their next pull while the new
cell's workers receive the row (docs/sync-protocol.md §Scope). Write through these, not by
assigning `cell_code` or deleting rows directly.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.exceptions import Conflict
from server.population.models import Household, Resident, Visit
from sync.models import ScopeExit
from sync.versions import next_version


def move_household(
    session: Session, household: Household, cell_code: str, *, version: int | None = None
) -> None:
    """Put the household (and its residents) in another building group."""
    if household.cell_code == cell_code:
        return
    version = version if version is not None else next_version(session)
    residents = _residents(session, household)
    _exits(session, "households", [household.id.hex], household.cell_code, version)
    _exits(session, "residents", [r.id.hex for r in residents], household.cell_code, version)
    household.cell_code, household.version = cell_code, version
    for resident in residents:
        resident.version = version  # they arrive on the new cell's phones with the household


def move_resident(
    session: Session, resident: Resident, household: Household, *, version: int | None = None
) -> None:
    """Register the resident in another household (possibly in another cell)."""
    if resident.household_id == household.id:
        return
    version = version if version is not None else next_version(session)
    old = session.get(Household, resident.household_id)
    if old is not None and old.cell_code != household.cell_code:
        _exits(session, "residents", [resident.id.hex], old.cell_code, version)
    resident.household_id, resident.version = household.id, version


def remove_resident(session: Session, resident: Resident, *, version: int | None = None) -> None:
    """Take the resident off the register (moved away, deceased)."""
    version = version if version is not None else next_version(session)
    household = session.get(Household, resident.household_id)
    if household is not None:
        _exits(session, "residents", [resident.id.hex], household.cell_code, version)
    session.delete(resident)


def remove_household(session: Session, household: Household, *, version: int | None = None) -> None:
    """Take the household and its residents off the register; raise Conflict if visited.

    Visits are the office's record of care and point at the household, so a visited
    household is kept (move it, or clear its residents, instead).
    """
    if session.scalar(select(Visit.id).where(Visit.household_id == household.id).limit(1)):
        raise Conflict(
            _l("This household has visits on record and cannot be removed."),
            code="household_visited",
        )
    version = version if version is not None else next_version(session)
    residents = _residents(session, household)
    _exits(session, "households", [household.id.hex], household.cell_code, version)
    _exits(session, "residents", [r.id.hex for r in residents], household.cell_code, version)
    for resident in residents:
        session.delete(resident)
    session.flush()
    session.delete(household)


def _residents(session: Session, household: Household) -> Sequence[Resident]:
    return session.scalars(select(Resident).where(Resident.household_id == household.id)).all()


def _exits(session: Session, table: str, row_ids: list[str], cell_code: str, version: int) -> None:
    session.add_all(
        ScopeExit(version=version, table_name=table, row_id=row_id, cell_code=cell_code)
        for row_id in row_ids
    )
