"""Push: apply a device's batch of mutations at most once each, in seq order.

The rules (docs/sync-protocol.md §Push), after Replicache's push protocol:

* A mutation is acknowledged only after its effects are committed in the same transaction
  as the device's `last_seq` mark and its log row. A reply lost on the way back is harmless:
  the retry finds `seq <= last_seq` and answers `duplicate` with the stored result.
* `seq > last_seq + 1` is a gap: nothing from there on is applied; the answer says `expected`.
* A permanent failure (`Rejected`) is logged `rejected` and still advances `last_seq`.
* A temporary failure (the database is unavailable) rolls back the open transaction and
  stops; nothing unacknowledged advanced, so the device simply sends the batch again.
* Group commit: up to `commit_every` mutations share one transaction (one server version);
  each is still all-or-nothing. An integrity error in a group is replayed one mutation per
  transaction, so a single bad record is rejected instead of jamming the batch.
* Batching: a handler may `prefetch` what the whole group needs in a few queries, and queue
  plain rows with `ctx.writes.insert(table, row)`; queued rows go to the database in one
  executemany per table before any other handler runs and before the log rows, so they are
  in the same transaction and later mutations of the group read them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from sync.db import utcnow
from sync.errors import Rejected
from sync.models import APPLIED, DUPLICATE, REJECTED, DeviceState, MutationRecord
from sync.text import first_nul, without_nul
from sync.versions import next_version

#: The log as a plain table: its rows are inserted with one executemany per group.
LOG: Table = MutationRecord.__table__  # type: ignore[assignment]

#: A device clock further than this from the server's is flagged (display, never ordering).
CLOCK_SUSPECT_MS = 10 * 60 * 1000

#: Fault hook for tests: called with ("before_commit" | "after_commit", seq); may raise.
FaultHook = Callable[[str, int], None]


@dataclass(frozen=True)
class DeviceContext:
    """Who pushes: the device, its user's id, and the user object the handlers check."""

    device_id: uuid.UUID
    user_id: int
    actor: Any


@dataclass(frozen=True)
class Mutation:
    """One outbox entry as the device sent it."""

    seq: int
    op_id: uuid.UUID
    name: str
    args: dict[str, Any]
    recorded_at_device: dt.datetime | None = None
    base_version: int | None = None


class GroupWriter:
    """Rows queued by handlers for one executemany per table (see the module docstring)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._rows: dict[Table, list[dict[str, Any]]] = {}

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """Queue `row` for `table`; it is written before the group commits."""
        self._rows.setdefault(table, []).append(row)

    def flush(self) -> None:
        """Write every queued row now (raises IntegrityError like any insert)."""
        rows, self._rows = self._rows, {}
        for table, values in rows.items():
            self.session.execute(insert(table), values)

    def __bool__(self) -> bool:
        return bool(self._rows)


@dataclass(frozen=True)
class MutationContext:
    """What a handler gets besides its arguments.

    `batch` is what the handler's `prefetch` returned for this group (None without one);
    `writes` queues plain rows for a bulk insert.
    """

    session: Session
    device: DeviceContext
    mutation: Mutation
    version: int
    received_at: dt.datetime
    clock_offset_ms: int | None
    clock_suspect: bool
    batch: Any = None
    writes: GroupWriter | None = None


@dataclass(frozen=True)
class Handler:
    """A mutation type: `validate` turns raw args into clean ones (raising Rejected),
    `apply` writes the effects and returns a small JSON-able result (raising Rejected)."""

    validate: Callable[[dict[str, Any]], dict[str, Any]]
    apply: Callable[[MutationContext, dict[str, Any]], dict[str, Any]]
    #: True when `apply` raises Rejected only before its first write: no savepoint is needed
    #: (a savepoint per mutation costs a flush and two round trips).
    checks_before_writing: bool = False
    #: Optional: (session, DeviceContext, validated args of the group's mutations of this name)
    #: → state handed to each `apply` as `ctx.batch` (one query for the group instead of one
    #: per mutation). It must only read. A handler that queues rows on `ctx.writes` must keep
    #: that state current itself (a repeated id inside one group).
    prefetch: Callable[[Session, DeviceContext, list[dict[str, Any]]], Any] | None = None


@dataclass
class PushOutcome:
    """The answer to a push: per-mutation results, the device's mark, and what went wrong."""

    last_seq: int
    results: list[dict[str, Any]] = field(default_factory=list)
    expected: int | None = None  # set on a gap
    retry: bool = False  # a temporary failure stopped the batch


def clock_offset_ms(device_now: dt.datetime | None, server_now: dt.datetime) -> int | None:
    """device_now − server_now in milliseconds, or None when the device did not say.

    >>> now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> clock_offset_ms(now + dt.timedelta(days=3), now)
    259200000
    """
    if device_now is None:
        return None
    return int((device_now - server_now) / dt.timedelta(milliseconds=1))


def push(
    session: Session,
    device: DeviceContext,
    mutations: Sequence[Mutation],
    handlers: Mapping[str, Handler],
    *,
    device_now: dt.datetime | None = None,
    commit_every: int = 100,
    faults: FaultHook | None = None,
) -> PushOutcome:
    """Apply `mutations` (sorted by seq) and return the PushOutcome; commits as it goes.

    Raises nothing for bad mutations (they are rejected in the outcome); a database that is
    unavailable ends the batch with `retry=True` after rolling back the open transaction.
    """
    received_at = utcnow()
    offset = clock_offset_ms(device_now, received_at)
    suspect = offset is not None and abs(offset) > CLOCK_SUSPECT_MS
    batch = sorted(mutations, key=lambda m: m.seq)
    run = _Run(session, device, handlers, received_at, offset, suspect, faults)
    outcome = PushOutcome(last_seq=0)
    start = 0
    while True:
        try:
            done, stop = run.group(batch[start : start + commit_every], outcome)
        except IntegrityError:
            session.rollback()
            done, stop = run.group_one_by_one(batch[start : start + commit_every], outcome)
        except DBAPIError:
            session.rollback()
            outcome.retry = True
            outcome.last_seq = run.committed_last_seq()
            return outcome
        start += done
        if stop or start >= len(batch):
            outcome.last_seq = run.committed_last_seq()
            return outcome


class _Run:
    """One push request's state, split out so each step stays short."""

    def __init__(
        self,
        session: Session,
        device: DeviceContext,
        handlers: Mapping[str, Handler],
        received_at: dt.datetime,
        offset: int | None,
        suspect: bool,
        faults: FaultHook | None,
    ) -> None:
        self.session = session
        self.device = device
        self.handlers = handlers
        self.received_at = received_at
        self.offset = offset
        self.suspect = suspect
        self.faults = faults
        self.last_committed: int | None = None

    def committed_last_seq(self) -> int:
        if self.last_committed is None:
            state = self.session.get(DeviceState, self.device.device_id)
            self.last_committed = state.last_seq if state else 0
            self.session.rollback()
        return self.last_committed

    def group_one_by_one(self, group: Sequence[Mutation], outcome: PushOutcome) -> tuple[int, bool]:
        done = 0
        for mutation in group:
            try:
                n, stop = self.group([mutation], outcome, integrity_is_permanent=True)
            except DBAPIError:
                self.session.rollback()
                raise
            done += n
            if stop:
                return done, True
        return done, False

    def group(
        self,
        group: Sequence[Mutation],
        outcome: PushOutcome,
        *,
        integrity_is_permanent: bool = False,
    ) -> tuple[int, bool]:
        """Apply `group` in one transaction; return (mutations consumed, stop the batch)."""
        session = self.session
        version = next_version(session)  # the write lock: taken first, held until commit
        state = self._state()
        known = self._known_op_ids(group)
        prepared = self._prepare(group, state.last_seq)
        writes = GroupWriter(session)
        pending: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        consumed, stop, previous_name = 0, False, None
        for mutation in group:
            if mutation.seq <= state.last_seq:
                results.append(self._stored_result(mutation))
            elif mutation.seq > state.last_seq + 1:
                outcome.expected = state.last_seq + 1
                stop = True
                break
            else:
                if writes and mutation.name != previous_name:
                    writes.flush()  # another handler may read what the previous ones queued
                previous_name = mutation.name
                record = self._apply(
                    mutation, version, known, integrity_is_permanent, prepared, writes
                )
                pending.append(record)
                results.append(_result_of(record))
                state.last_seq = mutation.seq
                if self.faults:
                    self.faults("before_commit", mutation.seq)
            consumed += 1
        last_seq = state.last_seq
        if pending:
            writes.flush()
            session.execute(insert(LOG), pending)
            state.last_push_at = self.received_at
            state.last_clock_offset_ms = self.offset
            state.clock_suspect = self.suspect
            session.commit()
        else:
            session.rollback()  # only duplicates or a gap: nothing to write, release the lock
        self.last_committed = last_seq
        if pending and self.faults:
            self.faults("after_commit", last_seq)
        outcome.results.extend(results)
        return consumed, stop

    def _prepare(self, group: Sequence[Mutation], last_seq: int) -> _Prepared:
        """Validate the group's new mutations and run each handler's prefetch once."""
        prepared = _Prepared()
        by_name: dict[str, list[dict[str, Any]]] = {}
        for mutation in group:
            handler = self.handlers.get(mutation.name)
            if mutation.seq <= last_seq or handler is None:
                continue
            try:
                args = _validate(handler, mutation)
            except Rejected as rejected:
                prepared.args[mutation.seq] = rejected
                continue
            prepared.args[mutation.seq] = args
            if handler.prefetch is not None:
                by_name.setdefault(mutation.name, []).append(args)
        for name, args_list in by_name.items():
            prefetch = self.handlers[name].prefetch
            assert prefetch is not None
            prepared.batches[name] = prefetch(self.session, self.device, args_list)
        return prepared

    def _state(self) -> DeviceState:
        state = self.session.get(DeviceState, self.device.device_id, populate_existing=True)
        if state is None:
            state = DeviceState(
                device_id=self.device.device_id, user_id=self.device.user_id, last_seq=0
            )
            self.session.add(state)
        return state

    def _known_op_ids(self, group: Sequence[Mutation]) -> set[uuid.UUID]:
        ids = [m.op_id for m in group]
        return set(
            self.session.scalars(select(MutationRecord.op_id).where(MutationRecord.op_id.in_(ids)))
        )

    def _stored_result(self, mutation: Mutation) -> dict[str, Any]:
        stored = self.session.scalar(
            select(MutationRecord).where(
                MutationRecord.device_id == self.device.device_id,
                MutationRecord.seq == mutation.seq,
            )
        )
        if stored is None:  # below last_seq but never logged: only after a manual repair
            return {"seq": mutation.seq, "op_id": str(mutation.op_id), "status": DUPLICATE}
        answer = _result_of(_record_dict(stored))
        answer["original_status"] = answer["status"]
        answer["status"] = DUPLICATE
        if stored.op_id != mutation.op_id:
            answer["note"] = "op_id differs from the one applied at this seq"
        return answer

    def _apply(
        self,
        mutation: Mutation,
        version: int,
        known: set[uuid.UUID],
        integrity_is_permanent: bool,
        prepared: _Prepared,
        writes: GroupWriter,
    ) -> dict[str, Any]:
        record = self._record(mutation, version)
        try:
            if mutation.op_id in known:
                # Same op id under another seq or device: never apply one operation twice.
                raise Rejected("OP_ID_REUSED", "this op_id was already used by another mutation")
            known.add(mutation.op_id)
            handler = self.handlers.get(mutation.name)
            if handler is None:
                raise Rejected("UNKNOWN_MUTATION", f"unknown mutation {mutation.name!r}")
            args = prepared.args.get(mutation.seq)
            if args is None:
                args = _validate(handler, mutation)
            elif isinstance(args, Rejected):
                raise args
            context = MutationContext(
                self.session,
                self.device,
                mutation,
                version,
                self.received_at,
                self.offset,
                self.suspect,
                prepared.batches.get(mutation.name),
                writes,
            )
            if handler.checks_before_writing and not integrity_is_permanent:
                result = handler.apply(context, args)
            else:
                # A savepoint: a handler that rejects half-way leaves nothing behind, and a
                # queued row that breaks a constraint rejects this mutation alone.
                with self.session.begin_nested():
                    result = handler.apply(context, args)
                    writes.flush()
            record.update(status=APPLIED, result=result)
        except Rejected as rejected:
            if rejected.code == "OP_ID_REUSED":
                # op_id is UNIQUE in the log: this row gets a derived id, the sent one is kept.
                record["op_id"] = uuid.uuid5(
                    mutation.op_id, f"{self.device.device_id}:{mutation.seq}"
                )
                rejected.details["sent_op_id"] = str(mutation.op_id)
            record.update(
                status=REJECTED,
                reason_code=rejected.code,
                reason_message=rejected.message,
                result={"details": rejected.details} if rejected.details else {},
                # Only a rejected mutation can hold a NUL (`_validate`); the log keeps U+FFFD.
                name=without_nul(record["name"]),
                args=without_nul(record["args"]),
            )
        except IntegrityError as error:
            if not integrity_is_permanent:
                raise
            record.update(
                status=REJECTED,
                reason_code="INTEGRITY",
                reason_message=str(error.orig)[:500],
                result={},
            )
        return record

    def _record(self, mutation: Mutation, version: int) -> dict[str, Any]:
        return {
            "device_id": self.device.device_id,
            "user_id": self.device.user_id,
            "seq": mutation.seq,
            "op_id": mutation.op_id,
            "name": mutation.name[:40],
            "args": mutation.args,
            "base_version": mutation.base_version,
            "server_version": version,
            "recorded_at_device": mutation.recorded_at_device,
            "received_at": self.received_at,
            "clock_offset_ms": self.offset,
            "clock_suspect": self.suspect,
            "reason_code": None,
            "reason_message": None,
        }


@dataclass
class _Prepared:
    """A group's validated args (or the rejection) by seq, and each handler's prefetch."""

    args: dict[int, dict[str, Any] | Rejected] = field(default_factory=dict)
    batches: dict[str, Any] = field(default_factory=dict)


def _validate(handler: Handler, mutation: Mutation) -> dict[str, Any]:
    """The handler's clean args; Rejected for text no database can hold (a NUL), whatever the
    handler (its log row keeps the args with U+FFFD in place of each NUL)."""
    where = first_nul(mutation.args)
    if where is not None:
        raise Rejected("INVALID_ARGS", "text may not contain a NUL character (U+0000)", field=where)
    return handler.validate(mutation.args)


def _record_dict(row: MutationRecord) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "op_id": row.op_id,
        "status": row.status,
        "server_version": row.server_version,
        "reason_code": row.reason_code,
        "reason_message": row.reason_message,
        "result": row.result,
    }


def _result_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The wire form of one mutation's outcome."""
    result = dict(record.get("result") or {})
    sent_op_id = (result.get("details") or {}).get("sent_op_id")
    answer: dict[str, Any] = {
        "seq": record["seq"],
        "op_id": sent_op_id or str(record["op_id"]),
        "status": record["status"],
        "version": record["server_version"],
    }
    if record["status"] == REJECTED:
        answer["reason"] = {"code": record["reason_code"], "message": record["reason_message"]}
        if result.get("details"):
            answer["reason"]["details"] = result["details"]
    else:
        conflicts = result.pop("conflicts", None)
        if conflicts:
            answer["conflict"] = conflicts
        if result:
            answer["result"] = result
    return answer
