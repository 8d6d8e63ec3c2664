"""Which database answers a pull page: the replica when it has caught up for this device.

A pull cursor is a position in the version clock, and a page is read in one snapshot. A
replica's snapshot is a state the primary went through (physical streaming replays the WAL in
commit order, and writers commit in clock order: sync/versions.py), so a replica page is the
page the primary would have given a moment ago — correct as long as that moment is not before
what the phone already holds. So a page may come from the replica only if, in the very snapshot
it is read from, the replica's clock has reached

* the cursor's version (else it would answer from before the cursor: "nothing new", or a cursor
  going backwards), and
* the highest version this device's own pushes were given (read-your-writes: a phone that just
  pushed sees its visit and its rejections). That version is read on the primary, from the
  mutation log (the version of the device's highest seq, one lookup in the log's unique
  (device_id, seq) key), so it holds whichever app server took the push; the phone sends
  nothing new.

Otherwise — or when the replica errs, is unreachable, or the page would be a reset (resets
are decided on the primary) — the primary answers, as before there was a replica. Writes stay
on the primary: the token check (before this), the `sync_scopes` row of a new fingerprint, and
`missing_photos`, which no version covers (a photo arriving bumps no clock): when the replica
lists some, the primary's list is sent instead so a phone never re-uploads bytes the primary
already has.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.fieldsync.pulling import (
    PullAnswer,
    ReplicaBehind,
    pull_for_device,
    read_page,
    remember_scope,
)
from server.fieldsync.wire import missing_photos
from server.ops.metrics import record_pull_source
from server.replica import Replica
from sync.errors import BadCursor
from sync.models import MutationRecord
from sync.pull import decode_cursor

log = logging.getLogger(__name__)


def pull_routed(
    primary: Session,
    replica: Replica | None,
    user: User,
    device_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> PullAnswer:
    """One pull page, from the replica when it is fresh enough for this device, else the primary."""
    if replica is None:
        return _on_primary(primary, user, device_id, cursor, limit, "no_replica")
    if replica.resting:
        return _on_primary(primary, user, device_id, cursor, limit, "resting")
    needed = version_needed(primary, device_id, cursor)
    try:
        with replica.session() as session:
            read = read_page(session, user, device_id, cursor, limit, replayed_at_least=needed)
    except ReplicaBehind as behind:
        log.info("pull on the primary, the replica cannot answer it: %s", behind)
        return _on_primary(primary, user, device_id, cursor, limit, behind.reason)
    except (DBAPIError, PoolTimeout) as error:
        replica.failed()
        log.warning(
            "pull on the primary, the replica failed (left alone for %s s): %s",
            replica.retry_s,
            error,
        )
        return _on_primary(primary, user, device_id, cursor, limit, "error")
    answer = read.answer
    if answer.page.cursor and not read.scope_known:
        remember_scope(primary, read.scope)
    if answer.missing_photos:
        answer = dataclasses.replace(answer, missing_photos=missing_photos(primary, device_id))
    record_pull_source("replica", "fresh")
    return answer


def version_needed(primary: Session, device_id: uuid.UUID, cursor: str | None) -> int:
    """The clock a replica must have replayed for this pull: the cursor's version, and the
    highest version given to this device's pushes (read on the primary).

    That is the version of the device's highest seq: a device's groups take the version
    clock in seq order (one group holds the device's next seqs and takes the clock before it
    commits; a later group starts after the device's mark, under a later clock), and a
    group's mutations share its version (docs/sync-protocol.md §The serial section). The
    unique (device_id, seq) key finds that row; the log keeps no index by version."""
    at = 0
    if cursor:
        with contextlib.suppress(BadCursor):  # else the page is a reset: the primary answers
            at = decode_cursor(cursor)[0].version
    written = primary.scalar(
        select(MutationRecord.server_version)
        .where(MutationRecord.device_id == device_id)
        .order_by(MutationRecord.seq.desc())
        .limit(1)
    )
    return max(at, int(written or 0))


def _on_primary(
    primary: Session,
    user: User,
    device_id: uuid.UUID,
    cursor: str | None,
    limit: int,
    reason: str,
) -> PullAnswer:
    answer = pull_for_device(primary, user, device_id, cursor, limit)
    record_pull_source("primary", reason)
    return answer
