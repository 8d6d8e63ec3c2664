"""Positions on a case's timeline: the next ``seq``, from the server, never from a phone."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session, SessionTransaction

from server.cases.models import Case, CaseEvent

#: In ``session.info``: case id → last seq given out, for cases created in this transaction.
_KEY = "timeline_last_seq"


def next_event_seq(session: Session, case: Case) -> int:
    """The seq for the next event of ``case``.

    A stored case asks the database (``max(seq) + 1``). A case created in this transaction is
    counted in memory from its first event: its row is invisible to every other transaction
    until we commit, so nobody else can add to its timeline (this saves a query per event of a
    new report). The count is dropped when the transaction ends and at every rollback (a
    savepoint's too).
    """
    counts: dict[uuid.UUID, int] = session.info.setdefault(_KEY, {})
    known = counts.get(case.id) if case.id is not None else None
    if known is None:
        state = inspect(case)
        if not (state.transient or state.pending) or case.id is None:
            last = session.scalar(
                select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == case.id)
            )
            return (last or 0) + 1
        known = 0
    counts[case.id] = known + 1
    return known + 1


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(_KEY, None)


def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended (commit or rollback): other writers may see the case."""
    if transaction.parent is None:  # not a savepoint, nor a flush's own subtransaction
        _forget(session)


event.listen(Session, "after_transaction_end", _forget_at_end)
# Any rollback, a savepoint's too: the events given out in it are gone.
event.listen(Session, "after_soft_rollback", _forget)
