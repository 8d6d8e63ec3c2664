"""A campaign's results as a table: one row per target with every answer of its latest answer.

Columns: residential area, cell, target, done, worker, answered at (the deployment's time
zone), late, cases, form version, then one column per question (merged by name across form
versions, headed by its label). Choices are written as their labels, never their codes.
The CSV and XLSX writers (`server.exports.cells`) neutralise formula-like text.
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
from server.cases import grid_access
from sync.db import among

#: Fixed columns, by key; the view gives their headers in the reader's language.
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
) -> list[list[Any]]:
    """Header row then one row per target in the allowed cells (area, cell, label order)."""
    cells = grid_access.cell_tree(session)
    questions = form_questions(session, campaign.form_id, locale=locale)
    query = select(CampaignTarget.id, CampaignTarget.label, CampaignTarget.cell_code).where(
        CampaignTarget.campaign_id == campaign.id
    )
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
                t.label,
                *_answer_cells(latest.get(t.id), questions, names, cases, words, localtime),
            ]
        )
    rows.sort(key=lambda r: (r[0] == "", r[0], r[1], r[2]))
    header = [headers[k] for k in FIXED] + [q.label for q in questions]
    return [header, *rows]


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
