"""Forms and campaigns for the sync tests, made the way the contract of issue 18 says the
office code makes them (publish: one version stamped on the campaign and every target; close:
a fresh version and one scope exit per target). The real publish lives in server/campaigns/."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from server.campaigns.models import CLOSED, DRAFT, PUBLISHED, Campaign, CampaignCell, CampaignTarget
from server.catalogue.models import CatalogueCategory, CatalogueItem
from server.enums import CatalogueKind
from server.forms.models import Form, FormVersion
from server.forms.store import publish, save_draft
from server.population.models import Household
from sync.db import utcnow
from sync.models import ScopeExit
from sync.versions import next_version
from tests.sync.conftest import World

FIRE_ITEM = "A01-01"


def fire_definition(extra: bool = False) -> dict[str, Any]:
    """A fire-safety checklist: a "no" to the extinguisher question files a case with the
    gauge photo; `extra` adds a question (version 2 of the form)."""
    questions: list[dict[str, Any]] = [
        {
            "name": "gauge",
            "type": "photo",
            "label": {"zh": "拍摄灭火器压力表"},
        },
        {
            "name": "extinguisher_ok",
            "type": "yes_no",
            "label": {"zh": "灭火器在有效期内?"},
            "required": True,
            "opens_case": {"catalogue_item": FIRE_ITEM, "when": ["no"], "photo": "gauge"},
        },
        {
            "name": "floors",
            "type": "integer",
            "label": {"zh": "楼层数"},
            "min": 1,
            "max": 40,
        },
    ]
    if extra:
        questions.append({"name": "exits_clear", "type": "yes_no", "label": {"zh": "通道畅通?"}})
    return {"format": 1, "title": {"zh": "冬季消防检查"}, "questions": questions}


def fire_item(session: Any) -> CatalogueItem:
    """The catalogue item the checklist's rule names (made once per database)."""
    item = session.scalar(select(CatalogueItem).where(CatalogueItem.code == FIRE_ITEM))
    if item is not None:
        return item
    category = CatalogueCategory(
        code="A01", kind=CatalogueKind.AFFAIR, name_zh="消防安全", name_en="Fire safety"
    )
    item = CatalogueItem(
        code=FIRE_ITEM,
        category=category,
        name_zh="消防器材缺失或过期",
        name_en="Fire equipment missing or expired",
        limit_urgent_hours=2,
        limit_high_hours=24,
        limit_normal_hours=72,
        version=next_version(session),
    )
    session.add_all([category, item])
    session.commit()
    return item


def make_form(session: Any, code: str = "fire_check", *, versions: int = 1) -> Form:
    """A form with `versions` published versions (the last one has the extra question)."""
    fire_item(session)
    form = Form(code=code, title_zh="冬季消防检查")
    session.add(form)
    session.flush()
    for n in range(versions):
        version = save_draft(session, form, fire_definition(extra=n > 0))
        publish(session, version)
        session.refresh(form)
    session.commit()
    return form


def publish_next_version(session: Any, form: Form) -> FormVersion:
    version = save_draft(session, form, fire_definition(extra=True))
    publish(session, version)
    session.commit()
    return version


def version_of(session: Any, form: Form, number: int) -> int:
    found = session.scalar(
        select(FormVersion.id).where(FormVersion.form_id == form.id, FormVersion.number == number)
    )
    assert found is not None
    return int(found)


def make_campaign(
    session: Any,
    world: World,
    form: Form,
    *,
    cells: tuple[str, ...] = ("G1", "G2"),
    code: str | None = None,
    status: str = PUBLISHED,
) -> Campaign:
    """A campaign over every household of `cells`, published with one version (or a draft)."""
    today = dt.date.today()
    campaign = Campaign(
        code=code or f"fire_{uuid.uuid4().hex[:6]}",
        title_zh="冬季消防专项检查",
        form_id=form.id,
        target_kind="household",
        selection={"cells": list(cells), "care_tags": [], "list": None},
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=30),
        status=DRAFT,
    )
    campaign.cells = [CampaignCell(cell_code=c) for c in cells]
    session.add(campaign)
    session.flush()
    version = next_version(session) if status != DRAFT else 0
    for cell in cells:
        for household_id in world.households[cell]:
            household = session.get(Household, household_id)
            session.add(
                CampaignTarget(
                    campaign_id=campaign.id,
                    kind="household",
                    household_id=household_id,
                    road=household.road,
                    building=household.building,
                    label=household.address,
                    cell_code=cell,
                    version=version,
                )
            )
    if status != DRAFT:
        campaign.status, campaign.published_at, campaign.version = PUBLISHED, utcnow(), version
    session.commit()
    return campaign


def targets_of(session: Any, campaign: Campaign, cell: str) -> list[CampaignTarget]:
    return list(
        session.scalars(
            select(CampaignTarget)
            .where(CampaignTarget.campaign_id == campaign.id, CampaignTarget.cell_code == cell)
            .order_by(CampaignTarget.label)
        )
    )


def close_campaign(session: Any, campaign: Campaign, at: dt.datetime | None = None) -> None:
    """Close as the contract says: a fresh version, one scope exit per target."""
    version = next_version(session)
    campaign.status, campaign.closed_at, campaign.version = CLOSED, at or utcnow(), version
    session.add_all(
        ScopeExit(
            version=version,
            table_name="campaign_targets",
            row_id=target.id.hex,
            cell_code=target.cell_code,
        )
        for target in session.scalars(
            select(CampaignTarget).where(CampaignTarget.campaign_id == campaign.id)
        )
    )
    session.commit()


def answer_args(
    campaign: Campaign, target: CampaignTarget, version_id: int, **values: Any
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "form_version_id": version_id,
        "campaign_id": campaign.id,
        "target_id": str(target.id),
        "values": values or {"extinguisher_ok": "yes", "floors": 6},
        "answered_at": utcnow().isoformat(),
    }
