"""What a pushed answer means beyond its values: late or too late, the cases it files.

Plain functions over plain values (the push handler is server/fieldsync/form_answers.py):
the rules of docs/sync-protocol.md §form.answer.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.forms.answers import CaseToOpen
from server.forms.definition import FormDefinition, Question
from server.forms.models import FormVersion

MAX_CASE_TITLE = 200
MAX_CASE_DESCRIPTION = 4000


def case_id_for(answer_id: uuid.UUID, question: str) -> uuid.UUID:
    """The id of the case `question`'s answer in answer `answer_id` files: the same on every
    replay, so an answer sent twice never files twice.

    >>> a = uuid.UUID("12345678-1234-5678-1234-567812345678")
    >>> case_id_for(a, "extinguisher_ok") == case_id_for(a, "extinguisher_ok")
    True
    >>> case_id_for(a, "extinguisher_ok") == case_id_for(a, "exit_clear")
    False
    """
    return uuid.uuid5(answer_id, f"opens_case:{question}")


def device_time_on_server_clock(
    answered_at: dt.datetime, clock_offset_ms: int | None
) -> dt.datetime:
    """The device's `answered_at` moved onto the server's clock: a phone 5 minutes fast
    (offset +300,000 ms) answered 5 minutes earlier than its clock says.

    >>> t = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
    >>> device_time_on_server_clock(t, 300_000).isoformat()
    '2026-12-01T09:55:00+00:00'
    >>> device_time_on_server_clock(t, None) == t
    True
    """
    if clock_offset_ms is None:
        return answered_at
    return answered_at - dt.timedelta(milliseconds=clock_offset_ms)


def after_close(
    answered_at: dt.datetime, clock_offset_ms: int | None, closed_at: dt.datetime
) -> bool:
    """True when an answer reaching a closed campaign was made after it closed (refused);
    False when it was made before (kept, flagged late).

    >>> closed = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    >>> after_close(dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.UTC), None, closed)
    False
    >>> after_close(dt.datetime(2026, 12, 1, 12, 30, tzinfo=dt.UTC), None, closed)
    True
    """
    if closed_at.tzinfo is None:  # SQLite hands back naive UTC
        closed_at = closed_at.replace(tzinfo=dt.UTC)
    return device_time_on_server_clock(answered_at, clock_offset_ms) > closed_at


def _answer_text(question: Question, value: Any) -> str:
    """An answer as the worker saw it: choice labels in Chinese."""
    chosen = value if isinstance(value, list) else [value]
    if question.type == "yes_no":
        return "、".join({"yes": "是", "no": "否"}.get(v, str(v)) for v in chosen)
    labels = {c.value: c.label.zh for c in question.choices}
    return "、".join(labels.get(v, str(v)) for v in chosen)


def case_wording(
    form: FormDefinition, rule: CaseToOpen, values: dict[str, Any], where: str
) -> tuple[str, str]:
    """The Chinese title and description of the case an answer files: the form, the
    question's label and the answer given, and where (the target's or household's label).

    >>> from server.forms.definition import parse_definition
    >>> form = parse_definition({"format": 1, "title": {"zh": "冬季消防检查"}, "questions": [
    ...     {"name": "ok", "type": "yes_no", "label": {"zh": "灭火器在有效期内?"},
    ...      "opens_case": {"catalogue_item": "A01-01", "when": ["no"]}}]})
    >>> rule = CaseToOpen("ok", "A01-01", ("no",))
    >>> title, description = case_wording(form, rule, {"ok": "no"}, "新华路329弄1号")
    >>> title
    '冬季消防检查:灭火器在有效期内?——否'
    >>> description
    '新华路329弄1号 冬季消防检查发现:灭火器在有效期内? 回答:否'
    """
    question = form.question(rule.question)
    label = question.label.zh if question is not None else rule.question
    answer = _answer_text(question, values.get(rule.question)) if question else ""
    title = f"{form.title.zh}:{label}——{answer}"[:MAX_CASE_TITLE]
    description = f"{where} {form.title.zh}发现:{label} 回答:{answer}".strip()
    return title, description[:MAX_CASE_DESCRIPTION]


def latest_published(session: Session, form_ids: Iterable[int]) -> dict[int, int]:
    """Each form's latest published version id, by form id (forms without one left out)."""
    wanted = sorted(set(form_ids))
    if not wanted:
        return {}
    latest = (
        select(FormVersion.form_id, func.max(FormVersion.number).label("number"))
        .where(FormVersion.form_id.in_(wanted), FormVersion.published_at.is_not(None))
        .group_by(FormVersion.form_id)
        .subquery()
    )
    rows = session.execute(
        select(FormVersion.form_id, FormVersion.id).join(
            latest,
            (latest.c.form_id == FormVersion.form_id) & (latest.c.number == FormVersion.number),
        )
    )
    return {form_id: version_id for form_id, version_id in rows}
