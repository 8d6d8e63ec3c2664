"""The hand-written loaders answer exactly what the marshmallow schemas would, or step aside."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from server.fieldsync.schemas import (
    MutationSchema,
    VisitCreateArgs,
    fast_mutation,
    fast_visit_create,
    plain_visit_fields,
)
from sync.text import first_unstorable

_uuids = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: u.hex),
    st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.text(max_size=40),
    st.integers(),
    st.none(),
)
_numbers = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
)
_texts = st.one_of(
    st.text(max_size=20),
    st.text(min_size=3999, max_size=4001),
    st.none(),
    st.integers(),
    st.sampled_from(["a\x00b", "x\ud800", "\udfff", "走访\x00"]),  # what no database holds
)
_times = st.one_of(
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
    st.text(max_size=30),
    st.none(),
    st.integers(),
)


def _maybe(draw: Any, entries: dict[str, Any]) -> dict[str, Any]:
    return {k: draw(v) for k, v in entries.items() if draw(st.booleans())}


#: Ids as phones send them (canonical text) most of the time, for the plain path's loader.
_mostly_canonical = st.one_of(st.uuids().map(str), st.uuids().map(str), _uuids)


@st.composite
def visit_args(draw: Any, ids: st.SearchStrategy[Any] = _uuids) -> dict[str, Any]:
    raw = {"id": draw(ids), "household_id": draw(ids)}
    raw.update(
        _maybe(
            draw,
            {
                "visited_at": _times,
                "outcome": st.sampled_from(["met", "not_home", "refused", "away", None]),
                "residents_seen": st.one_of(st.lists(ids, max_size=3), st.text(max_size=3)),
                "situation": _texts,
                "needs": _texts,
                "follow_up": _texts,
                "lon": _numbers,
                "lat": _numbers,
                "accuracy_m": _numbers,
                "corrects_visit_id": ids,
                "case_id": ids,
                "surprise": st.integers(),
            },
        )
    )
    if draw(st.booleans()):
        raw.pop(draw(st.sampled_from(["id", "household_id"])))
    return raw


@st.composite
def envelopes(draw: Any) -> dict[str, Any]:
    raw = {
        "seq": draw(
            st.one_of(st.integers(min_value=-2, max_value=10**12), st.booleans(), st.floats())
        ),
        "op_id": draw(_uuids),
        "name": draw(st.text(max_size=45)),
        "args": draw(
            st.one_of(st.dictionaries(st.text(max_size=3), st.integers()), st.lists(st.integers()))
        ),
    }
    raw.update(
        _maybe(
            draw,
            {
                "recorded_at_device": st.one_of(st.text(max_size=10), st.none(), st.integers()),
                "base_version": st.one_of(st.integers(), st.none(), st.floats(), st.booleans()),
                "extra": st.integers(),
            },
        )
    )
    return raw


def _schema_verdict(schema: Any, raw: Any) -> Any:
    try:
        return schema.load(raw)
    except ValidationError:
        return ValidationError


@pytest.mark.parametrize(
    ("fast", "schema", "strategy"),
    [
        (fast_visit_create, VisitCreateArgs(), visit_args()),
        (fast_mutation, MutationSchema(), envelopes()),
    ],
    ids=["visit.create", "envelope"],
)
def test_a_fast_loader_agrees_with_its_schema_whenever_it_answers(fast, schema, strategy):
    @settings(max_examples=400, deadline=None)
    @given(strategy)
    def check(raw: dict[str, Any]) -> None:
        answer = fast(raw)
        if answer is not None:
            assert answer == _schema_verdict(schema, raw)
            if fast is fast_visit_create:  # the engine skips its screen for these
                assert first_unstorable(raw) is None

    check()


@settings(max_examples=600, deadline=None)
@given(visit_args(ids=_mostly_canonical))
def test_the_plain_path_s_loader_agrees_with_the_fast_loader_whenever_it_answers(raw):
    """`plain_visit_fields` (the push's plain path) loads what `fast_visit_create` loads, ids
    kept as the canonical text they were sent in, and answers only for visits that name no case
    and correct no visit."""
    fields = plain_visit_fields(raw)
    if fields is None:
        return
    loaded = fast_visit_create(raw)
    assert loaded is not None
    assert loaded["case_id"] is None and loaded["corrects_visit_id"] is None
    assert fields == (
        str(loaded["id"]),
        str(loaded["household_id"]),
        loaded["visited_at"],
        [str(r) for r in loaded["residents_seen"]],
        loaded["outcome"],
        loaded["situation"],
        loaded["needs"],
        loaded["follow_up"],
        loaded["lon"],
        loaded["lat"],
        loaded["accuracy_m"],
    )
    assert fields[0] == raw["id"] and fields[1] == raw["household_id"]  # the text as sent


def test_the_plain_path_s_loader_answers_what_a_phone_usually_sends_and_steps_aside_else():
    raw = {
        "id": str(uuid.uuid4()),
        "household_id": str(uuid.uuid4()),
        "residents_seen": [str(uuid.uuid4()), str(uuid.uuid4())],
        "situation": "一切正常",
        "lon": 121.4,
        "lat": 31.2,
    }
    fields = plain_visit_fields(raw)
    assert fields is not None and fields[3] == raw["residents_seen"] and fields[4] == "met"
    for other in (
        {"case_id": str(uuid.uuid4())},
        {"corrects_visit_id": str(uuid.uuid4())},
        {"id": raw["id"].upper()},
        {"residents_seen": [raw["residents_seen"][0].replace("-", "")]},
    ):
        changed = {**raw, **other}
        assert plain_visit_fields(changed) is None
        assert fast_visit_create(changed) is not None  # the general path loads it still


def test_the_fast_loader_answers_what_a_phone_usually_sends():
    raw = {
        "id": str(uuid.uuid4()),
        "household_id": str(uuid.uuid4()),
        "visited_at": "2026-05-01T09:30:00+08:00",
        "residents_seen": [str(uuid.uuid4())],
        "situation": "一切正常",
        "lon": 121.42,
        "lat": 31.2,
        "accuracy_m": 8,
    }
    assert fast_visit_create(raw) == VisitCreateArgs().load(raw)


@pytest.mark.parametrize("text", ["a\x00b", "x\ud800y"])
def test_the_fast_loader_leaves_unstorable_text_to_the_engine_s_screen(text):
    raw = {"id": str(uuid.uuid4()), "household_id": str(uuid.uuid4()), "needs": text}
    assert fast_visit_create(raw) is None
