"""A run of append-only mutations (sync/engine.py `_Run._apply_run`, and the plain path's
`_Run._apply_plain`) answers and writes what applying them one at a time (`_Run._apply`, no
plain path) does, on both databases: the same statuses, reasons and results, the same rows;
the run only skips the per-mutation bookkeeping."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.fieldsync.operations import Settings, build_handlers
from server.fieldsync.phone_actor import PhoneActor
from server.population.models import Resident, Visit
from sync.engine import _Run, push
from sync.handlers import DeviceContext, Mutation
from sync.models import MutationRecord
from tests.sync.conftest import Phone, World, answer_facts, make_case, visit_args


def _resident_of(household: uuid.UUID) -> str:
    return str(
        db.session.scalar(select(Resident.id).where(Resident.household_id == household).limit(1))
    )


def _mixture(world: World, case_id: uuid.UUID) -> list[Mutation]:
    """Visits the run path must answer as the one-at-a-time path does, each kind of rejection
    among them, and mutations that end a run (a visit naming a case, a case report, a note)."""
    g1, g2 = world.households["G1"], world.households["G2"]
    first = visit_args(g1[0], residents_seen=[_resident_of(g1[0])])
    reused_op = uuid.uuid4()
    entries: list[tuple[str, dict[str, Any], uuid.UUID | None]] = [
        ("visit.create", first, None),
        ("visit.create", visit_args(g1[1]), reused_op),
        ("visit.create", visit_args(uuid.uuid4()), None),  # UNKNOWN_HOUSEHOLD
        ("visit.create", visit_args(g2[0]), None),  # NOT_IN_SCOPE
        ("visit.create", visit_args(g1[2], residents_seen=[_resident_of(g1[0])]), None),
        ("visit.create", dict(first), None),  # the same visit again: existing
        ("visit.create", visit_args(g1[0]), reused_op),  # OP_ID_REUSED
        ("visit.create", visit_args(g1[0], outcome="lost"), None),  # INVALID_ARGS
        ("visit.create", visit_args(g1[1], case_id=str(case_id)), None),  # not append-only
        ("visit.create", visit_args(g1[1], corrects_visit_id=first["id"]), None),
        ("case.note", {"case_id": str(case_id), "text": "checked"}, None),
        ("visit.create", visit_args(g1[2], corrects_visit_id=str(uuid.uuid4())), None),
        ("visit.create", visit_args(g1[2]), None),
    ]
    return [
        Mutation(seq=i + 1, op_id=op or uuid.uuid4(), name=name, args=args)
        for i, (name, args, op) in enumerate(entries)
    ]


def _device(phone: Phone) -> DeviceContext:
    person = db.session.merge(phone.user)
    return DeviceContext(phone.device_id, person.id, PhoneActor(person))


def _rows(device: DeviceContext) -> tuple[int, list[tuple[Any, ...]]]:
    db.session.expire_all()
    visits = db.session.scalar(
        select(func.count()).select_from(Visit).where(Visit.device_id == device.device_id)
    )
    log = db.session.execute(
        select(MutationRecord.seq, MutationRecord.status, MutationRecord.reason_code)
        .where(MutationRecord.device_id == device.device_id)
        .order_by(MutationRecord.seq)
    ).all()
    return int(visits or 0), [tuple(row) for row in log]


@pytest.mark.parametrize("commit_every", [1, 4, 1000])
def test_a_run_answers_and_writes_what_one_mutation_at_a_time_does(
    app, world: World, phone, monkeypatch, commit_every
):
    handlers = build_handlers(Settings())
    case_id = make_case(db.session, world)
    runs = _device(phone("wa"))
    with_runs = push(
        db.session, runs, _mixture(world, case_id), handlers, commit_every=commit_every
    )
    monkeypatch.setattr(_Run, "_run_from", lambda *args: [])
    # Without the plain path either (Handler.plain): every visit through `validate`, `apply`.
    general = {**handlers, "visit.create": replace(handlers["visit.create"], plain=None)}
    alone = _device(phone("wa"))
    one_by_one = push(
        db.session, alone, _mixture(world, case_id), general, commit_every=commit_every
    )
    assert with_runs.last_seq == one_by_one.last_seq == 13
    assert answer_facts(with_runs) == answer_facts(one_by_one)
    statuses = [a[1:3] for a in answer_facts(with_runs)]
    assert statuses[2:8] == [
        ("rejected", "UNKNOWN_HOUSEHOLD"),
        ("rejected", "NOT_IN_SCOPE"),
        ("rejected", "RESIDENT_NOT_IN_HOUSEHOLD"),
        ("applied", None),
        ("rejected", "OP_ID_REUSED"),
        ("rejected", "INVALID_ARGS"),
    ]
    assert _rows(runs) == _rows(alone)
