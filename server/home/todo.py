"""What each role has to do today: counts and the first few items, each with its link.

One function per role returns a `Todo`; the home page only renders it. A link is an endpoint
and its arguments (the template builds the URL), and always the filtered list where the work
is done, so a count on the home page is the count that list shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.cases import queries
from server.cases.coverage import covered_cells
from server.cases.models import Case
from server.enums import CaseStatus, DutyRole, Role
from server.evaluation import metrics
from server.fieldsync.reasons import reason_text
from server.grid import people
from server.population import oversight
from sync.models import CaseConflict, MutationRecord, rejected_rows

#: Items shown under each count (the link leads to the rest).
FIRST = 5
#: Rejected phone records a worker is shown (older ones are in the log, not on a to-do list).
REJECTED_WITHIN = dt.timedelta(days=14)
#: The manager's period: the dashboard's default window (last 30 days including today).
PERIOD_DAYS = 30

MUTATION_LABELS: dict[str, Any] = {
    "visit.create": _l("Visit record"),
    "case.report": _l("Field report"),
    "case.note": _l("Case note"),
    "case.set_fields": _l("Case edit"),
    "case.transition": _l("Case step"),
    "photo.attach": _l("Photo"),
}


@dataclass(frozen=True)
class Item:
    """One line under a count: what, where (a cell code, shown as its path), when, link."""

    text: str
    endpoint: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    cell: str | None = None
    when: dt.datetime | None = None
    #: What `when` is: "due" (a deadline), "last" (the last visit) or "" (when it happened).
    when_is: str = ""
    note: str = ""
    #: `text` is a name (a person, a file, a version): marked translate="no" on the page.
    name: bool = False


@dataclass
class Task:
    """A count of things to do, the list where they are done, and the first few of them."""

    key: str
    title: Any
    count: int
    endpoint: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    #: Shown when the count is 0 (None: "Nothing waiting."), so an empty to-do reads as news.
    done: Any = None


@dataclass(frozen=True)
class Figure:
    label: Any
    value: str


@dataclass
class Todo:
    role: str
    tasks: list[Task]
    figures: list[Figure] = field(default_factory=list)
    period: tuple[dt.date, dt.date] | None = None


def _case_item(case: Case, due: dt.datetime | None) -> Item:
    return Item(
        f"{case.number} {case.title or ''}".strip(),
        "cases.detail",
        {"case_id": case.id},
        cell=case.cell_code,
        when=due,
        when_is="due",
    )


def _queue_task(
    session: Session,
    key: str,
    title: Any,
    count: int,
    *,
    cells: frozenset[str] | None,
    now: dt.datetime,
    view: str,
    status: CaseStatus | None = None,
    user_id: int | None = None,
) -> Task:
    f = queries.QueueFilter(view, status, cell_codes=cells, user_id=user_id, per_page=FIRST)
    rows = queries.queue(session, f, now=now)[0] if count else []
    args: dict[str, Any] = {"view": view}
    if status is not None:
        args["status"] = status.value
    return Task(key, title, count, "cases.queue", args, [_case_item(r.case, r.due) for r in rows])


def open_conflicts(session: Session) -> Task:
    """Sync conflicts the office has to resolve (oldest first, as the conflicts page lists)."""
    count = int(
        session.scalar(
            select(func.count()).select_from(CaseConflict).where(CaseConflict.resolved_at.is_(None))
        )
        or 0
    )
    rows = session.execute(
        select(Case.number, Case.title, Case.cell_code, CaseConflict.created_at)
        .join(Case, Case.id == CaseConflict.case_id)
        .where(CaseConflict.resolved_at.is_(None))
        .order_by(CaseConflict.created_at, CaseConflict.id)
        .limit(FIRST)
    ).all()
    items = [
        Item(f"{number} {title or ''}".strip(), "conflicts.index", cell=cell, when=at)
        for number, title, cell, at in rows
    ]
    return Task("conflicts", _l("Sync conflicts to resolve"), count, "conflicts.index", {}, items)


def dispatcher(session: Session, user: User, *, now: dt.datetime, today: dt.date) -> Todo:
    """New reports to verify, cases due soon, overdue, unplaced; sync conflicts."""
    counts = queries.counts_by_view(session, None, now=now, user_id=user.id)
    q = {"cells": None, "now": now}
    return Todo(
        Role.DISPATCHER,
        [
            _queue_task(
                session, "review", _l("New reports to verify"), counts["review"], view="review", **q
            ),
            _queue_task(
                session, "soon", _l("Due within 24 hours"), counts["soon"], view="soon", **q
            ),
            _queue_task(session, "overdue", _l("Overdue"), counts["overdue"], view="overdue", **q),
            _queue_task(
                session,
                "unplaced",
                _l("Cases to place in a cell"),
                counts["unplaced"],
                view="unplaced",
                **q,
            ),
            open_conflicts(session),
        ],
    )


def _rejected(session: Session, user: User, *, now: dt.datetime, language: str) -> Task:
    """The worker's phone records the server refused lately (sync_mutations, `rejected`)."""
    where = (
        MutationRecord.user_id == user.id,
        rejected_rows(),
        MutationRecord.received_at >= now - REJECTED_WITHIN,
    )
    count = int(session.scalar(select(func.count()).select_from(MutationRecord).where(*where)) or 0)
    rows = session.execute(
        select(MutationRecord.name, MutationRecord.reason_code, MutationRecord.received_at)
        .where(*where)
        .order_by(MutationRecord.received_at.desc(), MutationRecord.id.desc())
        .limit(FIRST)
    ).all()
    items = [
        Item(
            str(MUTATION_LABELS.get(name, _l("Phone record"))),
            when=at,
            note=reason_text(code, language) or "",
        )
        for name, code, at in rows
    ]
    return Task(
        "rejected",
        _l("Phone records the server refused (last 14 days)"),
        count,
        items=items,
        done=_l("None refused."),
    )


def _visits(
    session: Session, cells: frozenset[str] | None, *, now: dt.datetime, today: dt.date
) -> tuple[Task, Task]:
    """Key households overdue a visit (the longest waiting first) and those due within 7 days."""
    by_cell, _by_worker = oversight.schedule(session, as_of=now, on=today, cells=cells)
    total = oversight.total(by_cell.values())
    waiting = sorted(
        (h for row in by_cell.values() for h in row.overdue_list),
        key=lambda h: (
            h.last_visit is not None,
            h.last_visit or dt.datetime.min.replace(tzinfo=dt.UTC),
            h.cell_code,
        ),
    )[:FIRST]
    places = oversight.addresses(session, [h.household_id for h in waiting])
    items = [
        Item(
            places.get(h.household_id, ""),
            "visits.index",
            cell=h.cell_code,
            when=h.last_visit,
            when_is="last",
            note="never" if h.last_visit is None else "",
        )
        for h in waiting
    ]
    overdue = Task(
        "visits_overdue",
        _l("Key households overdue a visit"),
        total.overdue,
        "visits.index",
        {},
        items,
    )
    soon = Task("visits_soon", _l("Visits due within 7 days"), total.due_soon, "visits.index")
    return overdue, soon


def worker(
    session: Session, user: User, *, now: dt.datetime, today: dt.date, language: str
) -> Todo:
    """Visits due, cases to handle or check in their cells, records the server refused."""
    cells = covered_cells(session, user, on=today) or frozenset()
    counts = queries.counts_by_view(session, cells, now=now, user_id=user.id)
    check = queries.QueueFilter("open", CaseStatus.HANDLED, cell_codes=cells, per_page=1)
    to_check = queries.queue(session, check, now=now)[1]
    overdue, soon = _visits(session, cells, now=now, today=today)
    return Todo(
        Role.WORKER,
        [
            overdue,
            soon,
            _queue_task(
                session,
                "mine",
                _l("Cases assigned to me"),
                counts["mine"],
                view="mine",
                cells=cells,
                now=now,
                user_id=user.id,
            ),
            _queue_task(
                session,
                "check",
                _l("Handled cases to check on site"),
                to_check,
                view="open",
                status=CaseStatus.HANDLED,
                cells=cells,
                now=now,
            ),
            _rejected(session, user, now=now, language=language),
        ],
    )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def manager(session: Session, user: User, *, now: dt.datetime, today: dt.date) -> Todo:
    """The period's key figures (the dashboard's street total) and what is slipping."""
    first = today - dt.timedelta(days=PERIOD_DAYS - 1)
    _groups, total = metrics.dashboard(
        session, metrics.Window.days(first, today), "street", now=now
    )
    figures = [
        Figure(_l("Received"), str(total.received)),
        Figure(_l("Cases closed"), str(total.closed)),
        Figure(_l("Closure rate"), _percent(total.closure_rate)),
        Figure(_l("On-time closure rate"), _percent(total.on_time_rate)),
        Figure(
            _l("Satisfaction"), "—" if total.satisfaction is None else f"{total.satisfaction:.2f}"
        ),
        Figure(_l("Visit coverage"), _percent(total.visit_coverage)),
    ]
    cells = covered_cells(session, user, on=today)
    counts = queries.counts_by_view(session, cells, now=now, user_id=user.id)
    overdue_visits, _soon = _visits(session, cells, now=now, today=today)
    q = {"cells": cells, "now": now}
    return Todo(
        Role.MANAGER,
        [
            _queue_task(
                session, "overdue", _l("Overdue cases"), counts["overdue"], view="overdue", **q
            ),
            _queue_task(
                session, "soon", _l("Due within 24 hours"), counts["soon"], view="soon", **q
            ),
            overdue_visits,
            no_worker(session, today=today),
            open_conflicts(session),
        ],
        figures,
        (first, today),
    )


def no_worker(session: Session, *, today: dt.date) -> Task:
    """Cells with no grid worker of their own (the gaps page, filtered to grid workers)."""
    gaps = people.responsibility_gaps(session, on=today, role=DutyRole.GRID_WORKER)
    items = [Item("", "grid.cell_people", {"code": g.code}, cell=g.code) for g in gaps[:FIRST]]
    return Task(
        "no_worker",
        _l("Cells without a grid worker of their own"),
        len(gaps),
        "grid.gaps",
        {"role": DutyRole.GRID_WORKER.value},
        items,
    )
