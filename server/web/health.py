"""What /healthz and the home page report about the running system."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.cases.models import Case
from server.enums import OPEN_STATUSES, CellLevel, GridStatus
from server.grid.models import Cell, GridVersion
from server.population.models import Household, Resident
from sync.db import utcnow


def check(session: Session, version: str) -> dict[str, Any]:
    """Status `ok` when the database answers; `unavailable` (and why) when it does not."""
    report: dict[str, Any] = {"status": "ok", "version": version, "time": utcnow().isoformat()}
    try:
        session.execute(text("SELECT 1"))
        report["database"] = {"reachable": True, "dialect": session.get_bind().dialect.name}
    except SQLAlchemyError as error:
        session.rollback()
        report["status"] = "unavailable"
        report["database"] = {"reachable": False, "error": type(error).__name__}
    return report


def district_summary(session: Session) -> dict[str, Any]:
    """Counts for the home page: cells per level of the published grid, people, open cases."""
    published = session.scalar(
        select(GridVersion.id).where(GridVersion.status == GridStatus.PUBLISHED)
    )
    cells = (
        dict(
            session.execute(
                select(Cell.level, func.count())
                .where(Cell.grid_version_id == published)
                .group_by(Cell.level)
            ).all()
        )
        if published
        else {}
    )
    return {
        "cells": {level: cells.get(level, 0) for level in CellLevel},
        "households": session.scalar(select(func.count()).select_from(Household)),
        "residents": session.scalar(select(func.count()).select_from(Resident)),
        "open_cases": session.scalar(select(func.count()).where(Case.status.in_(OPEN_STATUSES))),
    }
