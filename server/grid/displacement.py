"""How far a draft moved against the published grid: measured at import, again when stale.

The measure and the diagnosis are ``geo.displacement``; this module decides against what.
The import measures the file's own cells against the version published then and keeps the
answer in the report (``report["displacement"]``, with ``against_version_id``). The version
page and publishing use that answer while the same version is still published, and measure
afresh (not stored: a page view writes nothing) when another one has been published since.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from geo.displacement import Displacement, assess_displacement
from geo.export import CellLike
from geo.problems import Problem, problem
from server.grid import people
from server.grid.models import GridVersion
from server.grid.storage import load_cells


def measure(
    session: Session,
    cells: list[CellLike],
    declared: str,
    threshold_m: float,
    against_id: int,
    published: list[CellLike] | None = None,
) -> dict[str, Any]:
    """The displacement of ``cells`` (read as ``declared``) against version ``against_id``."""
    old = published if published is not None else load_cells(session, against_id)
    found = assess_displacement(old, cells, declared, threshold_m=threshold_m)
    return {**found.to_dict(), "against_version_id": against_id}


def report_problems(measured: dict[str, Any] | None) -> list[Problem]:
    """The report's finding: ``grid_displaced``, ``displacement_unmeasured`` or nothing."""
    if measured is None:
        return []
    if not measured["matched"]:
        return [problem("displacement_unmeasured")]
    found = Displacement.from_dict(measured).problem()
    return [found] if found is not None else []


def current(session: Session, version: GridVersion, threshold_m: float) -> dict[str, Any] | None:
    """The displacement against the version published now (None: nothing else is published)."""
    published = people.published_version_id(session)
    if published is None or published == version.id:
        return None
    stored = version.report.get("displacement")
    if (
        stored
        and stored.get("against_version_id") == published
        and stored.get("threshold_m") == threshold_m
    ):
        return dict(stored)
    cells = load_cells(session, version.id)
    return measure(session, list(cells), version.source_datum, threshold_m, published)


def blocking(measured: dict[str, Any] | None) -> bool:
    """True when publishing needs an explicit acknowledgement."""
    return bool(measured and measured.get("blocking"))


def finding(measured: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``grid_displaced`` problem as a dict (messages, actions) for pages and answers."""
    found = report_problems(measured) if blocking(measured) else []
    return found[0].to_dict() if found else None
