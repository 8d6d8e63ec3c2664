"""The global version counter: one row, bumped inside every writing transaction.

Every synced row carries the version of the transaction that last changed it, so a pull
asks "what changed after version N". A PostgreSQL sequence would not do: sequence values
are handed out before commit, so commit order differs from number order and a pull could
skip a row that commits late (see docs/sync-protocol.md). Bumping one row serialises writers,
which also makes "what changed after N" exact. The UPDATE is the lock on both backends.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from sync.db import Base


class VersionClock(Base):
    """The single row holding the latest server version."""

    __tablename__ = "sync_clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


def next_version(session: Session) -> int:
    """Bump the clock and return the new version; holds the write lock until commit.

    Raises sqlalchemy.exc.NoResultFound if the clock row is missing (a migration creates it).
    """
    stmt = (
        update(VersionClock)
        .where(VersionClock.id == 1)
        .values(version=VersionClock.version + 1)
        .returning(VersionClock.version)
    )
    return int(session.execute(stmt).scalar_one())


def current_version(session: Session) -> int:
    """The latest committed version as seen by this transaction's snapshot."""
    return int(session.scalar(select(VersionClock.version).where(VersionClock.id == 1)) or 0)
