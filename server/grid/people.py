"""Who answers for a cell (格中定人): current duties, the fallback to the parent cell, gaps.

属地兜底: when nobody holds a current duty for a cell, the people of its parent cell answer
for it, then the grandparent's, up to the street. Every answer says whether it fell back.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import literal, or_, select
from sqlalchemy.orm import Session, aliased

from server.accounts.models import User
from server.enums import DutyRank, DutyRole, GridStatus
from server.exceptions import NotFound
from server.grid.models import Cell, Duty, GridVersion

#: Deeper than any real grid (street → … → building group is 4 levels).
_MAX_DEPTH = 32


@dataclass(frozen=True)
class Responsible:
    """One person answering for a cell through one duty."""

    duty_id: int
    user_id: int
    username: str
    display_name: str
    phone: str | None
    role: str
    rank: str
    cell_code: str
    starts_on: dt.date
    ends_on: dt.date | None


@dataclass
class Responsibility:
    """The answer for ``cell_code``: the people, and the cell whose duties gave them."""

    cell_code: str
    found_at: str | None = None
    path: list[str] = field(default_factory=list)  # the cell and its ancestors, walked upward
    people: list[Responsible] = field(default_factory=list)

    @property
    def fell_back(self) -> bool:
        return self.found_at is not None and self.found_at != self.cell_code


def published_version_id(session: Session) -> int | None:
    return session.scalar(select(GridVersion.id).where(GridVersion.status == GridStatus.PUBLISHED))


def cell_path(session: Session, cell_code: str) -> list[str]:
    """The codes from ``cell_code`` up to its street in the published grid; NotFound if absent.

    One recursive query, however deep the tree (a parent loop in bad data stops at 32 levels).
    """
    version = (
        select(GridVersion.id).where(GridVersion.status == GridStatus.PUBLISHED).scalar_subquery()
    )
    walk = (
        select(Cell.code, Cell.parent_code, literal(0).label("depth"))
        .where(Cell.grid_version_id == version, Cell.code == cell_code)
        .cte("walk", recursive=True)
    )
    parent = aliased(Cell)
    walk = walk.union_all(
        select(parent.code, parent.parent_code, walk.c.depth + 1)
        .join(walk, parent.code == walk.c.parent_code)
        .where(parent.grid_version_id == version, walk.c.depth < _MAX_DEPTH)
    )
    path: list[str] = []
    for code in session.scalars(select(walk.c.code).order_by(walk.c.depth)):
        if code in path:
            break
        path.append(code)
    if not path:
        raise NotFound(
            _l("No cell %(code)s in the published grid.", code=cell_code), field="cell_code"
        )
    return path


def current_duties(
    session: Session, codes: list[str], *, on: dt.date, role: DutyRole | None = None
) -> dict[str, list[Responsible]]:
    """Current duties of the cells ``codes``, by cell, principal before deputy."""
    query = (
        select(Duty, User)
        .join(User, User.id == Duty.user_id)
        .where(
            Duty.cell_code.in_(codes),
            Duty.starts_on <= on,
            or_(Duty.ends_on.is_(None), Duty.ends_on >= on),
            User.is_active.is_(True),
        )
    )
    if role is not None:
        query = query.where(Duty.role == role)
    found: dict[str, list[Responsible]] = defaultdict(list)
    for duty, user in session.execute(query).all():
        found[duty.cell_code].append(
            Responsible(
                duty.id,
                user.id,
                user.username,
                user.display_name,
                user.phone,
                str(duty.role),
                str(duty.rank),
                duty.cell_code,
                duty.starts_on,
                duty.ends_on,
            )
        )
    order = {r: i for i, r in enumerate(DutyRole)}
    for people in found.values():
        people.sort(
            key=lambda p: (order[DutyRole(p.role)], p.rank != DutyRank.PRINCIPAL, p.duty_id)
        )
    return found


def responsible_people(
    session: Session,
    cell_code: str,
    *,
    on: dt.date,
    role: DutyRole | None = None,
    path: list[str] | None = None,
) -> Responsibility:
    """The people answering for a cell on a date (of one role, if given), falling back upward.

    ``path`` (the cell and its ancestors, e.g. from a locate answer) saves looking it up.
    """
    path = path or cell_path(session, cell_code)
    duties = current_duties(session, path, on=on, role=role)
    answer = Responsibility(cell_code, path=path)
    for code in path:
        if duties.get(code):
            answer.found_at, answer.people = code, duties[code]
            break
    return answer


@dataclass(frozen=True)
class Gap:
    """A cell with nobody responsible itself, and the ancestor that answers for it (if any)."""

    code: str
    name: str
    level: str
    covered_by: str | None


def responsibility_gaps(
    session: Session, *, on: dt.date, role: DutyRole | None = None
) -> list[Gap]:
    """Cells of the published grid where nobody (of ``role``) holds a current duty."""
    version_id = published_version_id(session)
    if version_id is None:
        return []
    cells = session.execute(
        select(Cell.code, Cell.name, Cell.level, Cell.parent_code)
        .where(Cell.grid_version_id == version_id)
        .order_by(Cell.code)
    ).all()
    parent = {c.code: c.parent_code for c in cells}
    query = select(Duty.cell_code).where(
        Duty.starts_on <= on, or_(Duty.ends_on.is_(None), Duty.ends_on >= on)
    )
    if role is not None:
        query = query.where(Duty.role == role)
    query = query.join(User, User.id == Duty.user_id).where(User.is_active.is_(True))
    staffed = set(session.scalars(query).all())
    gaps = []
    for cell in cells:
        if cell.code in staffed:
            continue
        above = parent.get(cell.code)
        while above and above not in staffed:
            above = parent.get(above)
        gaps.append(Gap(cell.code, cell.name, str(cell.level), above))
    return gaps
