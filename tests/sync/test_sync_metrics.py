"""Push outcomes and case queues show in /metrics without changing the wire format."""

from __future__ import annotations

import datetime as dt

from server.cases.models import Case
from server.enums import CaseStatus, Placement
from server.extensions import db
from server.ops.metrics import metrics, queue_sizes
from sync.db import utcnow
from tests.sync.conftest import make_case, visit_args


def _mutations(status: str) -> float:
    return float(metrics().mutations.labels(status=status)._value.get())


def test_applied_duplicate_and_rejected_mutations_are_counted(phone, world):
    before = {s: _mutations(s) for s in ("applied", "duplicate", "rejected")}
    wa = phone("wa")
    wa.add("visit.create", visit_args(world.households["G1"][0]))
    wa.add("no.such.mutation", {})
    sent = list(wa.outbox)
    body = wa.push()
    assert [r["status"] for r in body["results"]] == ["applied", "rejected"]
    again = wa.push_raw(sent).get_json()
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    after = {s: _mutations(s) for s in before}
    assert {s: after[s] - before[s] for s in before} == {
        "applied": 1,
        "duplicate": 2,
        "rejected": 1,
    }


def test_queue_sizes_count_open_cases_unplaced_and_overdue(app, world):
    now = utcnow()
    overdue = make_case(db.session, world, status=CaseStatus.HANDLING)
    unplaced = make_case(db.session, world, status=CaseStatus.REPORTED, assignee=None)
    closed = make_case(db.session, world, status=CaseStatus.CLOSED)
    db.session.get(Case, overdue).due_at = now - dt.timedelta(hours=1)
    db.session.get(Case, closed).due_at = now - dt.timedelta(hours=1)
    db.session.get(Case, unplaced).placement = Placement.UNPLACED
    db.session.commit()
    sizes = queue_sizes(db.session, now)
    assert sizes["open"]["handling"] == 1 and sizes["open"]["reported"] == 1
    assert sizes["unplaced"] == 1
    assert sizes["overdue"] == 1
