"""The pull's forms and campaigns (docs/sync-protocol.md §Pull: campaigns and forms).

For the worker's cells: published campaigns with a responsible cell among them (a closed one
comes as a deletion), their targets there (they leave by the scope exits the close writes),
the worker's own answers to current campaigns (a second phone of theirs knows what is done)
and to their own visits (shown with the visit, as the visits table is the worker's own),
the care tags with their visit forms, and the published form versions all of these need.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from server.campaigns.models import CLOSED, PUBLISHED, Campaign, CampaignCell, CampaignTarget
from server.fieldsync.scope import WorkerScope
from server.forms.answering import latest_published

# The version of the last change to a care tag's visit form: every care tag, and the form
# versions they name, are sent again at it (a dozen rows).
from server.forms.care_tags import CARE_TAGS_MARK
from server.forms.models import Form, FormAnswer, FormVersion
from server.population.models import CareTag
from sync.db import among
from sync.models import SyncMark
from sync.pull import Change, Key, Source

Keys = list[tuple[int, Any]]
ListKeys = Callable[[Key | None, int, int], Keys]
#: (version column, id column, rank, native id type, filter) → the keyset listing.
Keyset = Callable[[Any, Any, int, Callable[[str], Any], ColumnElement[bool]], ListKeys]

RANK_CAMPAIGNS, RANK_TARGET_EXITS, RANK_TARGETS = 10, 11, 12
RANK_CARE_TAGS, RANK_FORM_VERSIONS, RANK_ANSWERS = 13, 14, 15
#: Ranks of sources whose ids are integers (cells are rank 1); the others' are UUIDs.
INT_ID_RANKS = frozenset({1, 2, RANK_CAMPAIGNS, RANK_FORM_VERSIONS, 8, 9})


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def campaign_data(c: Campaign) -> dict[str, Any]:
    return {
        "code": c.code,
        "title_zh": c.title_zh,
        "description_zh": c.description_zh,
        "form_id": c.form_id,
        "target_kind": c.target_kind,
        "starts_on": _iso(c.starts_on),
        "ends_on": _iso(c.ends_on),
        "status": c.status,
    }


def target_data(t: Any) -> dict[str, Any]:
    return {
        "campaign_id": t.campaign_id,
        "kind": t.kind,
        "household_id": str(t.household_id) if t.household_id else None,
        "resident_id": str(t.resident_id) if t.resident_id else None,
        "label": t.label,
        "road": t.road,
        "lane": t.lane,
        "building": t.building,
        "cell_code": t.cell_code,
    }


def form_version_data(v: FormVersion, form: Form) -> dict[str, Any]:
    return {
        "form_id": v.form_id,
        "form_code": form.code,
        "number": v.number,
        "title": form.title_zh,
        "definition": v.definition,
    }


def answer_data(a: FormAnswer) -> dict[str, Any]:
    def text(value: Any) -> str | None:
        return str(value) if value is not None else None

    return {
        "form_version_id": a.form_version_id,
        "campaign_id": a.campaign_id,
        "target_id": text(a.target_id),
        "visit_id": text(a.visit_id),
        "household_id": text(a.household_id),
        "resident_id": text(a.resident_id),
        "cell_code": a.cell_code,
        "values": a.values,
        "answered_at": _iso(a.answered_at),
        "late": a.late,
        "case_ids": a.case_ids,
    }


def care_tag_data(t: CareTag) -> dict[str, Any]:
    return {
        "name_zh": t.name_zh,
        "name_en": t.name_en,
        "visit_every_days": t.visit_every_days,
        "priority": t.priority,
        "visit_form_id": t.visit_form_id,
    }


def computed_keys(
    keys: Iterable[tuple[int, Any]], rank: int, native: Callable[[str], Any]
) -> ListKeys:
    """A listing over keys worked out in Python (a few dozen rows: care tags, forms)."""
    every = sorted(set(keys))

    def listing(after: Key | None, top: int, limit: int) -> Keys:
        found = []
        for version, row_id in every:
            if version > top:
                continue
            if after is not None:
                how, at = after.after_clause(rank)
                if (
                    (how == "gt" and version <= at)
                    or (how == "ge" and version < at)
                    or (how == "tie" and (version, row_id) <= (at, native(after.id)))
                ):
                    continue
            found.append((version, row_id))
        return found[:limit]

    return listing


Loaders = dict[str, Callable[[Keys], list[Change]]]


def campaign_sources(
    session: Session,
    scope: WorkerScope,
    full: bool,
    keyset: Keyset,
    exits: Callable[[str, int], tuple[ListKeys, Callable[[Keys], list[Change]]]],
) -> tuple[list[Source], Loaders]:
    """The sources of this module's tables for `scope` (`full`: a first pull, no cursor), and
    the upsert loaders a scope transition reuses (server/fieldsync/transition.py)."""
    codes = sorted(scope.cell_codes)
    mine = (
        select(CampaignCell.campaign_id).where(CampaignCell.cell_code.in_(codes)).scalar_subquery()
    )
    shown = [PUBLISHED] if full else [PUBLISHED, CLOSED]  # a closed one comes as a deletion
    published = select(Campaign.id).where(Campaign.status == PUBLISHED).scalar_subquery()

    def load(model: Any, page: Keys) -> list[Any]:
        found = {
            row.id: row
            for row in session.scalars(
                select(model).where(among(session, model.id, [i for _, i in page]))
            )
        }
        return [found[i] for _, i in page]

    def campaigns_load(page: Keys) -> list[Change]:
        return [
            Change(
                "campaigns",
                str(c.id),
                c.version,
                "upsert" if c.status == PUBLISHED else "delete",
                campaign_data(c) if c.status == PUBLISHED else None,
                c.id,
            )
            for c in load(Campaign, page)
        ]

    def targets_load(page: Keys) -> list[Change]:
        return [
            Change("campaign_targets", str(t.id), t.version, "upsert", target_data(t), t.id)
            for t in load(CampaignTarget, page)
        ]

    def answers_load(page: Keys) -> list[Change]:
        return [
            Change("form_answers", str(a.id), a.version, "upsert", answer_data(a), a.id)
            for a in load(FormAnswer, page)
        ]

    def care_tags_load(page: Keys) -> list[Change]:
        tags = {t.code: t for t in session.scalars(select(CareTag))}
        return [
            Change("care_tags", code, v, "upsert", care_tag_data(tags[code]), code)
            for v, code in page
        ]

    def forms_load(page: Keys) -> list[Change]:
        versions = {v.id: v for v in load(FormVersion, page)}
        forms = {
            f.id: f
            for f in session.scalars(
                select(Form).where(Form.id.in_({v.form_id for v in versions.values()}))
            )
        }
        return [
            Change(
                "form_versions",
                str(i),
                v,
                "upsert",
                form_version_data(versions[i], forms[versions[i].form_id]),
                i,
            )
            for v, i in page
        ]

    exit_keys, exit_load = exits("campaign_targets", RANK_TARGET_EXITS)
    tags_stamp, tags_keys, form_keys = _care_tag_keys(session)
    for version_id, version in campaign_form_keys(session, codes).items():
        form_keys[version_id] = max(version, form_keys.get(version_id, 0))
    loaders = {
        "campaigns": campaigns_load,
        "campaign_targets": targets_load,
        "form_versions": forms_load,
    }
    return [
        Source(
            "campaigns",
            RANK_CAMPAIGNS,
            keyset(
                Campaign.version,
                Campaign.id,
                RANK_CAMPAIGNS,
                int,
                and_(Campaign.status.in_(shown), Campaign.id.in_(mine)),
            ),
            campaigns_load,
        ),
        Source("campaign_target_exits", RANK_TARGET_EXITS, exit_keys, exit_load),
        Source(
            "campaign_targets",
            RANK_TARGETS,
            keyset(
                CampaignTarget.version,
                CampaignTarget.id,
                RANK_TARGETS,
                uuid.UUID,
                and_(
                    CampaignTarget.cell_code.in_(codes),
                    CampaignTarget.campaign_id.in_(published),
                ),
            ),
            targets_load,
        ),
        Source(
            "care_tags",
            RANK_CARE_TAGS,
            computed_keys(((tags_stamp, code) for code in tags_keys), RANK_CARE_TAGS, str),
            care_tags_load,
        ),
        Source(
            "form_versions",
            RANK_FORM_VERSIONS,
            computed_keys(((v, i) for i, v in form_keys.items()), RANK_FORM_VERSIONS, int),
            forms_load,
        ),
        Source(
            "form_answers",
            RANK_ANSWERS,
            keyset(
                FormAnswer.version,
                FormAnswer.id,
                RANK_ANSWERS,
                uuid.UUID,
                and_(
                    FormAnswer.worker_id == scope.user_id,
                    or_(
                        FormAnswer.campaign_id.in_(published),
                        # a visit's answers, like the visits table: the worker's own visits
                        FormAnswer.visit_id.is_not(None),
                    ),
                ),
            ),
            answers_load,
        ),
    ], loaders


def _care_tag_keys(session: Session) -> tuple[int, list[str], dict[int, int]]:
    """The care-tag stamp, every tag's code, and the form versions the tags' forms need
    (latest published version id → the stamp): sent at the stamp, all of them."""
    stamp = session.scalar(select(SyncMark.value).where(SyncMark.name == CARE_TAGS_MARK))
    if stamp is None:
        return 0, [], {}
    tags = list(session.execute(select(CareTag.code, CareTag.visit_form_id)))
    latest = latest_published(session, [f for _, f in tags if f is not None])
    return int(stamp), [code for code, _ in tags], dict.fromkeys(latest.values(), int(stamp))


def campaign_form_keys(session: Session, codes: list[str]) -> dict[int, int]:
    """The latest published version of each current campaign's form (of the worker's cells)
    → the highest version of the campaigns that need it."""
    rows = session.execute(
        select(Campaign.form_id, Campaign.version).where(
            Campaign.status == PUBLISHED,
            Campaign.id.in_(
                select(CampaignCell.campaign_id).where(CampaignCell.cell_code.in_(codes))
            ),
        )
    ).all()
    latest = latest_published(session, [form_id for form_id, _ in rows])
    keys: dict[int, int] = {}
    for form_id, version in rows:
        version_id = latest.get(form_id)
        if version_id is not None:
            keys[version_id] = max(version, keys.get(version_id, 0))
    return keys
