"""The locate index of the published grid, cached per process and rebuilt when it changes.

How a process notices a publication made by another process: before answering, it reads
the published version's ``(id, published_at)`` — one indexed row of a table of a few rows —
and compares it with the key of its cached index. Republishing a retired version (rollback)
gives it a new ``published_at``, so the key changes then too. ``GRID_INDEX_RECHECK_SECONDS``
(default 0: every call) lets a busy process check at most every N seconds instead.
Building the index of a 20,000-cell grid takes well under a second.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.locate import GridIndex
from server.enums import GridStatus
from server.grid.models import GridVersion
from server.grid.storage import load_cells

EXTENSION_KEY = "wangge.grid_index"


@dataclass(frozen=True)
class PublishedGrid:
    """The published version and its locate index."""

    version_id: int
    published_at: dt.datetime | None
    index: GridIndex


def published_key(session: Session) -> tuple[int, dt.datetime | None] | None:
    """The published version's `(id, published_at)`, or None when nothing is published: it
    changes with every publication, a rollback's too (one indexed row)."""
    key = session.execute(
        select(GridVersion.id, GridVersion.published_at).where(
            GridVersion.status == GridStatus.PUBLISHED
        )
    ).first()
    return (key[0], key[1]) if key is not None else None


class GridIndexCache:
    """One per app: the published grid's index, checked against the database on use."""

    def __init__(self, near_m: float, recheck_s: float = 0.0) -> None:
        self.near_m = near_m
        self.recheck_s = recheck_s
        self.builds = 0  # how many times an index was built (tests and the bench read it)
        self._current: PublishedGrid | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def current(self, session: Session, *, fresh: bool = False) -> PublishedGrid | None:
        """The published grid, rebuilding the index if another version is published now.

        `fresh`: ask the database even within `recheck_s` of the last check."""
        now = time.monotonic()
        cached = self._current
        if (
            cached is not None
            and self.recheck_s
            and not fresh
            and now - self._checked_at < self.recheck_s
        ):
            return cached
        key = published_key(session)
        self._checked_at = now
        if key is None:
            self._current = None
            return None
        if cached is not None and (cached.version_id, cached.published_at) == tuple(key):
            return cached
        with self._lock:  # one build at a time; a second caller reuses the first's result
            cached = self._current
            if cached is None or (cached.version_id, cached.published_at) != tuple(key):
                cells = [c.indexed() for c in load_cells(session, key[0])]
                index = GridIndex.build(cells, near_m=self.near_m)
                self._current = PublishedGrid(key[0], key[1], index)
                self.builds += 1
            return self._current

    def invalidate(self) -> None:
        self._current = None


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = GridIndexCache(
        float(app.config["NEAR_DISTANCE_M"]), float(app.config["GRID_INDEX_RECHECK_SECONDS"])
    )


def index_cache(app: Flask) -> GridIndexCache:
    cache: GridIndexCache = app.extensions[EXTENSION_KEY]
    return cache
