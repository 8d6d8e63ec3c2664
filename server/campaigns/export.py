"""A campaign's results as a table: one row per target with every answer of its latest answer.

Columns: residential area, cell, target, done, worker, answered at (the deployment's time
zone), late, cases, form version, then one column per question (merged by name across form
versions, headed by its label). Choices are written as their labels, never their codes.
The CSV and XLSX writers (`server.exports.cells`) neutralise formula-like text.

What an export holds follows the privacy declaration (server/privacy/declaration.py): answers
are `sensitive`, a household's or a resident's target label (room, name) and the time of an
answer are `personal`. Only an export read as `Audience.OFFICE` (a role allowed to take
personal data out, with the box ticked: `export_audience`) holds them; any other export is the
progress alone, each target shown by its building's address.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.campaigns.models import Campaign, CampaignTarget
from server.campaigns.progress import area_of, case_summaries
from server.campaigns.reports import (
    LatestAnswer,
    MergedQuestion,
    form_questions,
    is_number,
    latest_answers,
)
from server.campaigns.selection import building_label
from server.cases import grid_access
from server.privacy import Audience
from sync.db import among

#: Fixed columns, by key; the view gives their headers in the reader's language. Without
#: personal data, `answered_at` and the answers' columns are left out.
FIXED = (
    "area",
    "cell",
    "target",
    "done",
    "worker",
    "answered_at",
    "late",
    "cases",
    "form_version",
)


def answer_text(q: MergedQuestion, value: Any, words: dict[str, str]) -> Any:
    """One answer as a spreadsheet shows it: labels for choices, numbers as numbers."""
    if value is None:
        return ""
    if q.type in ("yes_no", "select_one"):
        return q.choice_label(value)
    if q.type == "select_multiple" and isinstance(value, list):
        return words.get("list_sep", "、").join(q.choice_label(v) for v in value)
    if q.type in ("integer", "decimal"):
        return value if is_number(value, q.type) else str(value)
    if q.type == "location" and isinstance(value, dict):
        return f"{value.get('lat')}, {value.get('lon')}"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def export_rows(
    session: Session,
    campaign: Campaign,
    cells_allowed: frozenset[str] | None,
    *,
    headers: dict[str, str],
    words: dict[str, str],
    localtime: Callable[[dt.datetime], str],
    locale: str = "zh",
    audience: Audience = Audience.STAFF,
) -> list[list[Any]]:
    """Header row then one row per target in the allowed cells (area, cell, label order);
    answers, answer times and household or resident labels only for `Audience.OFFICE`."""
    personal = audience is Audience.OFFICE
    cells = grid_access.cell_tree(session)
    questions = form_questions(session, campaign.form_id, locale=locale) if personal else []
    query = select(
        CampaignTarget.id,
        CampaignTarget.kind,
        CampaignTarget.label,
        CampaignTarget.road,
        CampaignTarget.lane,
        CampaignTarget.building,
        CampaignTarget.cell_code,
    ).where(CampaignTarget.campaign_id == campaign.id)
    if cells_allowed is not None:
        query = query.where(among(session, CampaignTarget.cell_code, sorted(cells_allowed)))
    targets = session.execute(query).all()
    latest = latest_answers(session, campaign.id, cells_allowed)
    names = dict(
        session.execute(
            select(User.id, User.display_name).where(
                User.id.in_(sorted({a.worker_id for a in latest.values()}))
            )
        ).all()
    )
    cases = case_summaries(session, [c for a in latest.values() for c in a.case_ids])
    rows: list[list[Any]] = []
    for t in targets:
        area = area_of(cells, t.cell_code)
        area_name = cells[area].name if area else ""
        rows.append(
            [
                area_name,
                grid_access.cell_path(cells, t.cell_code),
                t.label if personal else _public_label(t),
                *_answer_cells(latest.get(t.id), questions, names, cases, words, localtime),
            ]
        )
        if not personal:
            del rows[-1][ANSWERED_AT]
    rows.sort(key=lambda r: (r[0] == "", r[0], r[1], r[2]))
    header = [headers[k] for k in FIXED if personal or k != "answered_at"]
    return [header + [q.label for q in questions], *rows]


ANSWERED_AT = FIXED.index("answered_at")


def _public_label(target: Any) -> str:
    """A target as an export without personal data names it: its building (a household's room
    and a resident's name are personal; a building target's label is its address already)."""
    if target.kind == "building":
        return str(target.label)
    return building_label(target.road or "", target.lane or "", target.building or "")


def _answer_cells(
    answer: LatestAnswer | None,
    questions: list[MergedQuestion],
    names: dict[int, str],
    cases: dict[Any, tuple[Any, str, str]],
    words: dict[str, str],
    localtime: Callable[[dt.datetime], str],
) -> list[Any]:
    if answer is None:
        return [words["no"], "", "", "", "", "", *([""] * len(questions))]
    numbers = [
        found[1]
        for cid in answer.case_ids
        for found in (cases.get(_uuid(cid)),)
        if found is not None
    ]
    return [
        words["yes"],
        names.get(answer.worker_id, ""),
        localtime(answer.answered_at),
        words["yes"] if answer.late else words["no"],
        " ".join(numbers),
        answer.form_version,
        *(answer_text(q, answer.values.get(q.name), words) for q in questions),
    ]


def _uuid(value: Any) -> Any:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
