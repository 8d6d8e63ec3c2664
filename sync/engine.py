"""Push: apply a device's batch of mutations at most once each, in seq order.

The rules (docs/sync-protocol.md §Push), after Replicache's push protocol:

* A mutation is acknowledged only after its effects are committed in the same transaction
  as the device's `last_seq` mark and its log row. A reply lost on the way back is harmless:
  the retry finds `seq <= last_seq` and answers `duplicate` with the stored result.
* `seq > last_seq + 1` is a gap: nothing from there on is applied; the answer says `expected`.
* A permanent failure (`Rejected`) is logged `rejected` and still advances `last_seq`.
* A temporary failure (the database is unavailable or locked, a serialization race, a full
  disk: `sync.failures.is_temporary`) rolls back the open transaction and stops; nothing
  unacknowledged advanced, so the device simply sends the batch again.
* Any other failure is one mutation's: it is rejected alone (`INTEGRITY` for a broken
  constraint, `INTERNAL_ERROR`, logged at error level with its traceback, for anything a
  handler did not expect), its savepoint rolled back, and the batch goes on.
* Group commit: up to `commit_every` mutations share one transaction (one server version);
  each is still all-or-nothing. A failure a group cannot pin on one mutation (a handler
  without a savepoint, a batched insert, a prefetch) rolls the group back and replays it one
  mutation per transaction, each in a savepoint, up to the mutation that was running; the
  rest goes on in groups. So a single bad record is rejected instead of jamming the batch.
* Batching: a handler may `prefetch` what the whole group needs in a few queries, and queue
  plain rows with `ctx.writes.insert(table, row)`; queued rows go to the database in one
  bulk insert per table (`sync.bulk`: COPY on PostgreSQL) before any other handler runs and
  before the log rows, so they are in the same transaction and later mutations of the group
  read them.
* The serial section (docs/sync-protocol.md §The serial section): the version clock
  (`sync.versions.next_version`, the write lock of the whole database) is taken as late as
  possible and held until commit. The device's mark, the op-id check, validation and
  prefetch are read before it; append-only mutations (`Handler.append_only`) run before it
  and queue their rows with version PENDING (or steps to run under the clock); the clock is
  taken before the first write — the first mutation that is not append-only (queued rows
  are written first), or the final flush of queued rows and the log —
  and then the device's mark is read again: if another push of the same device committed
  in between, the group starts over with the clock taken first. Every write of a group is
  made under the clock, so versions still commit in clock order.
* First try: a group that is not a replay reads neither its op ids from the log nor (with
  `Handler.prefetch_new`) whether the rows it adds exist; the unique keys check both at
  write, and a unique violation runs the group again whole with every check, clock first.
* Runs: consecutive new append-only mutations of one handler before the clock are applied
  in one loop (`_Run._apply_run`), each exactly as `_apply` would, without its per-mutation
  bookkeeping (tests/sync/test_visit_runs.py holds the two to the same answers and rows).
* Plain paths: in a first try, a handler with `Handler.plain` checks its new mutations and
  builds their rows as tuples before the group (`_prepare`); consecutive ones are queued as
  they are (`_Run._apply_plain`) and logged with one bulk insert at commit (`_log_plain`);
  the rest go to `validate` and `apply` (tests/sync/test_plain_visits.py: same answers, rows).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync.batching import PENDING, GroupWriter
from sync.bulk import insert_rows, insert_tuples, stored_as_text
from sync.db import among, json_text, utcnow
from sync.errors import Rejected
from sync.failures import Where, is_temporary, log, unplanned
from sync.handlers import DeviceContext, Handler, Mutation, MutationContext, PlainRows
from sync.models import APPLIED, DUPLICATE, DeviceState, MutationRecord
from sync.records import record_of, reject, result_of, screen, storable_base_version
from sync.versions import next_version

#: The log as a plain table: its rows are inserted with one executemany per group.
LOG: Table = MutationRecord.__table__  # type: ignore[assignment]

#: The `args` of a narrow log row (`Handler.row_keeps_args`). One shared object, never
#: changed, so the bulk insert serialises it once per group (`sync.bulk`).
NO_ARGS: Mapping[str, Any] = {}

#: The log columns a plain path's mutation fills itself (`_Run._log_plain`).
_PLAIN_LOG_KEYS = ("seq", "op_id", "name", "recorded_at_device", "result")
_RESULT = frozenset({"result"})

#: A device clock further than this from the server's is flagged (display, never ordering).
CLOCK_SUSPECT_MS = 10 * 60 * 1000

#: Fault hook for tests: called with ("before_commit" | "after_commit", seq); may raise.
FaultHook = Callable[[str, int], None]


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

    Raises nothing for bad mutations: each is rejected alone in the outcome, whatever its
    handler raised. A temporary failure (`sync.failures.is_temporary`) ends the batch with
    `retry=True` after rolling back the open transaction. Only a failure of the engine's own
    bookkeeping that no single mutation explains propagates.
    """
    received_at = utcnow()
    offset = clock_offset_ms(device_now, received_at)
    suspect = offset is not None and abs(offset) > CLOCK_SUSPECT_MS
    batch = sorted(mutations, key=lambda m: m.seq)
    run = _Run(session, device, handlers, received_at, offset, suspect, faults)
    outcome = PushOutcome(last_seq=0)
    start = 0
    while True:
        commits = run.commits
        try:
            done, stop = run.group_or_replay(batch[start : start + commit_every], outcome)
        except Exception as error:
            if not is_temporary(error):
                raise
            session.rollback()
            outcome.retry = True
            outcome.last_seq = run.committed_last_seq()
            return outcome
        if faults and run.commits > commits:
            faults("after_commit", run.committed_last_seq())
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
        self.commits = 0
        #: The highest seq that can have caused a failure of the open group.
        self.culprit_bound = 0
        #: Seqs whose unplanned failure is already in the log (a replay meets it again).
        self.logged: set[int] = set()
        #: The open group's version, once it has taken the version clock.
        self.version: int | None = None
        #: The device's mark as read before the clock (None: the clock was taken first).
        self.unlocked_last_seq: int | None = None
        #: The open group is a first try that leaves some checks to unique keys (`group`).
        self.optimistic = False

    def committed_last_seq(self) -> int:
        if self.last_committed is None:
            state = self.session.get(DeviceState, self.device.device_id)
            self.last_committed = state.last_seq if state else 0
            self.session.rollback()
        return self.last_committed

    def group_or_replay(self, group: Sequence[Mutation], outcome: PushOutcome) -> tuple[int, bool]:
        """Apply `group` in one transaction; if it fails and the failure is not temporary,
        replay it one mutation per transaction up to the one that was running."""
        try:
            try:
                return self.group(group, outcome)
            except _Raced:
                self.session.rollback()
                log.info("push: another push of this device committed first; group again")
                outcome.expected = None  # a gap seen before the other push committed
                return self.group(group, outcome, clock_first=True)
        except Exception as error:
            self.session.rollback()
            if is_temporary(error):
                raise
            if self.optimistic and isinstance(error, IntegrityError):
                # The first try left out the reads a unique key repeats at write (an op id or
                # a row id already taken): once more with them, under the clock.
                log.info("push: a group's first try failed (%r); again with every check", error)
                try:
                    return self.group(group, outcome, clock_first=True)
                except Exception as again:
                    self.session.rollback()
                    if is_temporary(again):
                        raise
                    error = again
            log.info("push: a group of %d failed (%r); replaying it one by one", len(group), error)
            return self.replay(group, outcome, through=self.culprit_bound)

    def replay(
        self, group: Sequence[Mutation], outcome: PushOutcome, *, through: int
    ) -> tuple[int, bool]:
        """Each mutation up to seq `through` in its own transaction and savepoint, so a
        failure is pinned on the one that raised it; the rest goes back to groups."""
        done = 0
        for mutation in group:
            if mutation.seq > through and done:
                break
            try:
                n, stop = self.group([mutation], outcome, isolated=True)
            except Exception as error:
                self.session.rollback()
                if is_temporary(error):
                    raise
                n, stop = self._reject_alone(mutation, error, outcome), False
            done += n
            if stop:
                return done, True
        return done, False

    def group(
        self,
        group: Sequence[Mutation],
        outcome: PushOutcome,
        *,
        isolated: bool = False,
        clock_first: bool = False,
    ) -> tuple[int, bool]:
        """Apply `group` in one transaction; return (mutations consumed, stop the batch).

        `isolated`: every mutation runs in a savepoint, and a failure it raises (other than a
        temporary one) rejects it alone instead of failing the group. It and `clock_first`
        take the version clock before anything is read, as every group did before it was
        taken late (module docstring); raises _Raced when taken late and the device's mark
        moved meanwhile.

        Otherwise the group is a first try, optimistic: it does not look up its op ids, and
        prefetches with `Handler.prefetch_new` where there is one, leaving out what a unique
        key checks again when the rows are written (an op id in the log, a new row's id).
        Every new mutation writes a log row under its op id, so a reused one fails the
        group's insert; `group_or_replay` then runs it again with every check.
        """
        session = self.session
        self.culprit_bound = group[-1].seq if group else 0
        self.version, self.unlocked_last_seq = None, None
        self.optimistic = not (isolated or clock_first)
        if not self.optimistic:
            self._take_clock()
        last_seq = self._last_seq()
        if self.version is None:
            self.unlocked_last_seq = last_seq
        known = set() if self.optimistic else self._known_op_ids(group)
        prepared = self._prepare(group, last_seq)
        writes = GroupWriter(session, self._take_clock)
        pending: list[dict[str, Any]] = []
        plain: list[_PlainApplied] = []
        # A stored result, or a record or a _PlainApplied (answered at commit).
        answers: list[dict[str, Any] | _PlainApplied] = []
        consumed, stop, previous_name = 0, False, None
        while consumed < len(group):
            mutation = group[consumed]
            if mutation.seq <= last_seq:
                answers.append(self._stored_result(mutation))
            elif mutation.seq > last_seq + 1:
                outcome.expected = last_seq + 1
                stop = True
                break
            else:
                run = self._plain_run(group, consumed, known, prepared)
                if run:
                    # Rows checked and built by the handler's plain path before the group
                    # began: they read nothing queued, and may go before or under the clock.
                    done = self._apply_plain(run, known, prepared, writes)
                    plain.extend(done)
                    answers.extend(done)
                else:
                    run, records = self._apply_next(
                        group, consumed, known, isolated, prepared, writes, previous_name
                    )
                    pending.extend(records)
                    answers.extend(records)
                previous_name = mutation.name
                last_seq = run[-1].seq
                if self.faults:
                    for applied in run:
                        self.faults("before_commit", applied.seq)
                consumed += len(run) - 1
            consumed += 1
        self.culprit_bound = group[-1].seq if group else 0
        version = None
        if pending or plain:
            version = self._take_clock()  # the serial section: from here to the commit
            writes.flush()
            for record in pending:
                record["server_version"] = version
            insert_rows(session, LOG, pending)
            self._log_plain(plain, version)
            state = self._state()
            state.last_seq = last_seq
            state.last_push_at = self.received_at
            state.last_clock_offset_ms = self.offset
            state.clock_suspect = self.suspect
            session.commit()
            self.commits += 1
        else:
            session.rollback()  # only duplicates or a gap: nothing to write, release the lock
        self.last_committed = last_seq
        # A log record (it has a server_version) is answered now that its version is known.
        outcome.results.extend(
            _plain_answer(a, version)
            if isinstance(a, _PlainApplied)
            else result_of(a)
            if "server_version" in a
            else a
            for a in answers
        )
        return consumed, stop

    def _plain_run(
        self, group: Sequence[Mutation], start: int, known: set[uuid.UUID], prepared: _Prepared
    ) -> list[Mutation]:
        """The mutations from `group[start]` on that one handler's plain path writes (seqs
        following on, op ids not met before); empty when `group[start]` is not one."""
        first = group[start]
        name = prepared.plain_seqs.get(first.seq)
        if name is None:
            return []
        seqs = prepared.plain_seqs
        return _run_while(group, start, known, lambda mutation: seqs.get(mutation.seq) == name)

    def _apply_plain(
        self, run: list[Mutation], known: set[uuid.UUID], prepared: _Prepared, writes: GroupWriter
    ) -> list[_PlainApplied]:
        """Queue the rows of `run` (`_plain_run`) as its handler's plain path built them."""
        self.culprit_bound = run[-1].seq
        written = prepared.plain[run[0].name]
        rows = written.rows
        values, done = [], []
        for mutation in run:
            known.add(mutation.op_id)
            row, result, result_text = rows[mutation.seq]
            values.append(row)
            done.append(_PlainApplied(mutation, result, result_text))
        writes.insert_tuples(written.table, written.keys, values, written.constants, written.stored)
        return done

    def _log_plain(self, plain: list[_PlainApplied], version: int) -> None:
        """The log rows of mutations written by plain paths: applied, no args kept (the row
        holds them, as `Handler.row_keeps_args`), as `_record` and `_applied` make them.
        Where the log's JSON is stored as text, the results go as their text (the one a
        plain path gave, else `json_text`'s)."""
        as_text = stored_as_text(self.session, LOG, _RESULT)
        rows = [
            (p.mutation.seq, p.mutation.op_id, p.mutation.name[:40], p.mutation.recorded_at_device,
             (p.result_text or json_text(p.result)) if as_text else p.result)
            for p in plain
        ]  # fmt: skip
        constants = {
            "device_id": self.device.device_id,
            "user_id": self.device.user_id,
            "args": NO_ARGS,
            "base_version": None,
            "server_version": version,
            "received_at": self.received_at,
            "clock_offset_ms": self.offset,
            "clock_suspect": self.suspect,
            "reason_code": None,
            "reason_message": None,
            "status": APPLIED,
        }
        stored = _RESULT if as_text else frozenset()
        insert_tuples(self.session, LOG, _PLAIN_LOG_KEYS, rows, constants, stored)

    def _apply_next(
        self,
        group: Sequence[Mutation],
        start: int,
        known: set[uuid.UUID],
        isolated: bool,
        prepared: _Prepared,
        writes: GroupWriter,
        previous_name: str | None,
    ) -> tuple[list[Mutation], list[dict[str, Any]]]:
        """Apply `group[start]`, or the run of mutations from it that `_apply_run` applies
        together; return them and their log records."""
        mutation = group[start]
        early = self.version is None and self._runs_unlocked(mutation, known, isolated, prepared)
        if writes and mutation.name != previous_name and not early:
            # A handler under the clock may read what the previous ones queued; one before
            # the clock reads only what is committed (Handler.append_only).
            writes.flush()
        run = self._run_from(group, start, known, prepared) if early else []
        if run:
            return run, self._apply_run(run, known, prepared, writes)
        self.culprit_bound = mutation.seq
        if not early:
            self._take_clock()
        return [mutation], [self._apply(mutation, known, isolated, prepared, writes)]

    def _take_clock(self) -> int:
        """The group's version: bumps the version clock on the first call (the write lock,
        held until commit), and, if the device's mark was read before, reads it again under
        the lock; raises _Raced if another push of this device committed in between."""
        if self.version is None:
            self.version = next_version(self.session)
            if self.unlocked_last_seq is not None and self._last_seq() != self.unlocked_last_seq:
                raise _Raced()
        return self.version

    def _run_from(
        self, group: Sequence[Mutation], start: int, known: set[uuid.UUID], prepared: _Prepared
    ) -> list[Mutation]:
        """The mutations from `group[start]` on that `_apply_run` may apply together: new (seqs
        following on), of one name, validated, append-only and checking before writing, with
        op ids not met before; empty when `group[start]` is not one. Called only for a
        mutation that runs before the clock, so never in an isolated group."""
        first = group[start]
        handler = self.handlers.get(first.name)
        if handler is None or not handler.checks_before_writing:
            return []

        def fits(mutation: Mutation) -> bool:
            args = prepared.args.get(mutation.seq)
            return (
                mutation.name == first.name
                and isinstance(args, dict)
                and _appends_only(handler, args)
            )

        return _run_while(group, start, known, fits)

    def _apply_run(
        self,
        run: list[Mutation],
        known: set[uuid.UUID],
        prepared: _Prepared,
        writes: GroupWriter,
    ) -> list[dict[str, Any]]:
        """The log records of `run` (`_run_from`): what `_apply` does for each, without what
        the run's facts already settle (op id, handler, args, no savepoint): ~2.5 µs of a
        visit's ~45. A Rejected rejects its mutation alone; anything else the handler raises
        fails the group, as in `_apply` outside a savepoint (the group is replayed)."""
        name = run[0].name
        handler = self.handlers[name]
        apply, batch = handler.apply, prepared.batches.get(name)
        records = []
        for mutation in run:
            self.culprit_bound = mutation.seq
            known.add(mutation.op_id)
            record = self._record(mutation, PENDING)  # stamped at commit
            context = self._context(mutation, batch, writes)
            try:
                result = apply(context, prepared.args[mutation.seq])  # type: ignore[arg-type]
            except Rejected as rejected:
                reject(record, rejected, mutation.op_id, self.device.device_id)
            else:
                _applied(record, handler, result)
            records.append(record)
        return records

    def _context(self, mutation: Mutation, batch: Any, writes: GroupWriter) -> MutationContext:
        return MutationContext(
            self.session,
            self.device,
            mutation,
            self._take_clock,
            self.received_at,
            self.offset,
            self.suspect,
            batch,
            writes,
        )

    def _runs_unlocked(
        self, mutation: Mutation, known: set[uuid.UUID], isolated: bool, prepared: _Prepared
    ) -> bool:
        """True when `mutation` may run before the clock: it writes nothing (an unknown name,
        a reused op id, args already rejected) or is append-only, and not in a savepoint."""
        if self.version is not None:
            return True  # the clock is held already
        handler = self.handlers.get(mutation.name)
        args = prepared.args.get(mutation.seq)
        if handler is None or mutation.op_id in known or isinstance(args, Rejected):
            return True
        if isolated or args is None or not handler.checks_before_writing:
            return False
        return _appends_only(handler, args)

    def _prepare(self, group: Sequence[Mutation], last_seq: int) -> _Prepared:
        """Validate the group's new mutations and run each handler's prefetch once; in a
        first try, hand each handler's new mutations to its plain path first (`Handler.plain`)
        and validate only those it leaves out."""
        prepared = _Prepared()
        by_name: dict[str, list[dict[str, Any]]] = {}
        general: list[Mutation] = []
        plain: dict[str, list[Mutation]] = {}
        for mutation in group:
            handler = self.handlers.get(mutation.name)
            if mutation.seq <= last_seq or handler is None:
                continue
            if self.optimistic and handler.plain is not None:
                plain.setdefault(mutation.name, []).append(mutation)
            else:
                general.append(mutation)
        for name, mutations in plain.items():
            plain_path = self.handlers[name].plain
            assert plain_path is not None
            written = plain_path(self.session, self.device, self.received_at, mutations)
            prepared.plain[name] = written
            for mutation in mutations:
                if mutation.seq in written.rows:
                    prepared.plain_seqs[mutation.seq] = name
                else:
                    general.append(mutation)
        for mutation in general:
            handler = self.handlers[mutation.name]
            try:
                args = _validate(handler, mutation)
            except Rejected as rejected:
                prepared.args[mutation.seq] = rejected
                continue
            except Exception as error:  # a validator's bug: it only reads its input
                if is_temporary(error):
                    raise
                prepared.args[mutation.seq] = self._internal_error(mutation, error)
                continue
            prepared.args[mutation.seq] = args
            if handler.prefetch is not None:
                by_name.setdefault(mutation.name, []).append(args)
        for name, args_list in by_name.items():
            handler = self.handlers[name]
            prefetch = (self.optimistic and handler.prefetch_new) or handler.prefetch
            assert prefetch is not None
            prepared.batches[name] = prefetch(self.session, self.device, args_list)
        return prepared

    def _last_seq(self) -> int:
        """The device's mark as committed now (READ COMMITTED: a fresh read each time)."""
        found = self.session.scalar(
            select(DeviceState.last_seq).where(DeviceState.device_id == self.device.device_id)
        )
        return int(found) if found is not None else 0

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
            self.session.scalars(
                select(MutationRecord.op_id).where(among(self.session, MutationRecord.op_id, ids))
            )
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
        answer = result_of(record_of(stored))
        answer["original_status"] = answer["status"]
        answer["status"] = DUPLICATE
        if stored.op_id != mutation.op_id:
            answer["note"] = "op_id differs from the one applied at this seq"
        return answer

    def _apply(
        self,
        mutation: Mutation,
        known: set[uuid.UUID],
        isolated: bool,
        prepared: _Prepared,
        writes: GroupWriter,
    ) -> dict[str, Any]:
        record = self._record(mutation, PENDING)  # stamped at commit
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
            context = self._context(mutation, prepared.batches.get(mutation.name), writes)
            if handler.checks_before_writing and not isolated:
                result = handler.apply(context, args)
            else:
                # A savepoint: a handler that fails half-way leaves nothing behind, and a
                # queued row that breaks a constraint rejects this mutation alone.
                with self.session.begin_nested():
                    result = handler.apply(context, args)
                    writes.flush()
            _applied(record, handler, result)
        except Exception as error:
            rejected = self._rejection(mutation, error, isolated)
            if rejected is None:
                raise  # temporary, or not yet pinned on this mutation: the group decides
            reject(record, rejected, mutation.op_id, self.device.device_id)
        return record

    def _rejection(self, mutation: Mutation, error: Exception, isolated: bool) -> Rejected | None:
        """The rejection `error` amounts to, or None when it is not this mutation's alone (a
        temporary failure; or raised in a group, where a savepoint-less handler or a batched
        row may have left the transaction half-written: the group is replayed)."""
        if isinstance(error, Rejected):
            return error
        if not isolated or is_temporary(error):
            return None
        if isinstance(error, IntegrityError):
            return Rejected("INTEGRITY", str(error.orig)[:500])
        return self._internal_error(mutation, error)

    def _internal_error(self, mutation: Mutation, error: BaseException) -> Rejected:
        """INTERNAL_ERROR for a failure nobody planned for, logged once per mutation."""
        first = mutation.seq not in self.logged
        self.logged.add(mutation.seq)
        where = Where(self.device.device_id, mutation.seq, mutation.op_id, mutation.name)
        return unplanned(error, where, log_it=first)

    def _reject_alone(self, mutation: Mutation, error: Exception, outcome: PushOutcome) -> int:
        """The last resort, for a mutation that failed outside its savepoint on its own (its
        prefetch, its log row): record it rejected in a transaction of its own, with its
        arguments if they can be kept (else without), and move the seq on. Returns 1."""
        state = self._state()
        if mutation.seq != state.last_seq + 1:  # a replayed duplicate cannot be re-decided
            self.session.rollback()
            raise error
        rejected = self._internal_error(mutation, error)
        self.session.rollback()
        for keep_args in (True, False):
            version = next_version(self.session)
            state = self._state()
            record = self._record(mutation, version)
            reject(record, rejected, mutation.op_id, self.device.device_id)
            if not keep_args:
                record.update(args={}, recorded_at_device=None, base_version=None)
            try:
                self.session.execute(insert(LOG), [record])
                state.last_seq = mutation.seq
                state.last_push_at = self.received_at
                self.session.commit()
            except Exception as failure:
                self.session.rollback()
                if keep_args and not is_temporary(failure):
                    continue
                raise
            self.commits += 1
            self.last_committed = mutation.seq
            outcome.results.append(result_of(record))
            return 1
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(self, mutation: Mutation, version: Any) -> dict[str, Any]:
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


class _Raced(Exception):
    """Another push of the same device committed between reading its mark and the clock."""


@dataclass
class _Prepared:
    """A group's validated args (or the rejection) by seq, and each handler's prefetch."""

    args: dict[int, dict[str, Any] | Rejected] = field(default_factory=dict)
    batches: dict[str, Any] = field(default_factory=dict)
    #: What each handler's plain path writes (`Handler.plain`), by name, and by seq the
    #: name of the path that writes it.
    plain: dict[str, PlainRows] = field(default_factory=dict)
    plain_seqs: dict[int, str] = field(default_factory=dict)


class _PlainApplied(NamedTuple):
    """A mutation written by a plain path: answered, and logged, at commit."""

    mutation: Mutation
    result: dict[str, Any]
    result_text: str | None  # `json_text(result)`, when the plain path gave it


def _plain_answer(applied: _PlainApplied, version: int | None) -> dict[str, Any]:
    """The answer `result_of` gives an applied mutation's log record, for one written by a
    plain path."""
    return {
        "seq": applied.mutation.seq,
        "op_id": str(applied.mutation.op_id),
        "status": APPLIED,
        "version": version,
        "result": applied.result,
    }


def _run_while(
    group: Sequence[Mutation],
    start: int,
    known: set[uuid.UUID],
    fits: Callable[[Mutation], bool],
) -> list[Mutation]:
    """The mutations from `group[start]` on that `fits`, with seqs following on and op ids
    not met before (in `known` or earlier in the run)."""
    first = group[start].seq
    seen: set[uuid.UUID] = set()
    run: list[Mutation] = []
    for mutation in group[start:]:
        if (
            mutation.seq != first + len(run)
            or mutation.op_id in known
            or mutation.op_id in seen
            or not fits(mutation)
        ):
            break
        seen.add(mutation.op_id)
        run.append(mutation)
    return run


def _appends_only(handler: Handler, args: dict[str, Any]) -> bool:
    """Whether `handler.append_only` holds for these validated args."""
    test = handler.append_only
    return test(args) if callable(test) else test


def _applied(record: dict[str, Any], handler: Handler, result: dict[str, Any]) -> None:
    """Mark a log record applied with `result`; a narrow one keeps no args
    (`Handler.row_keeps_args`)."""
    record["status"], record["result"] = APPLIED, result
    keeps = handler.row_keeps_args
    if keeps is True or (callable(keeps) and keeps(result)):
        record["args"] = NO_ARGS


def _validate(handler: Handler, mutation: Mutation) -> dict[str, Any]:
    """The handler's clean args; Rejected first, whatever the handler, for what no log row can
    hold (`sync.records.screen`), unless its plain loader answers (`Handler.load_plain`)."""
    if handler.load_plain is not None and storable_base_version(mutation.base_version):
        loaded = handler.load_plain(mutation.args)
        if loaded is not None:
            return loaded
    screen(mutation.args, mutation.base_version)
    return handler.validate(mutation.args)
