"""`sync.ids.parse_id` answers what `uuid.UUID(text)` answers, and a `TextUUID` is one."""

from __future__ import annotations

import copy
import pickle
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.ids import TextUUID, parse_id

_texts = st.one_of(
    st.uuids().map(str),  # canonical: lowercase, dashed
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: u.hex),
    st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.uuids().map(lambda u: u.urn),
    st.uuids().map(lambda u: str(u).replace("-", "_", 1)),
    st.uuids().map(lambda u: " " + str(u)),
    st.uuids().map(lambda u: str(u)[:-1] + "g"),
    st.from_regex(r"[0-9a-f٠-٩_+-]{30,40}", fullmatch=True),
    st.text(max_size=40),
)


@given(_texts)
def test_it_parses_as_uuid_does(text: str) -> None:
    try:
        expected = uuid.UUID(text)
    except ValueError:
        with pytest.raises(ValueError):
            parse_id(text)
        return
    found = parse_id(text)
    assert isinstance(found, uuid.UUID)
    assert found == expected and expected == found and hash(found) == hash(expected)
    assert (str(found), found.hex, found.int, found.bytes, found.version) == (
        str(expected),
        expected.hex,
        expected.int,
        expected.bytes,
        expected.version,
    )
    assert {expected: 1}[found] == 1 and sorted([found, expected]) == [expected, expected]


@given(st.uuids())
def test_the_canonical_text_is_kept_and_copies_are_plain(value: uuid.UUID) -> None:
    found = parse_id(str(value))
    assert type(found) is TextUUID and str(found) == str(value)
    assert repr(found) == f"TextUUID('{value}')"
    for copied in (copy.copy(found), copy.deepcopy(found), pickle.loads(pickle.dumps(found))):
        assert type(copied) is uuid.UUID and copied == value
    with pytest.raises(TypeError):
        found.int = 1  # type: ignore[misc]


def test_a_text_uuid_is_stored_and_compared_as_its_uuid(app, database_url: str) -> None:
    """SQLAlchemy's Uuid type (hex on SQLite, native on PostgreSQL) and psycopg take it."""
    import sqlalchemy as sa

    from server.extensions import db

    value = uuid.uuid4()
    with app.app_context():
        stored = db.session.execute(
            sa.select(sa.literal(parse_id(str(value)), sa.Uuid()))
        ).scalar_one()
        assert stored == value
