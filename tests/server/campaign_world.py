"""A register for campaign tests, on the back-office street (tests/server/backoffice_world.py).

    S ⊃ S-A1 ⊃ S-A1-B1 ⊃ G1 | G2, and S ⊃ S-A2 ⊃ S-A2-B1 ⊃ G3 (added here)

Households: 新华路329弄12号 101/102 in G1, 201 in G2 (the building spans two cells), 新华路
329弄14号 101 in G1, 番禺路5号 301 in G3. Care tags 独居 (alone) and 高龄 (old); one resident
moved out. A fire-safety form with a published version, and one with only a draft.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from openpyxl import Workbook
from shapely import box

from server.campaigns.models import Campaign
from server.campaigns.operations import CampaignFields, save_draft
from server.cases.grid_access import cell_tree
from server.enums import CellLevel, GridStatus
from server.extensions import db
from server.forms.models import Form
from server.forms.store import publish
from server.forms.store import save_draft as save_form
from server.grid.models import GridVersion
from server.population.models import CareTag, Household, Resident, ResidentTag
from tests.forms.test_definition import fire_form
from tests.server.backoffice_world import LAT0, LON0, World, cell_row

EXTRA_CELLS = (
    ("S-A2", "华山居民区", CellLevel.RESIDENTIAL_AREA, "S"),
    ("S-A2-B1", "第二块区", CellLevel.BLOCK, "S-A2"),
    ("G3", "3号楼组", CellLevel.BUILDING_GROUP, "S-A2-B1"),
)
HOMES = (
    # key, road, lane, building, room, cell, residents [(name, tags, status)]
    ("no:1", "新华路", "329", "12", "101", "G1", [("张三", ["alone"], "active")]),
    ("no:2", "新华路", "329", "12", "102", "G1", [("李四", [], "active"), ("王五", [], "active")]),
    ("no:3", "新华路", "329", "12", "201", "G2", [("赵六", ["old"], "active")]),
    ("no:4", "新华路", "329", "14", "101", "G1", [("孙七", ["alone"], "moved_out")]),
    ("no:5", "番禺路", "", "5", "301", "G3", [("周八", ["alone", "old"], "active")]),
)


@dataclass
class CampaignWorld:
    world: World
    form: Form
    draft_form: Form
    homes: dict[str, Household] = field(default_factory=dict)
    people: dict[str, Resident] = field(default_factory=dict)

    def cells(self) -> Any:
        return cell_tree(db.session)

    def draft(self, **overrides: Any) -> Campaign:
        values: dict[str, Any] = {
            "code": "fire_2026",
            "title_zh": "冬季消防检查",
            "form_id": self.form.id,
            "target_kind": "household",
            "responsible": ["S"],
            "starts_on": self.world.clock.now.date(),
            "ends_on": self.world.clock.now.date().replace(month=12, day=31),
        }
        values.update(overrides)
        campaign = save_draft(
            db.session, CampaignFields(**values), self.cells(), actor_id=self.world.users["mgr"].id
        )
        db.session.commit()
        return campaign


def _cells() -> None:
    grid = db.session.query(GridVersion).filter_by(status=GridStatus.PUBLISHED).one()
    geom = box(LON0 + 0.03, LAT0, LON0 + 0.04, LAT0 + 0.02)
    for code, name, level, parent in EXTRA_CELLS:
        db.session.add(cell_row(grid, code, name, level, parent, geom))


def address(road: str, lane: str, building: str, room: str) -> str:
    return f"{road}{lane + '弄' if lane else ''}{building}号{room}室"


@pytest.fixture
def campaign_world(world: World) -> CampaignWorld:
    _cells()
    db.session.add_all(
        [
            CareTag(code="alone", name_zh="独居", name_en="alone", visit_every_days=7),
            CareTag(code="old", name_zh="高龄", name_en="old", visit_every_days=30),
        ]
    )
    form = Form(code="fire_check", title_zh="冬季消防安全检查")
    draft_form = Form(code="draft_only", title_zh="草稿表单")
    db.session.add_all([form, draft_form])
    db.session.flush()
    publish(db.session, save_form(db.session, form, fire_form()))
    save_form(db.session, draft_form, fire_form())
    cw = CampaignWorld(world, form, draft_form)
    for key, road, lane, building, room, cell, people in HOMES:
        home = Household(
            register_key=key,
            address=address(road, lane, building, room),
            road=road,
            lane=lane,
            building=building,
            room=room,
            cell_code=cell,
        )
        db.session.add(home)
        db.session.flush()
        cw.homes[key] = home
        for name, tags, status in people:
            person = Resident(
                household_id=home.id,
                name=name,
                gender="F",
                status=status,
                register_key=f"hh:{key}/{name}/",
            )
            person.tags = [ResidentTag(tag_code=t) for t in tags]
            db.session.add(person)
            cw.people[name] = person
    db.session.commit()
    return cw


def xlsx_list(rows: list[list[Any]]) -> bytes:
    """A one-sheet workbook with these rows (the first is the header)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
