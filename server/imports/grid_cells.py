"""The published grid as imports need it: its cell codes, and a locate index for points."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.locate import GridIndex
from server.grid.models import Cell
from server.grid.people import published_version_id
from server.grid.storage import load_cells


def published_codes(session: Session) -> set[str]:
    """Codes of every cell of the published grid (empty when nothing is published)."""
    version_id = published_version_id(session)
    if version_id is None:
        return set()
    return set(session.scalars(select(Cell.code).where(Cell.grid_version_id == version_id)))


def published_index(session: Session, near_m: float) -> GridIndex | None:
    """A locate index of the published grid, or None when nothing is published."""
    version_id = published_version_id(session)
    if version_id is None:
        return None
    return GridIndex.build([c.indexed() for c in load_cells(session, version_id)], near_m=near_m)
