"""pwa/js/uuid.js: the phone's random ids (v4) and time-ordered ids (v7, RFC 9562 §5.7).

The op ids of the outbox, visit ids and form answer ids are time-ordered, so the server's
indexes on them (the mutation log's unique op id, the visits' primary key) grow at one end
instead of at random pages (docs/scaling.md, "Fourth pass"). The module runs in node here and
in the app in tests/pwa/test_engine_scenarios.py.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from server import REPO_ROOT
from tests.node_eval import node_eval

#: Milliseconds the test mints at: 1970, today, the same millisecond twice, the clock's end.
MOMENTS = [0, 1_764_900_000_000, 1_764_900_000_001, 1_764_900_000_001, 2**48 - 1]


def minted(count: int = 200) -> dict[str, Any]:
    script = (
        f"import('{REPO_ROOT / 'pwa/js/uuid.js'}').then((m) => {{"
        f"const at = {json.dumps(MOMENTS)};"
        "console.log(JSON.stringify({"
        f"random: Array.from({{length: {count}}}, () => m.uuid()),"
        "timed: at.map((ms) => m.timeOrderedId(ms)),"
        f"now: Array.from({{length: {count}}}, () => m.timeOrderedId()),"
        "before: Date.now(),"
        "}));})"
    )
    return dict(json.loads(node_eval(script)))


def _ms(value: uuid.UUID) -> int:
    return value.int >> 80


def test_time_ordered_ids_are_v7_in_canonical_form_with_the_milliseconds_in_front() -> None:
    found = minted()
    timed = [uuid.UUID(text) for text in found["timed"]]
    assert [str(t) for t in timed] == found["timed"]  # lowercase, dashed: the server's fast path
    assert {t.version for t in timed} == {7}
    assert {t.variant for t in timed} == {uuid.RFC_4122}
    assert [_ms(t) for t in timed] == MOMENTS
    assert timed[2] != timed[3]  # the same millisecond: the random bits tell them apart
    apart = [0, 1, 2, 4]  # a millisecond apart or more: ordered by time, as numbers and as text
    assert [timed[i] for i in apart] == sorted(timed[i] for i in apart)
    assert [found["timed"][i] for i in apart] == sorted(found["timed"][i] for i in apart)


def test_ids_minted_now_carry_the_clock_and_never_repeat() -> None:
    found = minted(500)
    now = [uuid.UUID(text) for text in found["now"]]
    assert len(set(now)) == len(now)
    at = {_ms(n) for n in now}
    wall = dt.datetime.now(dt.UTC).timestamp() * 1000
    assert all(abs(ms - wall) < 60_000 for ms in at)
    assert max(at) <= found["before"]


def test_random_ids_stay_v4() -> None:
    found = minted(100)
    random = [uuid.UUID(text) for text in found["random"]]
    assert {r.version for r in random} == {4}
    assert len(set(random)) == len(random)
