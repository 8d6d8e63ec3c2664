"""Field-level merge of an offline edit against the server's per-field versions and authors.

The rule (docs/sync-protocol.md §Merge): an edit names the version it was based on. For each
changed field, if nobody else changed that field after the base, the edit simply applies.
If somebody else did, the later arrival still wins (order comes from the server), but a
conflict is recorded with both values and both authors for the office to review. If only
*other* fields changed meanwhile, both edits stand and the outcome is a "parallel update".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Stamp:
    """The server version and author of a field's last change (author None: unknown/system)."""

    version: int
    author_id: int | None


@dataclass(frozen=True)
class FieldConflict:
    """The same field changed by two people: the earlier value is overwritten, and recorded."""

    field: str
    earlier_value: Any
    earlier: Stamp
    later_value: Any


@dataclass
class MergeOutcome:
    """What to write: `apply` (field → new value), `conflicts`, and whether it ran in parallel."""

    apply: dict[str, Any] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)
    parallel: bool = False
    unchanged: list[str] = field(default_factory=list)


def merge_fields(
    current: Mapping[str, Any],
    stamps: Mapping[str, Stamp],
    changes: Mapping[str, Any],
    *,
    base_version: int | None,
    author_id: int,
) -> MergeOutcome:
    """Merge `changes` made from `base_version` by `author_id` into `current`.

    `stamps` holds the last change of each field (fields never changed may be absent).
    A missing `base_version` means "based on what the server has now" (the office's edits).
    Returns a MergeOutcome; never raises.

    >>> stamps = {"title": Stamp(5, author_id=2)}
    >>> out = merge_fields({"title": "B", "address": "x"}, stamps, {"title": "C"},
    ...                    base_version=3, author_id=1)
    >>> out.apply, [c.earlier_value for c in out.conflicts]
    ({'title': 'C'}, ['B'])
    >>> merge_fields({"title": "B"}, stamps, {"address": "y"}, base_version=3, author_id=1).parallel
    True
    """
    outcome = MergeOutcome()
    base = base_version if base_version is not None else _latest(stamps)
    for name, new_value in changes.items():
        stamp = stamps.get(name)
        old_value = current.get(name)
        if new_value == old_value:
            outcome.unchanged.append(name)  # both made the same change, or no change at all
            continue
        outcome.apply[name] = new_value
        changed_since_base = stamp is not None and stamp.version > base
        if changed_since_base and stamp is not None and stamp.author_id != author_id:
            outcome.conflicts.append(FieldConflict(name, old_value, stamp, new_value))
    outcome.parallel = any(
        s.version > base and s.author_id != author_id
        for name, s in stamps.items()
        if name not in changes
    )
    return outcome


def _latest(stamps: Mapping[str, Stamp]) -> int:
    return max((s.version for s in stamps.values()), default=0)
