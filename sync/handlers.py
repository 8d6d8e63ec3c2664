"""What a mutation handler is, and what it gets: the types between the push engine
(`sync.engine`) and the handlers a server registers (server/fieldsync/operations.py).

Framework-free. The engine's rules for using them are in sync/engine.py and
docs/sync-protocol.md §Push.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Table
from sqlalchemy.orm import Session

from sync.batching import GroupWriter


@dataclass(frozen=True)
class DeviceContext:
    """Who pushes: the device, its user's id, and the user object the handlers check."""

    device_id: uuid.UUID
    user_id: int
    actor: Any


class Mutation(NamedTuple):
    """One outbox entry as the device sent it.

    Immutable, and a NamedTuple rather than a frozen dataclass: a push builds one per entry
    and a context per entry it applies, and a frozen dataclass's `__init__` (one
    `object.__setattr__` per field) costs ~0.7 and 1 µs of a visit's ~30 where a NamedTuple
    costs ~0.25 (timeit, docs/scaling.md "Third pass")."""

    seq: int
    op_id: uuid.UUID
    name: str
    args: dict[str, Any]
    recorded_at_device: dt.datetime | None = None
    base_version: int | None = None


class MutationContext(NamedTuple):
    """What a handler gets besides its arguments (immutable; a NamedTuple as `Mutation`).

    `batch` is what the handler's `prefetch` returned for this group (None without one);
    `writes` queues plain rows for a bulk insert.
    """

    session: Session
    device: DeviceContext
    mutation: Mutation
    #: The group's version, taken from the version clock on the first call (see `version`).
    clock: Callable[[], int]
    received_at: dt.datetime
    clock_offset_ms: int | None
    clock_suspect: bool
    batch: Any = None
    writes: GroupWriter | None = None

    @property
    def version(self) -> int:
        """The group's server version. Reading it takes the version clock (the write lock)
        if the group has not yet; an append-only handler queues `sync.batching.PENDING`
        instead, so that it runs before the lock."""
        return self.clock()


class PlainRows(NamedTuple):
    """What a handler's plain path (`Handler.plain`) writes for the plain mutations of a
    group: one row each in `table`, given as a tuple of `keys`' values, plus `constants`
    (columns with one value in every row; `sync.batching.PENDING` for the group's version)."""

    table: Table
    keys: tuple[str, ...]
    constants: dict[str, Any]
    #: seq → (the row's values in `keys` order, the mutation's result, and that result's JSON
    #: text exactly as `sync.db.json_text` writes it, or None), for each mutation the path
    #: writes; the others are left to `validate` and `apply`. The text spares the log's JSON
    #: column its encoder where the database stores text (`sync.bulk.stored_as_text`).
    rows: dict[int, tuple[tuple[Any, ...], dict[str, Any], str | None]]
    #: The keys whose values the rows give in their stored form (`sync.bulk.stored_as_text`).
    stored: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Handler:
    """A mutation type: `validate` turns raw args into clean ones (raising Rejected),
    `apply` writes the effects and returns a small JSON-able result (raising Rejected)."""

    validate: Callable[[dict[str, Any]], dict[str, Any]]
    apply: Callable[[MutationContext, dict[str, Any]], dict[str, Any]]
    #: True when `apply` raises Rejected only before its first write: no savepoint is needed
    #: (a savepoint per mutation costs a flush and two round trips). Anything else it raises
    #: in a group rolls the group back and replays it one mutation at a time, in savepoints.
    checks_before_writing: bool = False
    #: Optional: (session, DeviceContext, validated args of the group's mutations of this name)
    #: → state handed to each `apply` as `ctx.batch` (one query for the group instead of one
    #: per mutation). It must only read. A handler that queues rows on `ctx.writes` must keep
    #: that state current itself (a repeated id inside one group). It runs before the group
    #: takes the version clock: what it read may have changed by commit (see `append_only`).
    prefetch: Callable[[Session, DeviceContext, list[dict[str, Any]]], Any] | None = None
    #: Optional: the prefetch of a group's first try (`_Run.group`), which may leave out
    #: whether the rows the group adds exist already (a new visit's id): a unique key says so
    #: when they are written, and the group is then run again with `prefetch`. Saves reading
    #: back a thousand ids a push that are nearly always new (~3 ms on PostgreSQL). Whoever
    #: replaces `prefetch` (a test pausing it) replaces or clears this one too.
    prefetch_new: Callable[[Session, DeviceContext, list[dict[str, Any]]], Any] | None = None
    #: True, or a test of the validated args, when `apply` (which must check before writing)
    #: only adds new rows with ids the phone minted, queued on `ctx.writes` with version
    #: PENDING (or built before the clock and added by a step queued with
    #: `ctx.writes.under_clock`, which also reads what must hold at commit, like a counter),
    #: and nothing else it reads must still hold at commit beyond what a unique key or a
    #: foreign key re-checks when the row is written. Such a mutation runs before the group
    #: takes the version clock, on reads (its prefetch too) that may be a few milliseconds
    #: old (docs/sync-protocol.md §The serial section), and sees nothing another handler of
    #: the group queued (its own handler's batch state is its to keep current). Anything
    #: else runs under the clock, after the queued rows are written.
    append_only: bool | Callable[[dict[str, Any]], bool] = False
    #: True, or a test of `apply`'s result, when an applied mutation's effects are one new
    #: row that holds every argument it was sent, named by the result (a new visit: its id is
    #: `result["visit_id"]`). Its log row then stores empty `args` (the narrow log row,
    #: docs/sync-protocol.md §Push): the row is the record of what was sent, the log keeps
    #: the at-most-once facts and the result the duplicate answer replays. A rejected
    #: mutation's log row always keeps its arguments.
    row_keeps_args: bool | Callable[[dict[str, Any]], bool] = False
    #: Optional: a loader for the plain args a phone sends by the thousand, returning what
    #: `validate` would, or None for anything else (then the generic screen and `validate`
    #: decide). What it returns it vouches is storable as sent (`sync.records.screen` would
    #: find nothing), so the screen is skipped for it: ~3 µs of ~50 per mutation.
    load_plain: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None
    #: Optional: the plain path of a group's first try, for what a phone sends by the
    #: thousand: (session, device, the group's received_at, its new mutations of this name)
    #: → `PlainRows`, the row and result of each mutation, without a base version, it vouches
    #: `validate` and `apply` (with `prefetch_new`) would apply exactly so, as one new row
    #: holding every argument (so its log row stores none, as `row_keeps_args`), checked
    #: only against what a push never writes and what a unique key re-checks at write (as
    #: `append_only`). It must only read. The engine writes those rows as tuples with one
    #: bulk insert, and their log rows likewise, skipping per mutation the dicts and the
    #: bookkeeping of `apply` (~5 µs of a visit's ~60, docs/scaling.md "Fifth pass"); it
    #: gives the mutations left out to `validate` and `apply`, as it does a replayed group's.
    #: Whoever replaces `apply` or `prefetch` (a test breaking or pausing one) replaces or
    #: clears this one too.
    plain: Callable[[Session, DeviceContext, dt.datetime, Sequence[Mutation]], PlainRows] | None = (
        None
    )
