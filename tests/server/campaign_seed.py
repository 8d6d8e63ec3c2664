"""A seeded campaign for the progress, report and export tests (issue 18).

On the back-office world (S ⊃ S-A1 ⊃ S-A1-B1 ⊃ G1 | G2) a second residential area S-A2 with
one building group G3 is added. The form has two published versions: v2 renames a question,
relabels a choice, adds a choice and a question that opens a case. Rows are written directly,
as the contract between the issue's helpers describes them (publish stamps one version on the
campaign and its targets; answers carry their target's cell, worker and form version).

    G1: t1 (answered twice: v1 by 周杰, then v2 by 吴芳), t2 (v2 by 周杰, a finding), t3, t4
    G2: t5 (v1 by 郑浩, late), t6
    G3: t7 (v2 by 孙悦), t8
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from shapely import box

from server.accounts.models import User
from server.campaigns.models import PUBLISHED, Campaign, CampaignCell, CampaignTarget
from server.cases.models import Case
from server.enums import CaseStatus, CellLevel, Channel, DutyRank, DutyRole
from server.extensions import db
from server.forms.models import Form, FormAnswer, FormVersion
from server.grid.models import Duty, GridVersion
from tests.server.backoffice_world import LAT0, LON0, T0, cell_row

V1 = {
    "format": 1,
    "title": {"zh": "冬季消防安全检查"},
    "questions": [
        {"name": "has_ext", "type": "yes_no", "label": {"zh": "配有灭火器吗？"}},
        {
            "name": "count",
            "type": "integer",
            "label": {"zh": "灭火器数量"},
            "min": 0,
            "max": 50,
            "unit": "个",
        },
        {
            "name": "hazards",
            "type": "select_multiple",
            "label": {"zh": "隐患"},
            "choices": [
                {"value": "storage", "label": {"zh": "堆物"}},
                {"value": "ebike", "label": {"zh": "电动车进楼充电"}},
            ],
        },
    ],
}
V2 = {
    "format": 1,
    "title": {"zh": "冬季消防安全检查"},
    "questions": [
        {"name": "has_ext", "type": "yes_no", "label": {"zh": "楼内配有灭火器吗？"}},
        {
            "name": "ext_valid",
            "type": "yes_no",
            "label": {"zh": "灭火器在有效期内？"},
            "opens_case": {"catalogue_item": "A01-09", "when": ["no"]},
        },
        {
            "name": "count",
            "type": "integer",
            "label": {"zh": "灭火器数量"},
            "min": 0,
            "max": 50,
            "unit": "个",
        },
        {
            "name": "hazards",
            "type": "select_multiple",
            "label": {"zh": "发现的隐患"},
            "choices": [
                {"value": "storage", "label": {"zh": "楼道堆物"}},
                {"value": "ebike", "label": {"zh": "电动车进楼充电"}},
                {"value": "blocked", "label": {"zh": "消防通道堵塞"}},
            ],
        },
    ],
}


@dataclass
class Seeded:
    campaign: Campaign
    targets: dict[str, CampaignTarget] = field(default_factory=dict)
    case: Case | None = None
    users: dict[str, User] = field(default_factory=dict)


def _add_area() -> None:
    grid = db.session.query(GridVersion).one()
    for code, name, level, parent, x0 in (
        ("S-A2", "华山居民区", CellLevel.RESIDENTIAL_AREA, "S", 0.02),
        ("G3", "3号楼组", CellLevel.BUILDING_GROUP, "S-A2", 0.02),
    ):
        geom = box(LON0 + x0, LAT0, LON0 + x0 + 0.01, LAT0 + 0.02)
        db.session.add(cell_row(grid, code, name, level, parent, geom))


def seed_campaign(world: Any) -> Seeded:
    """The campaign above, committed; returns its rows."""
    _add_area()
    w4 = User(username="w4", display_name="孙悦", role="worker", password_hash="x")
    mgr2 = User(
        username="mgr2",
        display_name="钱多",
        role="manager",
        password_hash=world.users["mgr"].password_hash,
    )
    db.session.add_all([w4, mgr2])
    db.session.flush()
    db.session.add(
        Duty(
            user_id=mgr2.id,
            cell_code="S-A2",
            role=DutyRole.GRID_WORKER,
            rank=DutyRank.PRINCIPAL,
            starts_on=dt.date(2026, 1, 1),
        )
    )
    form = Form(code="fire", title_zh="冬季消防安全检查")
    db.session.add(form)
    db.session.flush()
    v1 = FormVersion(form_id=form.id, number=1, definition=V1, published_at=T0)
    v2 = FormVersion(form_id=form.id, number=2, definition=V2, published_at=T0)
    db.session.add_all([v1, v2])
    campaign = Campaign(
        code="fire_2026_winter",
        title_zh="冬季消防安全检查",
        form_id=form.id,
        target_kind="building",
        selection={"cells": ["G1", "G2", "G3"], "care_tags": [], "list": None},
        starts_on=dt.date(2026, 11, 20),
        ends_on=dt.date(2026, 12, 20),
        status=PUBLISHED,
        published_at=T0,
        version=7,
    )
    db.session.add(campaign)
    db.session.flush()
    for cell in ("G1", "G2", "G3"):
        db.session.add(CampaignCell(campaign_id=campaign.id, cell_code=cell))
    seeded = Seeded(campaign, users={"w4": w4, "mgr2": mgr2})
    for name, cell, building in (
        ("t1", "G1", "1"),
        ("t2", "G1", "2"),
        ("t3", "G1", "3"),
        ("t4", "G1", "4"),
        ("t5", "G2", "5"),
        ("t6", "G2", "6"),
        ("t7", "G3", "7"),
        ("t8", "G3", "8"),
    ):
        target = CampaignTarget(
            id=uuid.uuid4(),
            campaign_id=campaign.id,
            kind="building",
            road="番禺路",
            lane="100弄",
            building=building,
            label=f"番禺路100弄{building}号",
            cell_code=cell,
            version=7,
        )
        db.session.add(target)
        seeded.targets[name] = target
    case = Case(
        number="XH-2026-000901",
        channel=Channel.PATROL,
        status=CaseStatus.DISPATCHED,
        title="灭火器过期",
        lon=LON0 + 0.005,
        lat=LAT0 + 0.01,
        cell_code="G1",
    )
    db.session.add(case)
    db.session.flush()
    seeded.case = case
    w = world.users
    at = T0 + dt.timedelta(hours=1)
    for target, version, worker, minutes, values, late, cases in (
        ("t1", v1, w["w1"], 0, {"has_ext": "yes", "count": 2, "hazards": ["storage"]}, False, []),
        ("t1", v2, w["w2"], 60, {"has_ext": "no", "hazards": ["storage", "ebike"]}, False, []),
        (
            "t2",
            v2,
            w["w1"],
            30,
            {"has_ext": "yes", "ext_valid": "no", "count": 4},
            False,
            [str(case.id)],
        ),
        ("t5", v1, w["w3"], 10, {"has_ext": "yes", "count": 6, "hazards": []}, True, []),
        ("t7", v2, w4, 20, {"has_ext": "no", "hazards": ["blocked"]}, False, []),
    ):
        db.session.add(
            FormAnswer(
                id=uuid.uuid4(),
                form_version_id=version.id,
                campaign_id=campaign.id,
                target_id=seeded.targets[target].id,
                cell_code=seeded.targets[target].cell_code,
                worker_id=worker.id,
                values=values,
                answered_at=at + dt.timedelta(minutes=minutes),
                received_at=at + dt.timedelta(minutes=minutes + 1),
                late=late,
                case_ids=cases,
                version=8,
            )
        )
    db.session.commit()
    return seeded
