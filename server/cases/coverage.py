"""Which cells a member of staff covers, and the workflow `Actor` for a user.

Office roles (dispatcher, GIS, admin) cover the whole street. A worker covers the cells of
their current duties and everything below them; a manager with duties covers those, a
manager without duties the whole street. (The sync branch has its own worker scope for
pulls; the rule is the same: duties plus descendants.)
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.cases.grid_access import cell_tree, descendants
from server.cases.workflow import Actor
from server.enums import Role
from server.grid.models import Duty

WHOLE_STREET_ROLES = frozenset({Role.DISPATCHER, Role.GIS, Role.ADMIN})


def covered_cells(session: Session, user: User, *, on: dt.date) -> frozenset[str] | None:
    """The cell codes `user` covers on a date; None means every cell."""
    if user.role in WHOLE_STREET_ROLES:
        return None
    roots = set(
        session.scalars(
            select(Duty.cell_code).where(
                Duty.user_id == user.id,
                Duty.starts_on <= on,
                or_(Duty.ends_on.is_(None), Duty.ends_on >= on),
            )
        )
    )
    if user.role == Role.MANAGER and not roots:
        return None
    return frozenset(descendants(cell_tree(session), roots) | roots)


def actor_for(session: Session, user: User, *, on: dt.date) -> Actor:
    return Actor(user.id, str(user.role), user.unit_id, covered_cells(session, user, on=on))
