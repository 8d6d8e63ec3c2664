"""The push's serial section is short: an append-only group validates and prefetches before it
takes the version clock, and the clock is still held from bump to commit, so versions commit
in clock order (docs/sync-protocol.md §The serial section).

Real threads, real databases (SQLite and PostgreSQL); pauses are hooks on a handler's prefetch
and events, never sleeps.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import func, select

from server.accounts.models import User
from server.cases.models import Case, CaseEvent, Photo, PhotoLink
from server.enums import GridStatus, PhotoStatus, Placement
from server.extensions import db
from server.fieldsync.operations import Settings, build_handlers
from server.fieldsync.phone_actor import PhoneActor
from server.grid.index import index_cache
from server.grid.models import GridVersion
from server.population.models import Visit
from sync import engine as sync_engine
from sync.engine import PushOutcome, push
from sync.handlers import DeviceContext, Handler, Mutation
from sync.models import DeviceState, MutationRecord
from sync.versions import VersionClock
from tests.sync.conftest import (
    INSIDE_G1,
    World,
    assert_versions_rise_with_seqs,
    make_case,
    visit_args,
)

WAIT_S = 60  # a bound on waiting for another thread; the tests never wait on time


def _mutations(
    households: list[uuid.UUID], n: int, note_on: uuid.UUID | None = None
) -> list[Mutation]:
    """`n` visits from seq 1; with `note_on`, every seventh is a note on that case instead
    (not append-only: the group takes the clock there)."""
    batch = []
    for i in range(n):
        if note_on is not None and i % 7 == 6:
            name = "case.note"
            args = {"id": str(uuid.uuid4()), "case_id": str(note_on), "text": f"note {i}"}
        else:
            name, args = "visit.create", visit_args(households[i % len(households)])
        batch.append(Mutation(seq=1 + i, op_id=uuid.uuid4(), name=name, args=args))
    return batch


def _push_in_thread(
    app: Flask,
    user_id: int,
    device_id: uuid.UUID,
    batch: list[Mutation],
    handlers: dict[str, Handler],
    commit_every: int = 500,
) -> PushOutcome:
    """One push on its own session (its own app context), as a request of another worker."""
    with app.app_context():
        try:
            user = db.session.get(User, user_id)
            device = DeviceContext(device_id, user_id, PhoneActor(user))
            return push(db.session, device, batch, handlers, commit_every=commit_every)
        finally:
            db.session.remove()


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    """Threads for concurrent pushes; a future's result() re-raises what its thread raised."""
    with ThreadPoolExecutor(max_workers=8) as executor:
        yield executor


def _wait_for(event: threading.Event, future: Future[Any]) -> None:
    """Wait until `event` is set, or fail with what the thread raised if it ended first."""
    while not event.wait(0.05):
        if future.done():
            future.result()  # raises the thread's error, if any
            raise AssertionError("the thread ended before the event")


@pytest.fixture
def paused_prefetch() -> Iterator[tuple[dict[str, Handler], threading.Event, threading.Event]]:
    """The real handlers, visit.create's prefetch pausing once (the first call) until released:
    (handlers, reached, release)."""
    handlers = build_handlers(Settings())
    original, original_plain = handlers["visit.create"].prefetch, handlers["visit.create"].plain
    assert original is not None and original_plain is not None
    reached, release = threading.Event(), threading.Event()
    first = threading.Lock()

    def pause_once() -> None:
        if first.acquire(blocking=False):
            reached.set()
            assert release.wait(WAIT_S), "the test never released the prefetch"

    def prefetch(session: Any, device: DeviceContext, args_list: list[dict[str, Any]]) -> Any:
        pause_once()
        return original(session, device, args_list)

    def plain(session: Any, device: DeviceContext, received_at: Any, mutations: Any) -> Any:
        pause_once()  # the plain path reads what the prefetch does (server/fieldsync/visits.py)
        return original_plain(session, device, received_at, mutations)

    # prefetch_new cleared: a group's first try would call it instead (sync/engine.py); its
    # plain visits are read by the plain path, paused too.
    handlers["visit.create"] = dataclasses.replace(
        handlers["visit.create"], prefetch=prefetch, prefetch_new=None, plain=plain
    )
    yield handlers, reached, release
    release.set()


def _bump_clock_elsewhere(database_url: str, wait_ms: int = 5000) -> int:
    """Bump the version clock on a connection of its own, waiting at most `wait_ms` for the
    lock (the push holding it makes this fail); return the new version."""
    sqlite = database_url.startswith("sqlite")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql(f"SET lock_timeout = '{wait_ms}ms'")
            version = conn.execute(
                sa.update(VersionClock)
                .where(VersionClock.id == 1)
                .values(version=VersionClock.version + 1)
                .returning(VersionClock.version)
            ).scalar_one()
            conn.commit()
            return int(version)
    finally:
        engine.dispose()


def test_an_append_only_group_takes_the_clock_only_after_its_prefetch(
    app: Flask,
    world: World,
    phone: Any,
    database_url: str,
    paused_prefetch: Any,
    pool: ThreadPoolExecutor,
):
    """While a group of visits is paused inside its prefetch, another writer bumps the clock
    and commits; the group then commits under a later version."""
    handlers, reached, release = paused_prefetch
    user_id, device_id = world.users["wa"].id, phone("wa").device_id
    batch = _mutations(world.households["G1"], 3)
    pusher = pool.submit(_push_in_thread, app, user_id, device_id, batch, handlers)
    _wait_for(reached, pusher)
    bumped = _bump_clock_elsewhere(database_url)  # fails (lock timeout) if the push held it
    release.set()
    outcome = pusher.result(WAIT_S)
    assert not outcome.retry and outcome.last_seq == 3
    assert [r["status"] for r in outcome.results] == ["applied"] * 3, outcome.results
    versions = {r["version"] for r in outcome.results}
    assert len(versions) == 1 and versions.pop() > bumped
    db.session.expire_all()
    stored = db.session.scalars(select(Visit.version).where(Visit.device_id == device_id)).all()
    assert stored == [outcome.results[0]["version"]] * 3


def test_the_probe_finds_the_clock_held_when_a_group_takes_it_first(
    app: Flask,
    world: World,
    phone: Any,
    database_url: str,
    paused_prefetch: Any,
    pool: ThreadPoolExecutor,
    monkeypatch: pytest.MonkeyPatch,
):
    """The control of the test above: a group made to take the clock first (as every group
    did before) holds it through its prefetch, and the same bump elsewhere times out."""
    handlers, reached, release = paused_prefetch
    late_group = sync_engine._Run.group

    def clock_first(self: Any, *args: Any, **kwargs: Any) -> Any:
        return late_group(self, *args, **{**kwargs, "clock_first": True})

    monkeypatch.setattr(sync_engine._Run, "group", clock_first)
    user_id, device_id = world.users["wa"].id, phone("wa").device_id
    batch = _mutations(world.households["G1"], 2)
    pusher = pool.submit(_push_in_thread, app, user_id, device_id, batch, handlers)
    _wait_for(reached, pusher)
    with pytest.raises(sa.exc.OperationalError):
        _bump_clock_elsewhere(database_url, wait_ms=300)
    release.set()
    assert pusher.result(WAIT_S).last_seq == 2


def test_a_push_of_the_same_device_that_commits_first_turns_the_paused_one_into_duplicates(
    app: Flask, world: World, phone: Any, paused_prefetch: Any, pool: ThreadPoolExecutor
):
    """Two pushes of one device's outbox at once (a retry while the first is still running):
    the one paused before the clock finds the device's mark moved once it takes the clock,
    and starts the group over under the clock: every mutation applied exactly once."""
    handlers, reached, release = paused_prefetch
    user_id, device_id = world.users["wa"].id, phone("wa").device_id
    batch = _mutations(world.households["G1"], 4)
    first = pool.submit(_push_in_thread, app, user_id, device_id, batch, handlers)
    _wait_for(reached, first)
    second = _push_in_thread(app, user_id, device_id, batch, handlers)  # not paused
    assert [r["status"] for r in second.results] == ["applied"] * 4
    release.set()
    outcome = first.result(WAIT_S)
    assert not outcome.retry and outcome.last_seq == 4
    assert [r["status"] for r in outcome.results] == ["duplicate"] * 4
    assert [r["original_status"] for r in outcome.results] == ["applied"] * 4
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 4
    assert db.session.get(DeviceState, device_id).last_seq == 4


def _observe(database_url: str, stop: threading.Event) -> list[tuple[int, set[uuid.UUID]]]:
    """What a pull sees, again and again until `stop`: in one snapshot, the clock and every
    logged op id at or below it."""
    sqlite = database_url.startswith("sqlite")
    engine = sa.create_engine(
        database_url, **({} if sqlite else {"isolation_level": "REPEATABLE READ"})
    )
    seen: list[tuple[int, set[uuid.UUID]]] = []
    try:
        with engine.connect() as conn:
            while not stop.is_set() or len(seen) < 3:
                if sqlite:
                    conn.exec_driver_sql("BEGIN")  # one read snapshot for both statements
                top = conn.execute(select(VersionClock.version)).scalar_one()
                ops = conn.execute(
                    select(MutationRecord.op_id).where(MutationRecord.server_version <= top)
                ).scalars()
                seen.append((int(top), set(ops)))
                conn.rollback()
    finally:
        engine.dispose()
    return seen


def test_concurrent_pushes_commit_in_clock_order_exactly_once(
    app: Flask, world: World, phone: Any, database_url: str, pool: ThreadPoolExecutor
):
    """Four devices push visits and case notes in small groups at once, one of them twice at
    the same time, while a reader takes snapshots: no snapshot that saw the clock at N
    misses a change that later shows up at a version <= N; every mutation is applied once;
    every mark is right."""
    handlers = build_handlers(Settings())
    households = world.households["G1"]
    devices = [(world.users[n].id, phone(n).device_id) for n in ("wa", "wc", "wa", "wc")]
    per_device = 30
    case_id = make_case(db.session, world)  # in G1, the cell of both workers
    batches = [_mutations(households, per_device, note_on=case_id) for _ in devices]
    stop = threading.Event()
    reader = pool.submit(_observe, database_url, stop)
    user0, device0 = devices[0]
    pushes = [
        pool.submit(_push_in_thread, app, u, d, b, handlers, 3)
        for (u, d), b in zip(devices, batches, strict=True)
    ] + [pool.submit(_push_in_thread, app, user0, device0, batches[0], handlers, 3)]  # again
    try:
        outcomes = [future.result(WAIT_S) for future in pushes]
    finally:
        stop.set()
    snapshots = reader.result(WAIT_S)

    assert not any(o.retry for o in outcomes), "a push met a temporary failure"
    assert all(o.last_seq == per_device for o in outcomes)
    applied = [r["op_id"] for o in outcomes for r in o.results if r["status"] == "applied"]
    everything = {str(m.op_id) for b in batches for m in b}
    assert sorted(applied) == sorted(everything)  # each exactly once, none rejected
    db.session.expire_all()
    final = {
        op: version
        for op, version in db.session.execute(
            select(MutationRecord.op_id, MutationRecord.server_version)
        )
    }
    assert {str(op) for op in final} == everything
    for top, seen in snapshots:
        late = {op for op, version in final.items() if version <= top} - seen
        assert not late, f"a snapshot at clock {top} missed {len(late)} changes committed later"
    for _, device_id in devices:
        assert db.session.get(DeviceState, device_id).last_seq == per_device
    assert_versions_rise_with_seqs(db.session)
    visits = sum(m.name == "visit.create" for b in batches for m in b)
    assert db.session.scalar(select(func.count()).select_from(Visit)) == visits
    notes = select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "note")
    assert db.session.scalar(notes) == len(everything) - visits


# --- case reports ---------------------------------------------------------------------------


def _report(**extra: Any) -> dict[str, Any]:
    lon, lat = INSIDE_G1
    return {
        "id": str(uuid.uuid4()),
        "description": "楼道堆物",
        "lon": lon,
        "lat": lat,
        "photos": [uuid.uuid4().hex * 2],
        **extra,
    }


def _day(households: list[uuid.UUID], reports: list[dict[str, Any]]) -> list[Mutation]:
    """The load bench's shape: visits first, then the reports."""
    visits = _mutations(households, 3)
    return visits + [
        Mutation(seq=len(visits) + 1 + i, op_id=uuid.uuid4(), name="case.report", args=args)
        for i, args in enumerate(reports)
    ]


@pytest.fixture
def paused_report(
    app: Flask,
) -> Iterator[tuple[dict[str, Handler], threading.Event, threading.Event]]:
    """The app's handlers (its grid index: reports are placed), case.report's apply pausing
    once, after it has run to the end, until released: (handlers, reached, release)."""
    handlers = build_handlers(Settings("XH", index_cache(app)))
    original = handlers["case.report"].apply
    reached, release = threading.Event(), threading.Event()
    first = threading.Lock()

    def apply(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
        result = original(ctx, args)
        if first.acquire(blocking=False):
            reached.set()
            assert release.wait(WAIT_S), "the test never released the report"
        return result

    handlers["case.report"] = dataclasses.replace(handlers["case.report"], apply=apply)
    yield handlers, reached, release
    release.set()


def test_a_case_report_is_read_placed_and_built_before_the_clock(
    app: Flask,
    world: World,
    phone: Any,
    database_url: str,
    paused_report: Any,
    pool: ThreadPoolExecutor,
):
    """Visits then two reports (the load bench's push): while the first report has run its
    whole handler (existing case, catalogue, placement, duty, photo proofs, its timeline
    built), another writer bumps the clock; the group then commits every row it wrote,
    numbered and placed, under one later version."""
    handlers, reached, release = paused_report
    user_id, device_id = world.users["wa"].id, phone("wa").device_id
    reports = [_report(), _report()]
    batch = _day(world.households["G1"], reports)
    pusher = pool.submit(_push_in_thread, app, user_id, device_id, batch, handlers)
    _wait_for(reached, pusher)
    bumped = _bump_clock_elsewhere(database_url)  # fails (lock timeout) if the push held it
    release.set()
    outcome = pusher.result(WAIT_S)
    assert [r["status"] for r in outcome.results] == ["applied"] * 5, outcome.results
    version = outcome.results[0]["version"]
    assert version > bumped and {r["version"] for r in outcome.results} == {version}
    answers = [r["result"] for r in outcome.results[3:]]
    assert [(a["placement"], a["cell_code"]) for a in answers] == [("in", "G1")] * 2
    db.session.expire_all()
    for report, answer in zip(reports, answers, strict=True):
        case = db.session.get(Case, uuid.UUID(report["id"]))
        assert case is not None and case.number == answer["number"]
        assert (case.version, case.cell_code, case.assignee_id) == (version, "G1", user_id)
        events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
        assert sorted((e.seq, e.kind, e.version) for e in events) == [
            (1, "reported", version),
            (2, "photo", version),
        ]
        link = db.session.scalars(select(PhotoLink).where(PhotoLink.case_id == case.id)).one()
        assert (link.photo_sha256, link.version, link.proof) == (report["photos"][0], version, None)
        photo = db.session.get(Photo, report["photos"][0])
        assert photo is not None and photo.status == PhotoStatus.MISSING
    first, second = (a["number"].rsplit("-", 1) for a in answers)
    assert first[0] == second[0] and int(second[1]) == int(first[1]) + 1


def test_the_probe_finds_the_clock_held_when_a_report_group_takes_it_first(
    app: Flask,
    world: World,
    phone: Any,
    database_url: str,
    paused_report: Any,
    pool: ThreadPoolExecutor,
    monkeypatch: pytest.MonkeyPatch,
):
    """The control of the test above: made to take the clock first, the same push holds it
    while its report is paused, and the same bump elsewhere times out."""
    handlers, reached, release = paused_report
    late_group = sync_engine._Run.group

    def clock_first(self: Any, *args: Any, **kwargs: Any) -> Any:
        return late_group(self, *args, **{**kwargs, "clock_first": True})

    monkeypatch.setattr(sync_engine._Run, "group", clock_first)
    user_id, device_id = world.users["wa"].id, phone("wa").device_id
    batch = _day(world.households["G1"], [_report()])
    pusher = pool.submit(_push_in_thread, app, user_id, device_id, batch, handlers)
    _wait_for(reached, pusher)
    with pytest.raises(sa.exc.OperationalError):
        _bump_clock_elsewhere(database_url, wait_ms=300)
    release.set()
    assert pusher.result(WAIT_S).last_seq == 4


def test_a_grid_retired_while_a_report_waits_for_the_clock_places_it_again(
    app: Flask,
    world: World,
    phone: Any,
    database_url: str,
    paused_report: Any,
    pool: ThreadPoolExecutor,
):
    """The report is placed on the published grid before the clock; the office retires that
    grid (a publication re-places only the open cases it sees) before the report commits:
    under the clock the report sees the grid changed and is placed again — unplaced."""
    handlers, reached, release = paused_report
    user_id, device_id = world.users["wa"].id, phone("wa").device_id
    report = _report()
    batch = _day(world.households["G1"], [report])
    pusher = pool.submit(_push_in_thread, app, user_id, device_id, batch, handlers)
    _wait_for(reached, pusher)
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.update(GridVersion)
                .where(GridVersion.status == GridStatus.PUBLISHED)
                .values(status=GridStatus.RETIRED)
            )
    finally:
        engine.dispose()
    release.set()
    outcome = pusher.result(WAIT_S)
    answer = outcome.results[-1]
    assert answer["status"] == "applied", answer
    assert (answer["result"]["placement"], answer["result"]["cell_code"]) == ("unplaced", None)
    db.session.expire_all()
    case = db.session.get(Case, uuid.UUID(report["id"]))
    assert (case.placement, case.cell_code, case.assignee_id) == (Placement.UNPLACED, None, None)


def test_concurrent_reporters_get_distinct_numbers_without_gaps(
    app: Flask, world: World, phone: Any, pool: ThreadPoolExecutor
):
    """Four devices (two of one worker) push reports in groups of three at once: every case
    gets a number, all different, and together they are 0001…N of the day."""
    handlers = build_handlers(Settings("XH", index_cache(app)))
    devices = [(world.users[n].id, phone(n).device_id) for n in ("wa", "wc", "wa", "wb")]
    per_device = 7
    batches = [
        [
            Mutation(seq=1 + i, op_id=uuid.uuid4(), name="case.report", args=_report())
            for i in range(per_device)
        ]
        for _ in devices
    ]
    pushes = [
        pool.submit(_push_in_thread, app, u, d, b, handlers, 3)
        for (u, d), b in zip(devices, batches, strict=True)
    ]
    outcomes = [future.result(WAIT_S) for future in pushes]
    assert not any(o.retry for o in outcomes)
    answers = [r for o in outcomes for r in o.results]
    assert [r["status"] for r in answers] == ["applied"] * len(devices) * per_device, answers
    numbers = sorted(r["result"]["number"] for r in answers)
    stems = {n.rsplit("-", 1)[0] for n in numbers}
    assert len(stems) == 1
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == list(range(1, len(numbers) + 1))
    db.session.expire_all()
    stored = {str(c.id): c.number for c in db.session.scalars(select(Case))}
    assert {r["result"]["case_id"]: r["result"]["number"] for r in answers} == stored


def test_a_replayed_report_answers_the_same_number(
    app: Flask, world: World, phone: Any, pool: ThreadPoolExecutor
):
    """The same report sent again answers what the first did: in the same group (a repeated
    id), from another device of the same worker, and as a duplicate of the same seq; another
    worker's report with that id is refused."""
    handlers = build_handlers(Settings("XH", index_cache(app)))
    wa, wb = world.users["wa"].id, world.users["wb"].id
    first_device, second_device, other = phone("wa"), phone("wa"), phone("wb")
    report = _report()
    twice = [
        Mutation(seq=1 + i, op_id=uuid.uuid4(), name="case.report", args=report) for i in range(2)
    ]
    outcome = pool.submit(_push_in_thread, app, wa, first_device.device_id, twice, handlers)
    first, repeated = outcome.result(WAIT_S).results
    number = first["result"]["number"]
    assert first["status"] == repeated["status"] == "applied"
    assert repeated["result"] == {"case_id": report["id"], "number": number, "existing": True}
    again = pool.submit(_push_in_thread, app, wa, first_device.device_id, twice, handlers)
    assert [r["result"]["number"] for r in again.result(WAIT_S).results] == [number] * 2
    assert [r["status"] for r in again.result(WAIT_S).results] == ["duplicate"] * 2
    resent = [twice[0]._replace(op_id=uuid.uuid4())]  # a new outbox entry
    elsewhere = pool.submit(_push_in_thread, app, wa, second_device.device_id, resent, handlers)
    assert elsewhere.result(WAIT_S).results[0]["result"] == repeated["result"]
    resent = [twice[0]._replace(op_id=uuid.uuid4())]
    taken = pool.submit(_push_in_thread, app, wb, other.device_id, resent, handlers)
    assert taken.result(WAIT_S).results[0]["reason"]["code"] == "ID_TAKEN"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_a_report_whose_id_is_taken_while_it_waits_for_the_clock_is_rejected_alone(
    app: Flask, world: World, phone: Any, paused_report: Any, pool: ThreadPoolExecutor
):
    """Another worker's report with the same case id commits while the group is before the
    clock: the group's insert fails under the clock, the group is replayed one mutation at a
    time with the clock taken first, and that report alone is refused ID_TAKEN."""
    handlers, reached, release = paused_report
    wa, device_id = world.users["wa"].id, phone("wa").device_id
    report, contested = _report(), _report()
    batch = _day(world.households["G1"], [report, contested])
    pusher = pool.submit(_push_in_thread, app, wa, device_id, batch, handlers)
    _wait_for(reached, pusher)
    theirs = [Mutation(seq=1, op_id=uuid.uuid4(), name="case.report", args=contested)]
    plain = build_handlers(Settings("XH", index_cache(app)))
    other = _push_in_thread(app, world.users["wb"].id, phone("wb").device_id, theirs, plain)
    assert other.results[0]["status"] == "applied"
    release.set()
    outcome = pusher.result(WAIT_S)
    assert outcome.last_seq == 5 and not outcome.retry
    assert [r["status"] for r in outcome.results] == ["applied"] * 4 + ["rejected"]
    assert outcome.results[-1]["reason"]["code"] == "ID_TAKEN"
    db.session.expire_all()
    mine = db.session.get(Case, uuid.UUID(report["id"]))
    assert mine is not None and mine.reporter_id == wa
    assert mine.number != other.results[0]["result"]["number"]
    assert db.session.get(Case, uuid.UUID(contested["id"])).reporter_id == world.users["wb"].id
