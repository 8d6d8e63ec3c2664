"""The phone's save-time checks are the server's: pwa/js/limits.js is generated from the
mutation schemas and current, and pwa/js/checks.js refuses exactly what they refuse."""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

import pytest
from marshmallow import ValidationError

from server import REPO_ROOT
from server.fieldsync.limits import MODULE, limits_table, render_module
from server.fieldsync.schemas import MUTATION_ARGS, first_error_field


def test_the_committed_limits_module_is_what_the_schemas_give() -> None:
    assert MODULE.read_text(encoding="utf-8") == render_module(), (
        "pwa/js/limits.js is stale: run `python -m server.fieldsync.limits`"
    )


def test_every_text_limit_of_a_report_and_a_visit_is_in_the_table() -> None:
    table = limits_table()
    assert table["case.report"]["description"] == {"max": 4000, "min": 1, "required": True}
    assert table["case.report"]["address"]["max"] == 200
    assert table["case.set_fields"]["changes"]["title"]["max"] == 200
    assert set(table["visit.create"]) == {"situation", "needs", "follow_up"}


def _node_problems(cases: list[tuple[str, dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    script = (
        "let raw = ''; process.stdin.on('data', (d) => { raw += d; });"
        "process.stdin.on('end', () => "
        f"import('{REPO_ROOT / 'pwa/js/checks.js'}').then((m) => {{"
        "  const cases = JSON.parse(raw);"
        "  console.log(JSON.stringify(cases.map(([name, args]) => m.problems(name, args))));"
        "}));"
    )
    try:
        out = subprocess.run(
            ["node", "--input-type=module", "-e", script], input=json.dumps(cases),
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout  # fmt: skip
    except FileNotFoundError:
        pytest.skip("node is not installed")
    return list(json.loads(out))


def _base(name: str) -> dict[str, Any]:
    ids = {"id": str(uuid.uuid4()), "case_id": str(uuid.uuid4())}
    return {
        "visit.create": {"id": ids["id"], "household_id": str(uuid.uuid4())},
        "case.report": {"id": ids["id"], "description": "路灯不亮"},
        "case.note": {**ids, "text": "已联系物业"},
        "case.set_fields": {"case_id": ids["case_id"], "changes": {"title": "路灯"}},
        "case.transition": {"case_id": ids["case_id"], "from": "dispatched", "to": "handling"},
        "photo.attach": {"sha256": "0" * 64, "case_id": ids["case_id"]},
        "form.answer": {
            "id": ids["id"],
            "form_version_id": 1,
            "campaign_id": 1,
            "target_id": str(uuid.uuid4()),
            "values": {},
            "answered_at": "2026-12-01T10:00:00+08:00",
        },
    }[name]


def _set(args: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(args))
    node = copy
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return copy


def test_the_phone_refuses_what_the_server_refuses() -> None:
    """At, and one past, every text limit (in Chinese, and with a character outside the
    BMP, which JavaScript counts twice and the server once), and an empty required text."""
    cases: list[tuple[str, dict[str, Any]]] = []
    for name, fields in limits_table().items():
        flat = [
            ([f], rule) if "max" in rule or "required" in rule else ([f, inner], sub)
            for f, rule in fields.items()
            for inner, sub in ([(None, rule)] if "max" in rule or "required" in rule
                               else rule.items())
        ]  # fmt: skip
        for path, rule in flat:
            if "max" in rule:
                for n in (rule["max"], rule["max"] + 1):
                    cases.append((name, _set(_base(name), path, "字" * (n - 1) + "😀")))
            if rule.get("min"):
                cases.append((name, _set(_base(name), path, "")))
        cases.append((name, _base(name)))
    verdicts = _node_problems(cases)
    for (name, args), phone in zip(cases, verdicts, strict=True):
        try:
            MUTATION_ARGS[name]().load(args)
            server = None
        except ValidationError as error:
            server = first_error_field(error.messages)
        assert (server is None) == (phone == []), (name, server, phone)
        if server is not None:
            assert phone[0]["field"] == server, (name, server, phone)
