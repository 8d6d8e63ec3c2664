"""`sync.db.json_text`, the JSON columns' serializer, writes exactly what json.dumps writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from sync.db import json_text

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # beyond 64 bits too
    st.floats(),  # NaN and the infinities: json.dumps writes NaN, Infinity
    st.text(),  # lone surrogates and every plane
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(), st.integers(), st.booleans()), inner, max_size=5),
    ),
    max_leaves=30,
)


@given(_values)
def test_the_text_is_json_dumps_text(value: Any) -> None:
    assert json_text(value) == json.dumps(value)


class _Odd:
    pass


def _circular() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


@pytest.mark.parametrize(
    "value",
    [{"a": _Odd()}, [1, {2, 3}], {(1, 2): "a tuple key"}, _circular(), {"a": {"b": _circular()}}],
    ids=["an object", "a set", "a tuple key", "a loop", "a nested loop"],
)
def test_what_json_dumps_refuses_it_refuses_alike(value: Any) -> None:
    with pytest.raises(Exception) as expected:
        json.dumps(value)
    with pytest.raises(type(expected.value)) as got:
        json_text(value)
    assert str(got.value) == str(expected.value)


def test_a_loop_after_a_refusal_is_still_found() -> None:
    """Each call has its own record of what it is inside (no state kept between calls)."""
    with pytest.raises(TypeError):
        json_text({"a": _Odd()})
    assert json_text([[1], [1]]) == "[[1], [1]]"
    with pytest.raises(ValueError, match="Circular"):
        json_text(_circular())


def test_the_app_stores_json_columns_with_it(app: Any) -> None:
    """The engine's serializer, on either database (the deployment's options kept)."""
    from server.extensions import db

    with app.app_context():
        assert db.engine.dialect._json_serializer is json_text
        stored = db.session.execute(
            sa.select(sa.cast(sa.literal({"名": [1.5, None]}, sa.JSON), sa.Text))
        ).scalar_one()
        assert json.loads(stored) == {"名": [1.5, None]}
