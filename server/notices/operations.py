"""Write and read notices (the badge in the header counts the unread ones)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.notices.models import Notice


def notify(
    session: Session,
    user_ids: Iterable[int],
    *,
    kind: str,
    case_id: uuid.UUID | None,
    level: int,
    text: str,
    at: dt.datetime,
    data: dict[str, Any] | None = None,
) -> list[Notice]:
    """One notice per user, case and kind: a higher level supersedes a lower one.

    A user who already has this kind of notice for the case at a lower level gets that notice
    raised to `level` (new text, time, unread again) rather than a second one; the same or a
    higher level already there is left alone. Returns the notices made or raised.
    """
    wanted = set(user_ids)
    if not wanted:
        return []
    have: dict[int, Notice] = {}
    for notice in session.scalars(
        select(Notice)
        .where(Notice.user_id.in_(wanted), Notice.case_id == case_id, Notice.kind == kind)
        .order_by(Notice.level)
    ):
        have[notice.user_id] = notice  # the highest level last
    touched = []
    for user_id in sorted(wanted):
        notice = have.get(user_id)
        if notice is None:
            notice = Notice(user_id=user_id, kind=kind, case_id=case_id, created_at=at)
            session.add(notice)
        elif notice.level >= level:
            continue
        notice.level, notice.text, notice.data = level, text, data or {}
        notice.created_at, notice.read_at = at, None
        touched.append(notice)
    if touched:
        session.flush()  # a later step of the same run sees these
    return touched


def unread_count(session: Session, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(Notice.user_id == user_id, Notice.read_at.is_(None))
        )
        or 0
    )


def notices_for(session: Session, user_id: int, *, limit: int = 100) -> list[Notice]:
    """Newest first."""
    return list(
        session.scalars(
            select(Notice)
            .where(Notice.user_id == user_id)
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        )
    )


def mark_read(session: Session, user_id: int, notice_id: int | None, *, at: dt.datetime) -> int:
    """Mark one notice (or, with None, all) of this user as read; return how many changed."""
    stmt = update(Notice).where(Notice.user_id == user_id, Notice.read_at.is_(None))
    if notice_id is not None:
        stmt = stmt.where(Notice.id == notice_id)
    return int(session.execute(stmt.values(read_at=at)).rowcount or 0)  # type: ignore[attr-defined]
