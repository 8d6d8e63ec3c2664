"""The first pull's `reference.grid`: every cell by name and parent, with its grid workers'
names; outlines only outside the worker's scope; nothing personal (issue 15, where am I)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from server.extensions import db
from tests.sync.conftest import Phone, World


def test_a_first_pull_names_every_cell_and_its_workers(
    phone: Callable[..., Phone], world: World
) -> None:
    world.users["wb"].display_name = "吴芳"
    world.users["wb"].phone = "13800009999"
    db.session.commit()
    wa = phone("wa")
    first = wa.pull_page()
    grid = {c["code"]: c for c in first["reference"]["grid"]}
    assert set(grid) == {"S1", "R1", "B1", "G1", "G2"}
    assert grid["G2"]["workers"] == ["吴芳"] and grid["G2"]["parent_code"] == "B1"
    assert grid["G2"]["level"] == "building_group" and grid["G2"]["geometry"]["type"] == "Polygon"
    # the worker's own cell comes as a `cells` row with its outline; here only its name
    assert "geometry" not in grid["G1"] and len(grid["G1"]["workers"]) == 2
    assert "13800009999" not in json.dumps(first["reference"], ensure_ascii=False)
    # a later page (with a cursor) does not repeat it
    while first.get("has_more"):
        first = wa.pull_page()
    again: dict[str, Any] = wa.pull_page()
    assert "reference" not in again
