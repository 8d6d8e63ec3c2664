"""What /healthz and the home page report about the running system."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.cases.models import Case
from server.enums import OPEN_STATUSES, CellLevel, GridStatus
from server.grid.models import Cell, GridVersion
from server.ops import schema
from server.ops.schema import CodeRevisions
from server.population.models import Household, Resident
from sync.db import utcnow


def alive(version: str) -> dict[str, Any]:
    """The process answers: no database, no disk (the liveness probe restarts on failure)."""
    return {"status": "ok", "version": version, "time": utcnow().isoformat()}


def check(session: Session, version: str, code: CodeRevisions | None = None) -> dict[str, Any]:
    """Ready: status `ok` when the database answers and (if `code` is given) its schema suits it.

    `unavailable` (and why) when the database does not answer. With `code`: `ok` when the
    database is at the code's head or moved past it along the same line (a newer release ran
    `flask db upgrade` during a rolling upgrade: migrations are expand-then-contract, so this
    code keeps working); `migrations_pending` when the database is behind the code (a release
    started before `flask db upgrade`); `schema_unknown` when its revision is on another line.
    """
    report: dict[str, Any] = {"status": "ok", "version": version, "time": utcnow().isoformat()}
    try:
        session.execute(text("SELECT 1"))
        report["database"] = {"reachable": True, "dialect": session.get_bind().dialect.name}
        if code is not None:
            migrations = schema.judge(session, code)
            report["migrations"] = migrations
            if migrations["state"] == "behind":
                report["status"] = "migrations_pending"
            elif migrations["state"] == "unknown":
                report["status"] = "schema_unknown"
        session.rollback()  # end the read transaction: a health check holds nothing
    except SQLAlchemyError as error:
        session.rollback()
        report["status"] = "unavailable"
        report["database"] = {"reachable": False, "error": type(error).__name__}
    return report


def code_revisions(directory: str) -> CodeRevisions:
    """The revisions of the migration scripts in `directory` (read once per process)."""
    return CodeRevisions.from_directory(directory)


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
