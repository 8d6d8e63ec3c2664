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


def alive(version: str) -> dict[str, Any]:
    """The process answers: no database, no disk (the liveness probe restarts on failure)."""
    return {"status": "ok", "version": version, "time": utcnow().isoformat()}


def check(session: Session, version: str, head: str | None = None) -> dict[str, Any]:
    """Ready: status `ok` when the database answers and (if `head` is given) is migrated to it.

    `unavailable` (and why) when the database does not answer; `migrations_pending` when its
    schema revision is not `head` (a release started before `flask db upgrade`).
    """
    report: dict[str, Any] = {"status": "ok", "version": version, "time": utcnow().isoformat()}
    try:
        session.execute(text("SELECT 1"))
        report["database"] = {"reachable": True, "dialect": session.get_bind().dialect.name}
        if head is not None:
            current = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
            report["migrations"] = {"current": current, "head": head, "at_head": current == head}
            if current != head:
                report["status"] = "migrations_pending"
        session.rollback()  # end the read transaction: a health check holds nothing
    except SQLAlchemyError as error:
        session.rollback()
        report["status"] = "unavailable"
        report["database"] = {"reachable": False, "error": type(error).__name__}
    return report


def migrations_head(directory: str) -> str | None:
    """The head revision of the migration scripts in `directory` (read once per process)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    return ScriptDirectory.from_config(config).get_current_head()


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
