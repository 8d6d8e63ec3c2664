"""Visits oversight: who is due or overdue a visit, coverage of key groups, the visit log."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from server.evaluation.metrics import KeyHousehold, key_households, principal_workers
from server.population.models import Household, Visit

DUE_SOON = dt.timedelta(days=7)


@dataclass
class Row:
    """Key households of one cell or worker: how many, visited in time, due soon, overdue."""

    key: Any
    households: int = 0
    visited: int = 0
    due_soon: int = 0
    overdue: int = 0
    overdue_list: list[KeyHousehold] = field(default_factory=list)

    @property
    def coverage(self) -> float | None:
        return self.visited / self.households if self.households else None


def schedule(
    session: Session, *, as_of: dt.datetime, on: dt.date, cells: frozenset[str] | None
) -> tuple[dict[str, Row], dict[int | None, Row]]:
    """Rows by cell code and by grid worker (principal of the cell), for the covered cells."""
    by_cell: dict[str, Row] = {}
    by_worker: dict[int | None, Row] = {}
    workers = principal_workers(session, on=on)
    for h in key_households(session, as_of=as_of):
        if cells is not None and h.cell_code not in cells:
            continue
        worker = workers.get(h.cell_code)
        for row in (
            by_cell.setdefault(h.cell_code, Row(h.cell_code)),
            by_worker.setdefault(worker, Row(worker)),
        ):
            row.households += 1
            if h.visited_within(as_of):
                row.visited += 1
                due = h.last_visit + dt.timedelta(days=h.every_days) if h.last_visit else as_of
                row.due_soon += due - as_of <= DUE_SOON
            else:
                row.overdue += 1
                row.overdue_list.append(h)
    return by_cell, by_worker


def total(rows: Iterable[Row]) -> Row:
    """The sum of rows (coverage is then the overall share, not an average of shares)."""
    out = Row("total")
    for row in rows:
        out.households += row.households
        out.visited += row.visited
        out.due_soon += row.due_soon
        out.overdue += row.overdue
    return out


def addresses(session: Session, ids: list[Any]) -> dict[Any, str]:
    rows = session.execute(select(Household.id, Household.address).where(Household.id.in_(ids)))
    return dict(rows.all())


@dataclass(frozen=True)
class LogFilter:
    cells: frozenset[str] | None
    cell_code: str | None = None
    worker_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    page: int = 1
    per_page: int = 50


def visit_log(session: Session, f: LogFilter) -> tuple[list[Visit], int]:
    """Visits newest first (by the phone's visit time), filtered; and the total."""
    query = select(Visit).join(Household, Household.id == Visit.household_id)
    if f.cells is not None:
        query = query.where(Household.cell_code.in_(sorted(f.cells)))
    if f.cell_code:
        query = query.where(Household.cell_code == f.cell_code)
    if f.worker_id:
        query = query.where(Visit.worker_id == f.worker_id)
    if f.since:
        query = query.where(Visit.visited_at >= f.since)
    if f.until:
        query = query.where(Visit.visited_at < f.until)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    page = session.scalars(
        query.options(joinedload(Visit.household), joinedload(Visit.worker))
        .order_by(Visit.visited_at.desc())
        .limit(f.per_page)
        .offset((f.page - 1) * f.per_page)
    ).all()
    return list(page), total


def overdue_by_cell(rows: dict[str, Row]) -> dict[str, list[KeyHousehold]]:
    out: dict[str, list[KeyHousehold]] = defaultdict(list)
    for code, row in rows.items():
        out[code] = sorted(
            row.overdue_list,
            key=lambda h: (h.last_visit is not None, h.last_visit or dt.datetime.min),
        )
    return out
