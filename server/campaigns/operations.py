"""Verbs of a campaign's life in the office: save a draft, preview, publish, close.

Publishing builds the targets from the selection in one transaction and stamps ONE version
on the campaign and every target; closing stamps a fresh version on the campaign and writes
one `ScopeExit` per target, so the next pull takes them off the phones (docs/forms.md
§Campaigns, docs/sync-protocol.md §Scope). Every refusal is a typed error, nothing is kept.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from server.campaigns.errors import CampaignInvalid, CampaignStateConflict
from server.campaigns.listfile import ListMatch
from server.campaigns.models import (
    CLOSED,
    DRAFT,
    PUBLISHED,
    TARGET_KINDS,
    Campaign,
    CampaignCell,
    CampaignTarget,
)
from server.campaigns.selection import Resolved, Selection, resolve, responsible_codes
from server.cases.grid_access import CellInfo
from server.exceptions import Conflict, NotFound
from server.forms.models import Form, FormVersion
from server.population.models import CareTag
from sync.db import utcnow
from sync.models import ScopeExit
from sync.versions import next_version

CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
MAX_DESCRIPTION = 4000


@dataclass
class CampaignFields:
    """What the office's form gives (already split into plain values)."""

    code: str
    title_zh: str
    description_zh: str = ""
    form_id: int | None = None
    target_kind: str = "household"
    responsible: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    care_tags: list[str] = field(default_factory=list)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    #: A newly uploaded list; None keeps the draft's list unless `drop_list`.
    upload: ListMatch | None = None
    drop_list: bool = False


def get(session: Session, campaign_id: int) -> Campaign:
    found = session.get(Campaign, campaign_id)
    if found is None:
        raise NotFound(_l("No such campaign."), code="campaign_not_found")
    return found


def published_forms(session: Session) -> list[Form]:
    """The forms a campaign may ask: those with at least one published version."""
    has = select(FormVersion.form_id).where(FormVersion.published_at.is_not(None))
    return list(session.scalars(select(Form).where(Form.id.in_(has)).order_by(Form.code)))


def latest_published(session: Session, form_id: int) -> FormVersion | None:
    stmt = (
        select(FormVersion)
        .where(FormVersion.form_id == form_id, FormVersion.published_at.is_not(None))
        .order_by(FormVersion.number.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def save_draft(
    session: Session,
    fields: CampaignFields,
    cells: Mapping[str, CellInfo],
    *,
    actor_id: int | None,
    campaign: Campaign | None = None,
) -> Campaign:
    """Create (campaign None) or change a draft; CampaignInvalid / Conflict, nothing kept."""
    if campaign is not None and campaign.status != DRAFT:
        raise CampaignStateConflict(
            _l("Only a draft campaign can be edited."), code="campaign_not_draft"
        )
    _check(session, fields, cells, campaign)
    previous = Selection.from_json(campaign.selection) if campaign is not None else Selection()
    selection = Selection(
        responsible=tuple(dict.fromkeys(fields.responsible)),
        cells=tuple(dict.fromkeys(fields.cells)),
        care_tags=tuple(dict.fromkeys(fields.care_tags)),
        list_name=previous.list_name,
        list_households=previous.list_households,
        list_residents=previous.list_residents,
    )
    if fields.upload is not None:
        selection = _with_list(selection, fields.upload)
    elif fields.drop_list:
        selection = _with_list(selection, None)
    if campaign is None:
        campaign = Campaign(created_by_id=actor_id, status=DRAFT, version=0)
        session.add(campaign)
    campaign.code = fields.code.strip()
    campaign.title_zh = fields.title_zh.strip()
    campaign.description_zh = fields.description_zh.strip()
    assert fields.form_id is not None and fields.starts_on and fields.ends_on  # _check did
    campaign.form_id = fields.form_id
    campaign.target_kind = fields.target_kind
    campaign.starts_on, campaign.ends_on = fields.starts_on, fields.ends_on
    campaign.selection = selection.to_json()
    wanted = responsible_codes(cells, selection.responsible)
    kept = [c for c in campaign.cells if c.cell_code in wanted]  # same keys: keep the rows
    have = {c.cell_code for c in kept}
    campaign.cells = kept + [CampaignCell(cell_code=c) for c in sorted(wanted - have)]
    session.flush()
    return campaign


def _with_list(selection: Selection, upload: ListMatch | None) -> Selection:
    return Selection(
        responsible=selection.responsible,
        cells=selection.cells,
        care_tags=selection.care_tags,
        list_name=upload.name if upload else None,
        list_households=frozenset(upload.households) if upload else None,
        list_residents=frozenset(upload.residents) if upload else None,
    )


def _check(
    session: Session,
    fields: CampaignFields,
    cells: Mapping[str, CellInfo],
    campaign: Campaign | None,
) -> None:
    code = fields.code.strip()
    if not CODE.match(code):
        raise CampaignInvalid(
            _l("The code is 1 to 64 letters, digits, '_', '-' or '.', starting with a letter."),
            code="campaign_code",
            field="code",
        )
    taken = session.scalar(select(Campaign.id).where(Campaign.code == code))
    if taken is not None and (campaign is None or taken != campaign.id):
        raise Conflict(
            _l("Another campaign already has the code %(code)s.", code=code),
            code="campaign_code_taken",
            field="code",
        )
    title = fields.title_zh.strip()
    if not title or len(title) > 100:
        raise CampaignInvalid(
            _l("Give a title of at most 100 characters."), code="campaign_title", field="title_zh"
        )
    if len(fields.description_zh) > MAX_DESCRIPTION:
        raise CampaignInvalid(
            _l("The description is at most %(n)d characters.", n=MAX_DESCRIPTION),
            code="campaign_description",
            field="description_zh",
        )
    _check_form(session, fields.form_id)
    if fields.target_kind not in TARGET_KINDS:
        raise CampaignInvalid(
            _l("Targets are buildings, households or residents."),
            code="campaign_target_kind",
            field="target_kind",
        )
    _check_cells(fields, cells)
    known_tags = set(session.scalars(select(CareTag.code)))
    unknown = [t for t in fields.care_tags if t not in known_tags]
    if unknown:
        raise CampaignInvalid(
            _l("Unknown care tag: %(tags)s.", tags="、".join(unknown[:5])),
            code="campaign_unknown_tag",
            field="care_tags",
        )
    check_dates(fields.starts_on, fields.ends_on)


def _check_form(session: Session, form_id: int | None) -> None:
    if form_id is None or session.get(Form, form_id) is None:
        raise CampaignInvalid(_l("Choose the form."), code="campaign_form", field="form_id")
    if latest_published(session, form_id) is None:
        raise CampaignInvalid(
            _l("The form has no published version yet; publish it first."),
            code="campaign_form_unpublished",
            field="form_id",
        )


def _check_cells(fields: CampaignFields, cells: Mapping[str, CellInfo]) -> None:
    if not fields.responsible:
        raise CampaignInvalid(
            _l("Choose at least one responsible cell."),
            code="campaign_no_cells",
            field="responsible",
        )
    for name, codes in (("responsible", fields.responsible), ("cells", fields.cells)):
        unknown = [c for c in codes if c not in cells]
        if unknown:
            raise CampaignInvalid(
                _l("Not a cell of the published grid: %(codes)s.", codes="、".join(unknown[:5])),
                code="campaign_unknown_cell",
                field=name,
            )


def check_dates(starts_on: dt.date | None, ends_on: dt.date | None) -> None:
    """Both dates given, the start not after the end."""
    if starts_on is None or ends_on is None:
        raise CampaignInvalid(
            _l("Give the start and end dates."), code="campaign_dates", field="starts_on"
        )
    if starts_on > ends_on:
        raise CampaignInvalid(
            _l("The campaign cannot end before it starts."),
            code="campaign_dates",
            field="ends_on",
        )


def preview(session: Session, campaign: Campaign, cells: Mapping[str, CellInfo]) -> Resolved:
    """The targets publishing would make now (nothing is stored)."""
    return resolve(session, campaign.target_kind, Selection.from_json(campaign.selection), cells)


def publish(
    session: Session, campaign: Campaign, cells: Mapping[str, CellInfo], *, today: dt.date
) -> int:
    """Build the targets, stamp one version on them and the campaign; return the count."""
    if campaign.status != DRAFT:
        raise CampaignStateConflict(
            _l("This campaign is already published."), code="campaign_not_draft"
        )
    _check_form(session, campaign.form_id)
    check_dates(campaign.starts_on, campaign.ends_on)
    if campaign.ends_on < today:
        raise CampaignInvalid(
            _l("The campaign's end date has passed; change the dates first."),
            code="campaign_dates",
            field="ends_on",
        )
    targets = preview(session, campaign, cells).targets
    if not targets:
        raise CampaignInvalid(
            _l("The selection gives no targets; nothing to publish."),
            code="campaign_no_targets",
            field="selection",
        )
    version = next_version(session)
    rows = [
        {
            "id": uuid.uuid4(),
            "campaign_id": campaign.id,
            "kind": t.kind,
            "household_id": t.household_id,
            "resident_id": t.resident_id,
            "road": t.road,
            "lane": t.lane,
            "building": t.building,
            "label": t.label,
            "cell_code": t.cell_code,
            "version": version,
        }
        for t in targets
    ]
    # Core's executemany (insertmanyvalues), not the ORM's bulk path: no objects to build.
    session.execute(insert(CampaignTarget.__table__), rows)
    campaign.status, campaign.published_at, campaign.version = PUBLISHED, utcnow(), version
    session.flush()
    return len(rows)


def close(session: Session, campaign: Campaign) -> int:
    """Close a published campaign; its targets leave the phones. Return the target count."""
    if campaign.status != PUBLISHED:
        message = (
            _l("A draft campaign cannot be closed; publish it or leave it.")
            if campaign.status == DRAFT
            else _l("This campaign is already closed.")
        )
        raise CampaignStateConflict(message, code="campaign_not_published")
    version = next_version(session)
    stmt = select(CampaignTarget.id, CampaignTarget.cell_code).where(
        CampaignTarget.campaign_id == campaign.id
    )
    now = utcnow()
    exits = [
        {
            "version": version,
            "table_name": "campaign_targets",
            "row_id": target_id.hex,
            "cell_code": cell_code,
            "recorded_at": now,
        }
        for target_id, cell_code in session.execute(stmt)
    ]
    if exits:
        session.execute(insert(ScopeExit.__table__), exits)
    campaign.status, campaign.closed_at, campaign.version = CLOSED, now, version
    session.flush()
    return len(exits)


def change_end(
    session: Session, campaign: Campaign, ends_on: dt.date | None, *, today: dt.date
) -> dt.date:
    """Move a published campaign's end date (a deadline pushed back or brought forward); the
    phones learn it at their next pull (the campaign takes a new version). Return the old date.

    The date stays on or after the start and on or after today: a campaign is ended by
    closing it, not by a date in the past."""
    if campaign.status != PUBLISHED:
        raise CampaignStateConflict(
            _l("Only a published campaign's end date is changed here; edit a draft instead.")
            if campaign.status == DRAFT
            else _l("This campaign is already closed."),
            code="campaign_not_published",
        )
    check_dates(campaign.starts_on, ends_on)
    assert ends_on is not None  # check_dates refuses a missing date
    if ends_on < today:
        raise CampaignInvalid(
            _l("Choose today or a later day; to end the campaign now, close it."),
            code="campaign_dates",
            field="ends_on",
        )
    old = campaign.ends_on
    if ends_on != old:
        campaign.ends_on, campaign.version = ends_on, next_version(session)
        session.flush()
    return old


def target_counts(session: Session, campaign: Campaign) -> dict[str, int]:
    """Stored targets per cell code (empty for a draft)."""
    stmt = (
        select(CampaignTarget.cell_code, func.count())
        .where(CampaignTarget.campaign_id == campaign.id)
        .group_by(CampaignTarget.cell_code)
        .order_by(CampaignTarget.cell_code)
    )
    return {code: int(n) for code, n in session.execute(stmt)}
