"""A campaign's results read by people: choice counts and number distributions by cell.

Answers are made on different versions of the campaign's form. Questions are merged by
name: a question's label, type and choice labels come from the latest version that has it,
and questions are listed in the latest version's order, then those only older versions had.
Each target counts once, with its latest answer (by the phone's `answered_at`, then
arrival); a value that does not fit the merged question (a type changed between versions) is
left out rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.campaigns.models import Campaign
from server.campaigns.progress import AREA_LEVEL, area_of
from server.cases import grid_access
from server.forms.definition import CHOICE_TYPES, NUMBER_TYPES
from server.forms.models import FormAnswer, FormVersion
from sync.db import among

CHOICE_REPORT_TYPES = ("yes_no", *CHOICE_TYPES)
#: Histogram bins at most (whole numbers over a small range get one bin per value).
MAX_BINS = 10
#: yes/no labels are fixed by the format (docs/forms.md).
YES_NO_LABELS = {"yes": {"zh": "是", "en": "Yes"}, "no": {"zh": "否", "en": "No"}}


@dataclass(frozen=True)
class MergedQuestion:
    name: str
    type: str
    label: str
    #: (value, label) in the latest version's order, then older versions' extra values.
    choices: tuple[tuple[str, str], ...] = ()
    unit: str = ""

    def choice_label(self, value: Any) -> str:
        return next((lab for v, lab in self.choices if v == value), str(value))


def _text(text: Any, locale: str) -> str:
    if isinstance(text, dict):
        return str(text.get(locale) or text.get("zh") or "")
    return str(text or "")


def merged_questions(
    definitions: Sequence[dict[str, Any]], *, locale: str = "zh"
) -> list[MergedQuestion]:
    """Questions of several versions (oldest first) merged by name, newest wording winning.

    >>> v1 = {"questions": [{"name": "a", "type": "yes_no", "label": {"zh": "旧"}},
    ...                     {"name": "b", "type": "text", "label": {"zh": "乙"}}]}
    >>> v2 = {"questions": [{"name": "a", "type": "yes_no", "label": {"zh": "新"}}]}
    >>> [(q.name, q.label) for q in merged_questions([v1, v2])]
    [('a', '新'), ('b', '乙')]
    """
    order: list[str] = []
    latest: dict[str, dict[str, Any]] = {}
    choices: dict[str, dict[str, str]] = {}
    for definition in reversed(definitions):  # newest first: the first seen wins
        for q in definition.get("questions", []):
            name = q.get("name")
            if not isinstance(name, str):
                continue
            if name not in latest:
                latest[name] = q
                order.append(name)
            merged = choices.setdefault(name, {})
            for c in q.get("choices", []) if q.get("type") == latest[name].get("type") else []:
                merged.setdefault(str(c.get("value")), _text(c.get("label"), locale))
    out = []
    for name in order:
        q = latest[name]
        kind = str(q.get("type"))
        pairs: dict[str, str] = (
            {v: _text(t, locale) for v, t in YES_NO_LABELS.items()}
            if kind == "yes_no"
            else choices[name]
        )
        out.append(
            MergedQuestion(
                name=name,
                type=kind,
                label=_text(q.get("label"), locale) or name,
                choices=tuple(pairs.items()),
                unit=str(q.get("unit") or ""),
            )
        )
    return out


def form_questions(session: Session, form_id: int, *, locale: str = "zh") -> list[MergedQuestion]:
    """The merged questions of every published version of a form (and drafts answered on)."""
    rows = session.execute(
        select(FormVersion.definition)
        .where(FormVersion.form_id == form_id)
        .order_by(FormVersion.number)
    ).scalars()
    return merged_questions(list(rows), locale=locale)


@dataclass(frozen=True)
class LatestAnswer:
    target_id: uuid.UUID
    cell_code: str
    answer_id: uuid.UUID
    values: dict[str, Any]
    worker_id: int
    answered_at: dt.datetime
    late: bool
    case_ids: tuple[Any, ...]
    form_version: int


def latest_answers(
    session: Session, campaign_id: int, cells_allowed: frozenset[str] | None
) -> dict[uuid.UUID, LatestAnswer]:
    """Target id → its latest answer, for targets in the allowed cells.

    The latest is picked in SQL (a window over each target's answers, newest by the phone's
    clock, then arrival, then id), so only one answer per target is decoded."""
    where = [FormAnswer.campaign_id == campaign_id]
    if cells_allowed is not None:
        where.append(among(session, FormAnswer.cell_code, sorted(cells_allowed)))
    ranked = (
        select(
            FormAnswer.id,
            func.row_number()
            .over(
                partition_by=FormAnswer.target_id,
                order_by=(
                    FormAnswer.answered_at.desc(),
                    FormAnswer.received_at.desc(),
                    FormAnswer.id.desc(),
                ),
            )
            .label("rank"),
        )
        .where(*where)
        .subquery()
    )
    query = (
        select(
            FormAnswer.target_id,
            FormAnswer.cell_code,
            FormAnswer.id,
            FormAnswer.values,
            FormAnswer.worker_id,
            FormAnswer.answered_at,
            FormAnswer.late,
            FormAnswer.case_ids,
            FormVersion.number,
        )
        .join(ranked, ranked.c.id == FormAnswer.id)
        .join(FormVersion, FormVersion.id == FormAnswer.form_version_id)
        .where(ranked.c.rank == 1, FormAnswer.target_id.is_not(None))
    )
    out: dict[uuid.UUID, LatestAnswer] = {}
    for r in session.execute(query):
        out[r[0]] = LatestAnswer(
            r[0],
            r[1],
            r[2],
            r[3] if isinstance(r[3], dict) else {},
            r[4],
            r[5],
            r[6],
            tuple(r[7] or ()),
            r[8],
        )
    return out


# --- numbers -----------------------------------------------------------------------


def is_number(value: Any, kind: str) -> bool:
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int)
    return isinstance(value, int | float) and value == value and abs(value) != float("inf")


@dataclass(frozen=True)
class Distribution:
    n: int
    min: float | None = None
    q1: float | None = None
    median: float | None = None
    q3: float | None = None
    max: float | None = None
    mean: float | None = None


def distribution(values: Sequence[float]) -> Distribution:
    """Count, min, quartiles (inclusive method), max and mean.

    >>> d = distribution([1, 2, 3, 4, 5])
    >>> (d.n, d.min, d.q1, d.median, d.q3, d.max, d.mean)
    (5, 1, 2.0, 3.0, 4.0, 5, 3.0)
    >>> distribution([]).n
    0
    """
    if not values:
        return Distribution(0)
    if len(values) == 1:
        v = values[0]
        return Distribution(1, v, float(v), float(v), float(v), v, float(v))
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Distribution(
        len(values), min(values), q1, median, q3, max(values), statistics.fmean(values)
    )


def histogram(values: Sequence[float], kind: str) -> list[tuple[str, int]]:
    """Equal-width bins (label "low–high", count); one bin per value for few whole numbers.

    >>> histogram([1, 1, 3], "integer")
    [('1', 2), ('2', 0), ('3', 1)]
    >>> histogram([0.0, 10.0], "decimal")[0]
    ('0–1', 1)
    """
    if not values:
        return []
    low, high = min(values), max(values)
    if kind == "integer" and high - low < MAX_BINS:
        counts = {int(v): 0 for v in range(int(low), int(high) + 1)}
        for v in values:
            counts[int(v)] += 1
        return [(str(k), n) for k, n in counts.items()]
    if low == high:
        return [(f"{low:g}", len(values))]
    width = (high - low) / MAX_BINS
    bins = [0] * MAX_BINS
    for v in values:
        bins[min(MAX_BINS - 1, int((v - low) / width))] += 1
    return [(f"{low + i * width:g}–{low + (i + 1) * width:g}", n) for i, n in enumerate(bins)]


# --- the report --------------------------------------------------------------------


@dataclass
class ChoiceRow:
    key: str
    name: str
    #: Targets whose latest answer answers this question.
    respondents: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def share(self, value: str) -> float | None:
        return self.counts.get(value, 0) / self.respondents if self.respondents else None


@dataclass
class QuestionReport:
    question: MergedQuestion
    rows: list[ChoiceRow] | list[tuple[str, str, Distribution]]
    total: ChoiceRow | Distribution
    bins: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Report:
    answered: int
    groups: list[tuple[str, str]]
    questions: list[QuestionReport]


def _group_of(cells: dict[str, grid_access.CellInfo], code: str, per: str) -> tuple[str, str]:
    if per == AREA_LEVEL:
        area = area_of(cells, code)
        return (area, cells[area].name) if area else ("", "")
    return code, grid_access.cell_path(cells, code)


def _choice_report(
    q: MergedQuestion, grouped: dict[tuple[str, str], list[dict[str, Any]]]
) -> QuestionReport:
    known = {v for v, _ in q.choices}
    rows: list[ChoiceRow] = []
    total = ChoiceRow("", "")
    for (key, name), answers in grouped.items():
        row = ChoiceRow(key, name)
        for values in answers:
            value = values.get(q.name)
            picked = value if q.type == "select_multiple" else [value]
            # An empty multiple choice is an answer ("none of these"); a missing one is not.
            if not isinstance(picked, list) or not all(isinstance(v, str) for v in picked):
                continue
            if (q.type != "select_multiple" and not picked) or not set(picked) <= known:
                continue
            row.respondents += 1
            for v in set(picked):
                row.counts[v] = row.counts.get(v, 0) + 1
        rows.append(row)
        total.respondents += row.respondents
        for v, n in row.counts.items():
            total.counts[v] = total.counts.get(v, 0) + n
    return QuestionReport(q, rows, total)


def _number_report(
    q: MergedQuestion, grouped: dict[tuple[str, str], list[dict[str, Any]]]
) -> QuestionReport:
    rows: list[tuple[str, str, Distribution]] = []
    every: list[float] = []
    for (key, name), answers in grouped.items():
        values = [a[q.name] for a in answers if is_number(a.get(q.name), q.type)]
        rows.append((key, name, distribution(values)))
        every += values
    return QuestionReport(q, rows, distribution(every), histogram(every, q.type))


def campaign_report(
    session: Session,
    campaign: Campaign,
    cells_allowed: frozenset[str] | None,
    *,
    per: str = "cell",
    locale: str = "zh",
) -> Report:
    """Choice questions' counts and shares, number questions' distributions, per cell (or
    per residential area with `per="residential_area"`), over each target's latest answer."""
    cells = grid_access.cell_tree(session)
    latest = latest_answers(session, campaign.id, cells_allowed)
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for answer in latest.values():
        grouped.setdefault(_group_of(cells, answer.cell_code, per), []).append(answer.values)
    grouped = dict(sorted(grouped.items(), key=lambda kv: (kv[0][0] == "", kv[0][1])))
    reports = []
    for q in form_questions(session, campaign.form_id, locale=locale):
        if q.type in CHOICE_REPORT_TYPES:
            reports.append(_choice_report(q, grouped))
        elif q.type in NUMBER_TYPES:
            reports.append(_number_report(q, grouped))
    return Report(len(latest), list(grouped), reports)
