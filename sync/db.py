"""The declarative base and MetaData shared by every Wangge table.

It lives here, in the framework-free layer, because `sync/` owns tables of its own (devices'
sequence marks, the mutation log, the global version counter) and must not import `server/`,
while `server/` models reference them; one MetaData keeps foreign keys and Alembic whole.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from json import encoder as json_encoder
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


#: CPython's C encoder (None on an interpreter without it: `json_text` then calls json.dumps).
_C_MAKE_ENCODER = getattr(json_encoder, "c_make_encoder", None)
_DEFAULT = json.JSONEncoder().default


def json_text(value: Any) -> str:
    """`json.dumps(value)`, the same text and the same errors, without json.dumps's per-call
    set-up: SQLAlchemy's serializer for every JSON column (the engine's `json_serializer`,
    server/config.py). `json.dumps` goes through `JSONEncoder.encode` and `iterencode`, which
    cost ~0.7 µs a call before the C encoder starts, as much as encoding a visit's log result;
    a push of 1,000 visits stores 2,000 such values. tests/sync/test_json_text.py checks the
    equality with hypothesis.

    >>> print(json_text({"visit_id": "中", "n": [1, 2.5, None]}))
    {"visit_id": "\\u4e2d", "n": [1, 2.5, null]}
    """
    if _C_MAKE_ENCODER is None or type(value) is str:
        return json.dumps(value)
    # As JSONEncoder.iterencode builds it for json.dumps's defaults (ensure_ascii, allow_nan,
    # check_circular with a fresh `markers`, ", " and ": "); the arguments are positional.
    encode = _C_MAKE_ENCODER(
        {}, _DEFAULT, json_encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True
    )
    return "".join(encode(value, 0))


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
