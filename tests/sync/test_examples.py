"""The example bodies in tests/data/sync/ (shared with the app's tests) match the server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from server.enums import CaseStatus
from server.extensions import db
from tests.sync.conftest import make_case, office_close

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "sync"


def load(name: str, **values: str) -> Any:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return json.loads(text)


def test_the_example_push_gets_the_example_answer(phone, world):
    case_id = make_case(db.session, world, status=CaseStatus.HANDLING)
    office_close(db.session, world, case_id)
    a = phone("wa")
    request = load(
        "push-request.json",
        device_id=str(a.device_id),
        household_id=str(world.households["G1"][0]),
        case_id=str(case_id),
    )
    got = a.push_raw(request["mutations"], device_now=request["device_now"]).get_json()
    want = load("push-response.json")
    assert got["last_seq"] == want["last_seq"]
    for mine, example in zip(got["results"], want["results"], strict=True):
        assert mine.keys() == example.keys()
        assert (mine["seq"], mine["op_id"], mine["status"]) == (
            example["seq"],
            example["op_id"],
            example["status"],
        )
        assert mine.get("reason", {}).get("code") == example.get("reason", {}).get("code")


def test_the_example_pull_has_the_shape_the_server_sends(phone, world):
    a = phone("wa")
    a.add(
        "case.report",
        load("push-request.json", device_id="", household_id="", case_id="")["mutations"][1][
            "args"
        ],
    )
    a.push()
    got = a.pull_page()
    want = load("pull-response.json", case_id="x")
    assert set(want) <= set(got)
    mine = {c["table"]: c for c in got["changes"]}
    for change in want["changes"]:
        if change["op"] == "upsert" and change["table"] in mine:
            assert mine[change["table"]]["data"].keys() == change["data"].keys()
    assert got["missing_photos"] == want["missing_photos"]
    assert set(load("pull-reset.json")) <= {"reset", "last_seq"}
