"""Hypothesis over the form encoding of `POST requests`: never a 5xx, never stored garbage."""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from server.cases.models import Case
from server.extensions import db
from server.open311.operations import create_partner
from tests.server.backoffice_world import IN_G1, T0

#: How many forms each backend's run sends (reported in docs/open311.md).
EXAMPLES = 300

FIELDS = [
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "description",
    "phone",
    "first_name",
    "media_url",
    "attribute[people]",
    "attribute[water]",
    "attribute[kinds][]",
    "jurisdiction_id",
    "api_key",
    "lat[]",
    "attribute[",
]
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "NaN", "-inf", "1e400", "0x10", "31.2.1", "", " ", "１２", "31,2"]),
    st.sampled_from([str(IN_G1[1]), str(IN_G1[0]), "91", "-181", "181"]),
)
texts = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30).map(lambda t: t * 200),
    st.sampled_from(["<script>alert(1)</script>", "A01-01", "A05-01", "standing", "a", "\x00"]),
)
pairs = st.lists(
    st.tuples(st.one_of(st.sampled_from(FIELDS), st.text(max_size=20)), st.one_of(numbers, texts)),
    max_size=8,
)
#: Free-text fields a partner may fill: unicode, HTML, control characters, huge values.
extras = st.dictionaries(
    st.sampled_from(["description", "first_name", "last_name", "address_string", "account_id"]),
    texts,
    max_size=5,
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pairs=st.one_of(st.just([]), pairs),
    extras=extras,
    with_key=st.sampled_from([True, True, True, False]),
    with_place=st.sampled_from([True, True, False]),
)
def test_any_form_gets_201_or_a_clear_4xx(
    client: Any,
    open311_key: str,
    pairs: list[tuple[str, str]],
    extras: dict[str, str],
    with_key: bool,
    with_place: bool,
) -> None:
    base = [("api_key", open311_key)] if with_key else []
    if with_place:
        base += [("service_code", "A01-01"), ("lat", str(IN_G1[1])), ("long", str(IN_G1[0]))]
    body = urlencode(base + list(extras.items()) + pairs)
    response = client.post(
        "/open311/v2/requests.json",
        data=body,
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )
    event(f"status {response.status_code}")
    assert response.status_code in (201, 400, 403, 404), response.data
    payload = response.get_json()
    assert isinstance(payload, list) and payload
    if response.status_code != 201:
        assert {"code", "description"} <= set(payload[0])
        return
    case = db.session.scalar(select(Case).where(Case.number == payload[0]["service_request_id"]))
    assert case is not None
    assert not re.search(r"<[^>]*>|[\x00-\x08\x0b-\x1f]", case.description + case.address)
    assert 0 < len(case.description) <= 4000 + 2000  # the description plus the answers
    if case.lat is not None:
        assert math.isfinite(case.lat) and math.isfinite(case.lon)
        assert 30.6 < case.lat < 31.9 and 120.8 < case.lon < 122.3


@pytest.fixture
def open311_key(world: Any) -> str:
    world.items["A05-01"].questions = [
        {"code": "people", "datatype": "number", "required": False},
        {
            "code": "water",
            "datatype": "singlevaluelist",
            "required": False,
            "values": [{"key": "standing", "name_zh": "有积水"}],
        },
        {
            "code": "kinds",
            "datatype": "multivaluelist",
            "required": False,
            "values": [{"key": "a", "name_zh": "甲"}],
        },
    ]
    _, key = create_partner(db.session, "fuzz", at=T0)
    db.session.commit()
    return key
