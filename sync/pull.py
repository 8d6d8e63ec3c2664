"""Pull: the changes after a cursor, from several scoped sources, in one server order.

Each change has a key (version, rank of its table, id). A page is the `limit` smallest keys
above the cursor among rows with version <= the snapshot's clock; the cursor handed back is
the last key sent. A row changed between two pages gets a new, higher version, so it moves
*ahead* of the cursor: pages never skip a row, and never send the same (row, version) twice
(Kinto's `_since` + Replicache's global version, keyset-paginated).

Two steps per page, so no row is loaded that the page does not send: each source first lists
only the keys (version, id) after the cursor, at most limit + 1 of them (an index scan);
the `limit` smallest keys of all sources make the page; then each source loads the full rows
of just its keys on the page, in one query.

A scope change (a duty ended, a cell gained, a grid republished) is sent in the stream too:
when the cursor names another scope than the worker's current one, the server supplies
*transition* sources (what left the scope, as deletions; what entered it with a version the
cursor has passed, as upserts). Their keys sit at the cursor's version with ranks above
END_OF_VERSION, so they come right after the cursor and before any later version; the cursor
carries the scope it came from until the transition has been sent (docs/sync-protocol.md).

The server supplies the sources (they read its tables); this module only merges and cursors.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sync.errors import BadCursor

#: A rank after every real table: "everything at this version has been sent".
END_OF_VERSION = 1_000_000
#: Transition sources rank above END_OF_VERSION and below this: "the scope change is sent".
END_OF_TRANSITION = END_OF_VERSION + 1000


@dataclass(frozen=True)
class Key:
    """A position in the change stream."""

    version: int
    rank: int
    id: str

    def after_clause(self, rank: int) -> tuple[Literal["gt", "ge", "tie"], int]:
        """How a source of `rank` filters rows after this key: by version alone, or with a tie.

        >>> Key(7, 2, "x").after_clause(3), Key(7, 2, "x").after_clause(1)
        (('ge', 7), ('gt', 7))
        >>> Key(7, 2, "x").after_clause(2)
        ('tie', 7)
        """
        if rank > self.rank:
            return "ge", self.version
        if rank < self.rank:
            return "gt", self.version
        return "tie", self.version


@dataclass(frozen=True)
class Transition:
    """A scope change being sent: the scope the cursor came from, and where it stood then."""

    from_scope: str
    anchor: Key


@dataclass(frozen=True)
class Change:
    """One upsert or delete. `sort_id` is the id in its native type (UUID or int) for ordering."""

    table: str
    id: str
    version: int
    op: Literal["upsert", "delete"]
    data: dict[str, Any] | None = None
    sort_id: Any = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "table": self.table,
            "op": self.op,
            "id": self.id,
            "version": self.version,
        }
        if self.data is not None:
            wire["data"] = self.data
        return wire


#: (after-key or None for the start, top version, limit) → [(version, native id)], sorted.
ListKeys = Callable[[Key | None, int, int], list[tuple[int, Any]]]
#: The keys of one page (sorted) → their changes, in the same order.
Load = Callable[[list[tuple[int, Any]]], list[Change]]


@dataclass(frozen=True)
class Source:
    table: str
    rank: int
    keys: ListKeys
    load: Load


@dataclass
class Page:
    changes: list[Change] = field(default_factory=list)
    cursor: str | None = None
    has_more: bool = False
    reset: str | None = None


def encode_cursor(key: Key, scope: str, transition: Transition | None = None) -> str:
    """Opaque to the client: base64url of the key, its scope, and a transition in progress.

    >>> decode_cursor(encode_cursor(Key(5, 2, "ab"), "s1"))
    (Key(version=5, rank=2, id='ab'), 's1', None)
    >>> decode_cursor(encode_cursor(Key(5, 2, "ab"), "s2", Transition("s1", Key(4, 9, "x"))))[2]
    Transition(from_scope='s1', anchor=Key(version=4, rank=9, id='x'))
    """
    fields: list[Any] = [key.version, key.rank, key.id, scope]
    if transition is not None:
        anchor = transition.anchor
        fields += [transition.from_scope, anchor.version, anchor.rank, anchor.id]
    raw = json.dumps(fields, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


#: A cursor is a few dozen characters; anything much longer was not issued here.
MAX_CURSOR = 2048
#: Versions and ranks are BIGINT-sized in every table they are compared with.
MAX_CURSOR_INT = 2**63 - 1


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} in a cursor")


def _cursor_int(value: Any) -> int:
    """A JSON integer a BIGINT can hold (not a bool, a float, 10**30 or an object).

    >>> _cursor_int(10**30)
    Traceback (most recent call last):
    ...
    ValueError: cursor number out of range
    """
    if type(value) is not int:
        raise TypeError("cursor number is not an integer")
    if not -MAX_CURSOR_INT <= value <= MAX_CURSOR_INT:
        raise ValueError("cursor number out of range")
    return value


def _cursor_text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_CURSOR:
        raise TypeError("cursor field is not a string")
    return value


def decode_cursor(cursor: str) -> tuple[Key, str, Transition | None]:
    """Return (key, scope, transition or None); raise BadCursor for anything not ours."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("cursor too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        fields = json.loads(base64.urlsafe_b64decode(padded), parse_constant=_no_constant)
        if not isinstance(fields, list) or len(fields) not in (4, 8):
            raise ValueError("unexpected cursor shape")
        version, rank, row_id, scope = fields[:4]
        key = Key(_cursor_int(version), _cursor_int(rank), _cursor_text(row_id))
        transition = None
        if len(fields) == 8:
            from_scope, a_version, a_rank, a_id = fields[4:]
            anchor = Key(_cursor_int(a_version), _cursor_int(a_rank), _cursor_text(a_id))
            transition = Transition(_cursor_text(from_scope), anchor)
        scope = _cursor_text(scope)
    except (ValueError, TypeError, RecursionError) as error:
        raise BadCursor("this cursor was not issued by this server") from error
    return key, str(scope), transition


def _start_of_transition(after: Key) -> Key:
    """Where a new transition starts from `after`: never past its own keys.

    A finished transition leaves its cursor at (v, END_OF_TRANSITION) when no version came
    after it. For the normal stream that is the same place as (v, END_OF_VERSION); but a new
    transition's keys sit at (v, rank above END_OF_VERSION), so from END_OF_TRANSITION they
    would all count as passed and the second scope change would send nothing.

    >>> _start_of_transition(Key(7, END_OF_TRANSITION, ""))
    Key(version=7, rank=1000000, id='')
    >>> _start_of_transition(Key(7, 3, "x"))
    Key(version=7, rank=3, id='x')
    """
    if after.rank >= END_OF_VERSION:
        return Key(after.version, END_OF_VERSION, "")
    return after


#: (scope the cursor came from, the cursor's key) → the transition's sources, or None when
#: the old scope is unknown (the caller then answers `scope_changed`, a reset).
TransitionSources = Callable[[str, Key], Sequence[Source] | None]


def pull_page(
    sources: Sequence[Source],
    cursor: str | None,
    *,
    top_version: int,
    horizon_version: int,
    scope: str,
    limit: int,
    transition_sources: TransitionSources | None = None,
) -> Page:
    """One page of changes after `cursor`, for the current `scope`; or a Page with `reset`.

    `top_version` is the clock in the caller's snapshot; `horizon_version` the oldest version
    whose history is whole (a cursor that has not passed everything below it gets a reset).
    A cursor of another scope starts a transition when `transition_sources` can describe it;
    otherwise, or when the scope changes again before a transition is sent, it gets a reset.
    """
    after: Key | None = None
    transition: Transition | None = None
    if cursor:
        try:
            after, cursor_scope, transition = decode_cursor(cursor)
        except BadCursor:
            return Page(reset="bad_cursor")
        if cursor_scope != scope:
            if transition is not None or transition_sources is None:
                return Page(reset="scope_changed")
            after = _start_of_transition(after)
            transition = Transition(cursor_scope, after)
        # Versions below the horizon lost exits to pruning; a cursor that has not passed all
        # of them (to the end of the last pruned version) could miss a deletion.
        if (after.version, after.rank) < (horizon_version - 1, END_OF_VERSION):
            return Page(reset="cursor_too_old")
        if after.version > top_version:
            return Page(reset="cursor_ahead_of_server")
    every = list(sources)
    if transition is not None:
        assert transition_sources is not None
        extra = transition_sources(transition.from_scope, transition.anchor)
        if extra is None:
            return Page(reset="scope_changed")
        every.extend(extra)
    candidates: list[tuple[int, int, Any]] = []
    for source in every:
        candidates.extend(
            (v, source.rank, i) for v, i in source.keys(after, top_version, limit + 1)
        )
    candidates.sort()
    page = candidates[:limit]
    has_more = len(candidates) > limit
    if has_more:
        version, rank, sort_id = page[-1]
        end = Key(version, rank, str(sort_id))
    else:
        end = Key(top_version, END_OF_VERSION, "")
        if transition is not None and top_version == transition.anchor.version:
            end = Key(top_version, END_OF_TRANSITION, "")
    if transition is not None and not (
        end.version == transition.anchor.version and end.rank < END_OF_TRANSITION
    ):
        transition = None  # sent: the cursor has passed the transition's keys
    by_rank: dict[int, list[tuple[int, Any]]] = {}
    for version, rank, sort_id in page:
        by_rank.setdefault(rank, []).append((version, sort_id))
    loaded = {
        source.rank: iter(source.load(by_rank[source.rank]))
        for source in every
        if source.rank in by_rank
    }
    changes = [next(loaded[rank]) for _, rank, _ in page]
    return Page(changes=changes, cursor=encode_cursor(end, scope, transition), has_more=has_more)
