"""Each role's home page: its to-do list (issue 15 item 4)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from server.accounts.models import User
from server.enums import Role
from server.home import office, todo
from server.home.todo import Todo


def for_user(
    session: Session, user: User, *, now: dt.datetime, today: dt.date, language: str
) -> Todo:
    """The to-do list of `user`'s role (`language`: "zh" or "en", for the sync reasons)."""
    if user.role == Role.WORKER:
        return todo.worker(session, user, now=now, today=today, language=language)
    build = {
        Role.DISPATCHER: todo.dispatcher,
        Role.MANAGER: todo.manager,
        Role.GIS: office.gis,
        Role.ADMIN: office.admin,
    }
    return build[Role(user.role)](session, user, now=now, today=today)
