"""Pruning the kept history: old scope exits go, and the horizon mark moves past them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from sync.db import utcnow
from sync.models import ScopeExit, SyncMark

#: The mark a pull compares cursors with (server/fieldsync/pulling.py).
HISTORY_HORIZON = "history_horizon"


@dataclass(frozen=True)
class PruneReport:
    exits_deleted: int
    horizon: int


def prune_history(session: Session, *, older_than: dt.datetime) -> PruneReport:
    """Delete scope exits recorded before `older_than`; return what went and the new horizon.

    A cursor at or below the newest pruned version could miss a deletion, so the horizon
    becomes that version + 1 (never lower than it was): such cursors get `cursor_too_old`
    and rebuild. The caller commits; exits and mark change in one transaction.
    """
    newest = session.scalar(
        select(func.max(ScopeExit.version)).where(ScopeExit.recorded_at < older_than)
    )
    mark = session.get(SyncMark, HISTORY_HORIZON, with_for_update=True)
    if mark is None:
        mark = SyncMark(name=HISTORY_HORIZON, value=0)
        session.add(mark)
    if newest is None:
        return PruneReport(0, mark.value or 0)
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(ScopeExit).where(ScopeExit.version <= newest)
    )
    deleted = result.rowcount
    if newest + 1 > (mark.value or 0):
        mark.value, mark.changed_at = newest + 1, utcnow()
    return PruneReport(int(deleted or 0), mark.value)
