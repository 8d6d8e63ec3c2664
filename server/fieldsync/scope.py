"""A worker's sync scope: the cells they answer for today, and what follows from them.

Rules (docs/sync-protocol.md §Scope):
* cells: every cell code of a current duty, and all its descendants in the published grid;
* households (+ residents) whose building group is in those cells;
* open cases assigned to them, reported by them, or located in those cells;
* office roles (dispatcher, admin) may act on any case from a phone, but pull the same way.

The fingerprint changes whenever the cell set, the published grid or the scope epoch
changes; a pull cursor from another fingerprint gets the difference as deletions and upserts
(server/fieldsync/transition.py), or a `reset` when the epoch changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.cases.grid_access import published_children
from server.cases.models import Case
from server.enums import Role
from server.grid.models import Duty
from sync.models import SyncMark

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Bumped by the server when it makes a change a pull cannot express row by row
#: (e.g. a re-imported population register): every device then rebuilds.
SCOPE_EPOCH = "scope_epoch"
OFFICE_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN})


@dataclass(frozen=True)
class WorkerScope:
    user_id: int
    role: Role
    grid_version_id: int | None
    cell_codes: frozenset[str]
    fingerprint: str
    epoch: int = 0

    @property
    def is_office(self) -> bool:
        return self.role in OFFICE_ROLES

    def covers_case(self, case: Case) -> bool:
        """May this person act on the case (note, photo, edit, transition) from the phone?"""
        return self.covers(CaseReach.of(case))

    def covers(self, reach: CaseReach) -> bool:
        """`covers_case` from the three facts it reads (a visit batch prefetches them)."""
        return (
            self.is_office
            or reach.assignee_id == self.user_id
            or reach.reporter_id == self.user_id
            or (reach.cell_code is not None and reach.cell_code in self.cell_codes)
        )


class CaseReach(NamedTuple):
    """What decides who may act on a case from a phone: its cell and its two people."""

    cell_code: str | None
    assignee_id: int | None
    reporter_id: int | None

    @classmethod
    def of(cls, case: Case) -> CaseReach:
        return cls(case.cell_code, case.assignee_id, case.reporter_id)


def scope_today() -> dt.date:
    """Today in Shanghai: the date duties are read for."""
    return dt.datetime.now(SHANGHAI).date()


def scope_for(session: Session, user: User, on: dt.date | None = None) -> WorkerScope:
    """The user's scope today (Shanghai date)."""
    today = on or scope_today()
    duty_codes = set(
        session.scalars(
            select(Duty.cell_code).where(
                Duty.user_id == user.id,
                Duty.starts_on <= today,
                or_(Duty.ends_on.is_(None), Duty.ends_on >= today),
            )
        )
    )
    # The published grid's tree, cached per app and version with the back office's cells.
    published = published_children(session)
    grid_id = published[0] if published else None
    codes = _with_descendants(published[1], duty_codes) if published else duty_codes
    epoch = session.scalar(select(SyncMark.value).where(SyncMark.name == SCOPE_EPOCH)) or 0
    digest = hashlib.sha256(f"{grid_id}|{epoch}|{','.join(sorted(codes))}".encode()).hexdigest()[
        :16
    ]
    return WorkerScope(user.id, user.role, grid_id, frozenset(codes), digest, epoch)


def _with_descendants(children: dict[str, list[str]], codes: set[str]) -> set[str]:
    found, todo = set(codes), list(codes)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found
