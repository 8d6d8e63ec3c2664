"""The plain path of visit.create (`server.fieldsync.visits.plain_visits`, `Handler.plain`)
answers and writes what the general handler does, on both databases.

Hypothesis builds batches of visits from the cases that decide between the two paths (plain
or not, each rejection, an id sent twice, a correction of a visit of the same batch or of a
stored one, a visit naming a case, a reused op id, a base version, ids in another spelling,
a time the phone recorded) and pushes each batch twice, with fresh ids: once with the plain
path, once without it (`plain=None`, every visit through `validate` and `apply`). The answers
(status, reason, result) and the rows (each visit's values, each log row) must be the same.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Uuid, bindparam, select, text

from server.extensions import db
from server.fieldsync.operations import Settings, build_handlers
from server.fieldsync.phone_actor import PhoneActor
from server.population.models import Resident, Visit
from sync.engine import push
from sync.handlers import DeviceContext, Handler, Mutation
from sync.models import MutationRecord
from tests.sync.conftest import Phone, World, answer_facts, make_case

#: One visit of a batch: (household, residents, id, corrects, extra, op id, device time).
#: The plain choice comes first and most often, so most batches mix both paths.
_ENTRY = st.tuples(
    st.sampled_from(["in", "in", "in2", "out", "unknown"]),
    st.sampled_from(["own", "own", "none", "other"]),
    st.sampled_from(["fresh"] * 5 + ["again", "stored", "upper"]),
    st.sampled_from(["none"] * 6 + ["earlier", "stored", "later"]),
    st.sampled_from(["none"] * 4 + ["case", "bad_outcome", "lon_text", "base", "point"]),
    st.sampled_from(["fresh"] * 5 + ["reused"]),
    st.booleans(),
)
_RECORDED = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def _resident(household: uuid.UUID) -> str:
    return str(
        db.session.scalar(select(Resident.id).where(Resident.household_id == household).limit(1))
    )


def _batch(
    entries: list[tuple[Any, ...]], world: World, stored: str, case_id: uuid.UUID
) -> list[Mutation]:
    """The mutations of `entries`, with fresh ids (the same batch, spelled anew)."""
    g1, g2 = world.households["G1"], world.households["G2"]
    households = {"in": g1[0], "in2": g1[1], "out": g2[0], "unknown": uuid.uuid4()}
    ids = [str(uuid.uuid4()) for _ in entries]
    ops = [uuid.uuid4() for _ in entries]
    mutations = []
    for i, (where, met, own, corrects, extra, op, timed) in enumerate(entries):
        household = households[where]
        args: dict[str, Any] = {"id": ids[i], "household_id": str(household), "situation": "ok"}
        if own == "again" and i:
            args["id"] = ids[i - 1]
        elif own == "stored":
            args["id"] = stored
        elif own == "upper":
            args["id"] = ids[i].upper()
        if met == "own" and where != "unknown":
            args["residents_seen"] = [_resident(household)]
        elif met == "other":
            args["residents_seen"] = [_resident(g1[2])]
        if corrects == "earlier" and i:
            args["corrects_visit_id"] = ids[i - 1]
        elif corrects == "stored":
            args["corrects_visit_id"] = stored
        elif corrects == "later" and i + 1 < len(entries):
            args["corrects_visit_id"] = ids[i + 1]
        base = None
        if extra == "case":
            args["case_id"] = str(case_id)
        elif extra == "bad_outcome":
            args["outcome"] = "lost"
        elif extra == "lon_text":
            args.update(lon="121.4", lat=31.2)  # the schema reads it, the plain loader does not
        elif extra == "base":
            base = 5
        elif extra == "point":
            args.update(lon=121.4, lat=31.2, accuracy_m=12.5, needs="water", outcome="not_home")
        op_id = ops[i - 1] if op == "reused" and i else ops[i]
        recorded = _RECORDED if timed else None
        mutations.append(Mutation(i + 1, op_id, "visit.create", args, recorded, base))
    return mutations


def _device(phone: Phone) -> DeviceContext:
    person = db.session.merge(phone.user)
    return DeviceContext(phone.device_id, person.id, PhoneActor(person))


def _written(device: DeviceContext, mutations: list[Mutation]) -> list[tuple[Any, ...]]:
    """Per log row (by seq): its facts, and the values of the visit it names, ids written as
    the batch's position of the mutation that sent them (the two batches' ids differ)."""
    db.session.expire_all()
    position = {str(m.args.get("id")).lower(): m.seq for m in mutations}
    position[None] = None  # type: ignore[index]
    found = []
    for log in db.session.scalars(
        select(MutationRecord)
        .where(MutationRecord.device_id == device.device_id)
        .order_by(MutationRecord.seq)
    ):
        visit_id = (log.result or {}).get("visit_id")
        visit = db.session.get(Visit, uuid.UUID(visit_id)) if visit_id else None
        row = None
        if visit is not None and visit.device_id == device.device_id:
            row = (
                position.get(str(visit.id)),
                visit.household_id,
                visit.worker_id,
                # The time the phone gave, else the push's own (each push has its own).
                "received" if visit.visited_at == visit.received_at else visit.visited_at,
                visit.residents_seen,
                visit.outcome,
                visit.situation,
                visit.needs,
                visit.follow_up,
                visit.lon,
                visit.lat,
                visit.accuracy_m,
                position.get(str(visit.corrects_visit_id) if visit.corrects_visit_id else None),
                visit.case_id,
            )
        found.append(
            (
                log.seq,
                log.status,
                log.reason_code,
                log.args == {},
                log.base_version,
                log.recorded_at_device,
                sorted(log.result or {}),
                row,
            )
        )
    return found


def _without_plain(handlers: dict[str, Handler]) -> dict[str, Handler]:
    general = dict(handlers)
    general["visit.create"] = dataclasses.replace(handlers["visit.create"], plain=None)
    return general


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(entries=st.lists(_ENTRY, min_size=1, max_size=16), commit_every=st.sampled_from([3, 100]))
def test_the_plain_path_answers_and_writes_what_the_general_handler_does(
    app, world: World, phone, entries: list[tuple[Any, ...]], commit_every: int
):
    handlers = build_handlers(Settings())
    assert handlers["visit.create"].plain is not None
    case_id = make_case(db.session, world)
    seed = phone("wa")
    seed.add(
        "visit.create", {"id": str(uuid.uuid4()), "household_id": str(world.households["G1"][0])}
    )
    stored = seed.outbox[0]["args"]["id"]
    assert seed.push()["last_seq"] == 1
    outcomes, written = [], []
    for chosen in (handlers, _without_plain(handlers)):
        device = _device(phone("wa"))
        mutations = _batch(entries, world, stored, case_id)
        outcomes.append(push(db.session, device, mutations, chosen, commit_every=commit_every))
        written.append(_written(device, mutations))
    plain, general = outcomes
    assert plain.last_seq == general.last_seq == len(entries)
    assert answer_facts(plain) == answer_facts(general)
    assert written[0] == written[1]


def test_a_batch_of_plain_visits_takes_the_plain_path(app, world: World, phone, monkeypatch):
    """The common batch (new visits, plain args) is written by the plain path alone: the
    general handler is never called."""
    handlers = build_handlers(Settings())

    def general(*_: Any) -> Any:
        raise AssertionError("the general handler was called")

    handlers["visit.create"] = dataclasses.replace(handlers["visit.create"], apply=general)
    household = world.households["G1"][0]
    met = [_resident(household)]
    entries = [
        {"id": str(uuid.uuid4()), "household_id": str(household), "residents_seen": met}
        for _ in range(70)  # past sync.bulk.COPY_MIN_ROWS: COPY on PostgreSQL
    ]
    mutations = [Mutation(i + 1, uuid.uuid4(), "visit.create", a) for i, a in enumerate(entries)]
    device = _device(phone("wa"))
    outcome = push(db.session, device, mutations, handlers)
    assert outcome.last_seq == 70
    assert {r["status"] for r in outcome.results} == {"applied"}
    assert [r["result"] for r in outcome.results] == [{"visit_id": a["id"]} for a in entries]
    assert len({r["version"] for r in outcome.results}) == 1
    db.session.expire_all()
    stored = db.session.get(Visit, uuid.UUID(entries[3]["id"]))
    assert stored is not None and stored.residents_seen == met and stored.version > 0


def _stored_text(device: DeviceContext, mutation: Mutation) -> tuple[str, ...]:
    """The visit's ids and residents seen, and its log row's result, as the database holds
    them (as text: SQLite's own, PostgreSQL's text of the uuid and of the jsonb), the
    visit's id itself written as X."""
    visit_id = mutation.args["id"]
    row = db.session.execute(
        text(
            "SELECT CAST(id AS TEXT), CAST(household_id AS TEXT), CAST(residents_seen AS TEXT)"
            " FROM visits WHERE id = :id"
        ).bindparams(bindparam("id", type_=Uuid())),
        {"id": uuid.UUID(visit_id)},
    ).one()
    result = db.session.execute(
        text(
            "SELECT CAST(result AS TEXT) FROM sync_mutations WHERE device_id = :device"
            " AND seq = :seq"
        ).bindparams(bindparam("device", type_=Uuid())),
        {"device": device.device_id, "seq": mutation.seq},
    ).scalar_one()
    own = {visit_id, visit_id.replace("-", "")}
    return (*tuple("X" if value in own else value for value in row), result.replace(visit_id, "X"))


def test_the_plain_path_stores_the_very_text_the_general_handler_stores(app, world: World, phone):
    """Where the plain path builds the stored text itself (SQLite: an id's hex digits, the
    JSON of the residents seen and of the log's result), the database holds what the bind
    processors write for the general handler, byte for byte; on PostgreSQL the same holds of
    the values it is given."""
    handlers = build_handlers(Settings())
    household = world.households["G1"][0]
    for name in ("居民甲", "居民乙"):
        db.session.add(Resident(household_id=household, name=name, gender="M", version=1))
    db.session.commit()
    residents = [
        str(r)
        for r in db.session.scalars(select(Resident.id).where(Resident.household_id == household))
    ]
    stored = {}
    for kind, chosen in (("plain", handlers), ("general", _without_plain(handlers))):
        device = _device(phone("wa"))
        args = [
            {"id": str(uuid.uuid4()), "household_id": str(household), "residents_seen": seen}
            for seen in ([], residents[:1], residents)
        ]
        mutations = [Mutation(i + 1, uuid.uuid4(), "visit.create", a) for i, a in enumerate(args)]
        outcome = push(db.session, device, mutations, chosen)
        assert [r["status"] for r in outcome.results] == ["applied"] * 3
        stored[kind] = [_stored_text(device, m) for m in mutations]
    assert stored["plain"] == stored["general"]
    assert stored["plain"][0][0] == "X" and '", "' in stored["plain"][2][2]
