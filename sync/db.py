"""The declarative base and MetaData shared by every Wangge table.

It lives here, in the framework-free layer, because `sync/` owns tables of its own (devices'
sequence marks, the mutation log, the global version counter) and must not import `server/`,
while `server/` models reference them; one MetaData keeps foreign keys and Alembic whole.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ARRAY, JSON, ColumnElement, DateTime, MetaData, Uuid, any_, bindparam
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, registry
from sqlalchemy.types import TypeDecorator

#: Deterministic constraint names, so migrations can drop what they created (Alembic docs).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as UTC and always returned timezone-aware.

    SQLite has no timezone type and hands back naive values; this keeps both backends alike.
    Naive datetimes are refused on the way in: a naive value is a bug, not a time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use datetime.now(datetime.UTC)")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


#: JSON everywhere, JSONB on PostgreSQL (indexable, compact).
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Base class of every mapped table (server models and sync's own tables)."""

    # An explicit registry: Flask-SQLAlchemy copies the base's namespace, and SQLAlchemy
    # refuses a per-base type_annotation_map next to a registry.
    registry = registry(
        metadata=metadata,
        type_annotation_map={
            uuid.UUID: Uuid(),
            dt.datetime: UTCDateTime(),
            dict[str, Any]: JSONType,
            list[Any]: JSONType,
        },
    )


def utcnow() -> dt.datetime:
    """Return the current time as a timezone-aware UTC datetime.

    >>> utcnow().tzinfo is dt.UTC
    True
    """
    return dt.datetime.now(dt.UTC)


def among(session: Session, column: Any, ids: Any) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL `= ANY(:array)`: one parameter instead of a thousand,
    so the statement is the same for every list (psycopg prepares it) and parses fast."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(column.type)))
    return column.in_(ids)  # type: ignore[no-any-return]
