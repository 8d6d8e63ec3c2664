"""The next seq on a case's timeline: counted in memory only while the case is new to this
transaction, from the database otherwise; never a duplicate, whatever commits or rolls back."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, select

from server.cases.models import Case, CaseEvent
from server.cases.operations import add_event
from server.enums import Channel


def _queries_for_max(db_session):
    seen: list[str] = []

    def spy(conn, cursor, statement, *args):
        if "max(case_events.seq)" in statement:
            seen.append(statement)

    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", spy)
    return seen, lambda: event.remove(engine, "before_cursor_execute", spy)


def _new_case(number: str) -> Case:
    return Case(id=uuid.uuid4(), number=number, channel=Channel.PATROL, title="t")


def _seqs(db_session, case: Case) -> list[int]:
    rows = select(CaseEvent.seq).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    return list(db_session.scalars(rows))


def test_a_new_case_counts_its_events_without_asking_the_database(app, db_session):
    seen, stop = _queries_for_max(db_session)
    case = _new_case("T-1")
    db_session.add(case)
    for kind in ("reported", "photo", "photo"):
        add_event(db_session, case, kind=kind, actor_id=None, version=1)
    db_session.flush()  # stored by this transaction: still nobody else's to write to
    add_event(db_session, case, kind="note", actor_id=None, version=1)
    db_session.commit()
    stop()
    assert seen == [] and _seqs(db_session, case) == [1, 2, 3, 4]


def test_after_commit_the_database_decides(app, db_session):
    case = _new_case("T-2")
    db_session.add(case)
    add_event(db_session, case, kind="reported", actor_id=None, version=1)
    db_session.commit()
    # Someone else (another process) appends to the committed case's timeline.
    db_session.add(CaseEvent(case_id=case.id, seq=2, kind="note", version=2))
    db_session.commit()
    seen, stop = _queries_for_max(db_session)
    add_event(db_session, case, kind="note", actor_id=None, version=3)
    db_session.commit()
    stop()
    assert len(seen) == 1 and _seqs(db_session, case) == [1, 2, 3]


@pytest.mark.parametrize("inner", ["rolled back", "released"])
def test_a_savepoint_never_leaves_a_gap_or_a_duplicate(app, db_session, inner):
    case = _new_case(f"T-3-{inner}")
    db_session.add(case)
    add_event(db_session, case, kind="reported", actor_id=None, version=1)
    savepoint = db_session.begin_nested()
    add_event(db_session, case, kind="photo", actor_id=None, version=1)
    if inner == "rolled back":
        savepoint.rollback()
    else:
        savepoint.commit()
    add_event(db_session, case, kind="note", actor_id=None, version=1)
    db_session.commit()
    expected = [1, 2] if inner == "rolled back" else [1, 2, 3]
    assert _seqs(db_session, case) == expected


def test_a_rolled_back_transaction_forgets_its_counts(app, db_session):
    case = _new_case("T-4")
    db_session.add(case)
    add_event(db_session, case, kind="reported", actor_id=None, version=1)
    db_session.rollback()
    again = _new_case("T-4")
    again.id = case.id
    db_session.add(again)
    add_event(db_session, again, kind="reported", actor_id=None, version=1)
    db_session.commit()
    assert _seqs(db_session, again) == [1]
