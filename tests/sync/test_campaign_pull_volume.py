"""Issue 18's measure: a campaign over 10,000 targets, the time to pull a cell's targets
(here all 10,000 in G1, the worst case for one phone). Prints the figures; both backends."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest

from server.campaigns.models import PUBLISHED, Campaign, CampaignCell, CampaignTarget
from server.extensions import db
from sync.bulk import insert_rows
from sync.db import utcnow
from sync.versions import next_version
from tests.sync.campaign_world import make_form

pytestmark = pytest.mark.slow
TARGETS = 10_000


def test_a_cells_ten_thousand_targets_pull_in_pages(phone, world):
    form = make_form(db.session)
    version = next_version(db.session)
    campaign = Campaign(
        code="big",
        title_zh="万户排查",
        form_id=form.id,
        target_kind="building",
        starts_on=dt.date.today(),
        ends_on=dt.date.today() + dt.timedelta(days=30),
        status=PUBLISHED,
        published_at=utcnow(),
        version=version,
    )
    campaign.cells = [CampaignCell(cell_code="G1")]
    db.session.add(campaign)
    db.session.flush()
    rows = [
        {
            "id": uuid.uuid4(),
            "campaign_id": campaign.id,
            "kind": "building",
            "household_id": None,
            "resident_id": None,
            "road": "新华路",
            "lane": str(i // 100),
            "building": str(i % 100),
            "label": f"新华路{i // 100}弄{i % 100}号",
            "cell_code": "G1",
            "version": version,
        }
        for i in range(TARGETS)
    ]
    insert_rows(db.session, CampaignTarget.__table__, rows)
    db.session.commit()
    a = phone("wa")
    started = time.perf_counter()
    pages = a.pull(limit=1000)
    first = time.perf_counter() - started
    assert len(a.table("campaign_targets")) == TARGETS
    b = phone("wa")
    started = time.perf_counter()
    b.pull(limit=5000)
    bigger = time.perf_counter() - started
    dialect = db.session.get_bind().dialect.name
    print(
        f"\n{dialect}: {TARGETS} targets: full pull limit 1000 in {len(pages)} pages "
        f"{first:.2f} s; limit 5000 {bigger:.2f} s"
    )
