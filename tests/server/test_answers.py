"""The sync API's answers (server/api/answers.py): orjson's text decodes to what Flask's
JSON provider wrote, for every value the API answers with, and for the values orjson hands
back (times, dataclasses, UUIDs, lazy texts, Decimals) or refuses (big integers, int keys)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import math
import uuid
from typing import Any

import pytest
from flask import Flask, jsonify
from flask_babel import Babel, lazy_gettext
from hypothesis import given, settings
from hypothesis import strategies as st

from server.api.answers import json_answer
from server.api.base import StrictJSONProvider
from sync.ids import parse_id

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=40,
)


def _both(app: Flask, value: Any) -> tuple[Any, Any]:
    with app.test_request_context():
        ours = json_answer(value, status=201)
        flasks = jsonify(value)
        assert ours.status_code == 201
        assert ours.mimetype == "application/json"
        return json.loads(ours.get_data()), json.loads(flasks.get_data())


@pytest.fixture(scope="module")
def app() -> Flask:
    """The server's JSON provider; no database (the answers touch none)."""
    app = Flask(__name__)
    app.json = StrictJSONProvider(app)
    Babel(app)
    return app


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES)
def test_json_values_read_back_as_flask_wrote_them(app: Flask, value: Any) -> None:
    ours, flasks = _both(app, value)
    assert ours == flasks == value


@dataclasses.dataclass
class _Pin:
    at: dt.datetime
    n: int


def test_values_orjson_hands_to_flask_are_written_as_flask_writes_them(app: Flask) -> None:
    when = dt.datetime(2026, 12, 5, 8, 30, tzinfo=dt.UTC)
    text_id = parse_id("0b1f4a0e-9c4d-4e6e-8f3a-2d7c9b5e1a60")
    value = {
        "when": when,
        "day": dt.date(2026, 12, 5),
        "pin": _Pin(when, 3),
        "id": uuid.UUID("0b1f4a0e-9c4d-4e6e-8f3a-2d7c9b5e1a60"),
        "text_id": text_id,
        "lazy": lazy_gettext("Offline sync"),
        "amount": decimal.Decimal("12.50"),
        "中文": "网格",
    }
    ours, flasks = _both(app, value)
    assert ours == flasks
    assert ours["when"] == "Sat, 05 Dec 2026 08:30:00 GMT"  # Flask's HTTP date, not RFC 3339
    assert ours["text_id"] == str(text_id) and ours["amount"] == "12.50"


def test_values_orjson_refuses_go_to_flask_whole(app: Flask) -> None:
    for value in ({"n": 2**70}, {1: "a"}, [-(2**64)]):
        with app.test_request_context():
            assert json_answer(value).get_data() == jsonify(value).get_data()


def test_non_finite_floats_become_null_not_invalid_json(app: Flask) -> None:
    with app.test_request_context():
        text = json_answer({"a": math.nan, "b": -math.inf}).get_data()
    assert json.loads(text) == {"a": None, "b": None}


def test_an_unknown_object_still_fails_as_before(app: Flask) -> None:
    with app.test_request_context():
        for encode in (json_answer, jsonify):
            try:
                encode({"x": object()})
            except TypeError:
                continue
            raise AssertionError(f"{encode.__name__} encoded an object it cannot")
