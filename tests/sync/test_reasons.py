"""Every rejection code has a documented meaning, and answers carry it in the caller's language."""

from __future__ import annotations

import re
import uuid

import pytest

from server import REPO_ROOT
from server.fieldsync.reasons import REASONS
from tests.sync.conftest import visit_args

_RAISED = re.compile(r'Rejected\(\s*"([A-Z_]+)"')


def _codes_in_sources() -> set[str]:
    found = {"INTEGRITY"}  # set by the engine without a Rejected
    for path in [*(REPO_ROOT / "server/fieldsync").glob("*.py"), REPO_ROOT / "sync/engine.py"]:
        found |= set(_RAISED.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_rejection_code_has_a_meaning_in_both_languages_and_in_the_protocol_document():
    codes = _codes_in_sources()
    assert codes <= set(REASONS)
    document = (REPO_ROOT / "docs/sync-protocol.md").read_text(encoding="utf-8")
    for code, (zh, en) in REASONS.items():
        assert f"`{code}`" in document, code
        assert zh in document and en in document, code


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        ({"lang": "en"}, {}, "The server has no such household."),
        ({}, {"Accept-Language": "en-GB,en;q=0.9"}, "The server has no such household."),
        ({}, {"Accept-Language": "zh-CN"}, "服务器上没有这户。"),
        ({}, {}, "服务器上没有这户。"),
    ],
)
def test_a_rejection_comes_with_its_text_in_the_callers_language(phone, query, headers, expected):
    a = phone()
    a.add("visit.create", visit_args(uuid.uuid4()))
    body = {
        "device_id": str(a.device_id),
        "schema_version": 1,
        "mutations": a.outbox,
    }
    response = a.client.post(
        "/api/v1/sync/push", json=body, query_string=query, headers={**a.headers, **headers}
    )
    reason = response.get_json()["results"][0]["reason"]
    assert reason["code"] == "UNKNOWN_HOUSEHOLD"
    assert reason["message"] == "no such household"  # the stored English message, unchanged
    assert reason["text"] == expected
    pulled = a.client.get(
        "/api/v1/sync/pull", query_string=query, headers={**a.headers, **headers}
    ).get_json()
    rejection = next(c for c in pulled["changes"] if c["table"] == "rejections")
    assert rejection["data"]["text"] == expected
