"""Escalation of overdue cases to the level above: block → residential area → street.

A case overdue by less than one interval goes to the people of its cell's parent (level 1);
each further full interval (ESCALATION_INTERVAL_HOURS) moves it one level up, to the street
at most. Each level notifies that cell's grid workers (属地兜底 upward if it has none); a
person has one notice per case, raised to the newest level (one who answers for two levels
is not told twice). The run is idempotent, so cron (`flask cases escalate`) and queue loads
can both call it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.cases import grid_access
from server.cases.models import Case
from server.cases.operations import add_event
from server.cases.workflow import CLOCK_STATUSES
from server.enums import DutyRole
from server.notices.operations import notify
from sync.versions import next_version


@dataclass(frozen=True)
class Escalation:
    case_number: str
    level: int
    cell_code: str | None
    user_ids: tuple[int, ...]


def escalation_path(cells: dict[str, grid_access.CellInfo], cell_code: str | None) -> list[str]:
    """The cells above the case's cell, nearest first (a case with no cell: the street)."""
    path = grid_access.ancestors(cells, cell_code)
    if path:
        return path[1:]
    return sorted(c.code for c in cells.values() if c.parent_code is None)[:1]


def target_level(overdue_by: dt.timedelta, interval: dt.timedelta, top: int) -> int:
    """1 when just overdue, one more per full interval, at most `top`.

    >>> target_level(dt.timedelta(hours=1), dt.timedelta(hours=24), 3)
    1
    >>> target_level(dt.timedelta(hours=50), dt.timedelta(hours=24), 3)
    3
    """
    if overdue_by <= dt.timedelta(0) or top <= 0:
        return 0
    return min(top, 1 + int(overdue_by / interval))


def escalate_overdue(
    session: Session, *, now: dt.datetime, interval: dt.timedelta
) -> list[Escalation]:
    """Escalate every overdue case that has not reached its level yet; the caller commits."""
    cells = grid_access.cell_tree(session)
    # Plain rows first (this runs on every queue load): only cases that need a new level
    # are loaded as objects. A postponed case's clock stands still, so it is left out.
    rows = session.execute(
        select(Case.id, Case.due_at, Case.escalation_level, Case.cell_code).where(
            Case.status.in_(CLOCK_STATUSES), Case.due_at < now, Case.paused_since.is_(None)
        )
    ).all()
    wanted = {}
    for case_id, due, current, cell_code in rows:
        path = escalation_path(cells, cell_code)
        level = target_level(now - due, interval, len(path))
        if level > (current or 0):
            wanted[case_id] = (level, path)
    done: list[Escalation] = []
    if not wanted:
        return done
    # Take the write lock first, then read the cases again: another process (cron, a second
    # queue load) may have escalated them meanwhile; it committed before we got the lock.
    version = next_version(session)
    found = (
        select(Case)
        .where(Case.id.in_(list(wanted)))
        .order_by(Case.number)
        .execution_options(populate_existing=True)
    )
    for case in session.scalars(found):
        level, path = wanted[case.id]
        if level <= case.escalation_level:
            continue
        for step in range(case.escalation_level + 1, level + 1):
            cell = path[step - 1]
            _, people = grid_access.responsible_people(
                session, cell, on=now.date(), role=DutyRole.GRID_WORKER
            )
            ids = tuple(sorted({p.user_id for p in people}))
            notify(
                session,
                ids,
                kind="escalated",
                case_id=case.id,
                level=step,
                at=now,
                text=f"{case.number} {case.title}",
                data={"cell_code": cell},
            )
            add_event(
                session,
                case,
                kind="escalated",
                actor_id=None,
                version=version,
                at=now,
                data={"level": step, "cell_code": cell, "notified": list(ids)},
            )
            done.append(Escalation(case.number, step, cell, ids))
        case.escalation_level = level
        case.escalated_at = now
    return done
