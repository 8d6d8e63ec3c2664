"""Answers against one version of a form: types, ranges, choices, required-if-relevant, and
which answers open a case.

`validate_answers(form, data)` returns `CleanAnswers` or raises `AnswersError` listing every
problem (nothing is kept from a refused set). Rules:

- a question the version does not have is an error (the phone holds another version);
- an answer of the wrong JSON type is an error (no coercion: "3" is not 3, true is not "yes");
- relevance is worked out in form order from the answers themselves (conditions read only
  earlier questions); an answer to a question that is not relevant is **dropped** and listed
  in ``dropped``, as ODK clears it (a phone that kept it after the worker changed an earlier
  answer should not lose the whole visit);
- a required question that is relevant must be answered; `None`, "", [] mean unanswered.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from server.forms import conditions as cond
from server.forms.definition import FormDefinition, Question
from server.forms.problems import AnswersError, FormProblem, problem

MAX_TEXT = 2000
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: A photo the phone uploaded by tus is named by its SHA-256 (as case.report's `photos`).
SHA256 = re.compile(r"^[0-9a-f]{64}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class CaseToOpen:
    """An `opens_case` rule that fired: what to file, from which answer, with which photo."""

    question: str
    catalogue_item: str
    answer: tuple[str, ...]  # the answer's values that are in the rule's `when`
    photo: str | None = None  # the photo id answered to the rule's photo question
    priority: str | None = None


@dataclass(frozen=True)
class CleanAnswers:
    values: dict[str, Any]
    relevant: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    cases: tuple[CaseToOpen, ...] = field(default=())


def relevant_questions(form: FormDefinition, values: Mapping[str, Any]) -> list[str]:
    """The questions asked, given these answers: in form order, each condition evaluated on
    the answers of the relevant questions before it (a hidden question counts as unanswered).
    """
    seen: dict[str, Any] = {}
    asked: list[str] = []
    for q in form.questions:
        expr = form.condition(q.name)
        if expr is None or cond.evaluate(expr, seen):
            asked.append(q.name)
            if q.name in values:
                seen[q.name] = values[q.name]
    return asked


def validate_answers(form: FormDefinition, data: Any) -> CleanAnswers:
    """Check a set of answers (a JSON object: question name → answer) against the form."""
    if not isinstance(data, dict):
        raise AnswersError([problem("answers_not_object")])
    problems: list[FormProblem] = []
    typed: dict[str, Any] = {}
    for name, raw in data.items():
        question = form.question(name) if isinstance(name, str) else None
        if question is None:
            problems.append(problem("unknown_question", question=str(name)[:64]))
            continue
        value = _typed(question, raw, problems)
        if value is not None:
            typed[name] = value
    if problems:  # relevance is decided on well-typed answers only
        raise AnswersError(problems)
    asked = relevant_questions(form, typed)
    relevant = set(asked)
    values = {
        q.name: typed[q.name] for q in form.questions if q.name in typed and q.name in relevant
    }
    dropped = tuple(q.name for q in form.questions if q.name in typed and q.name not in relevant)
    for q in form.questions:
        if q.required and q.name in relevant and q.name not in values:
            problems.append(problem("required", question=q.name))
    if problems:
        raise AnswersError(problems)
    return CleanAnswers(values, tuple(asked), dropped, _cases(form, values))


def _unanswered(raw: Any) -> bool:
    return raw is None or raw == "" or raw == []


def _json_kind(raw: Any) -> str:
    if isinstance(raw, bool):
        return "boolean"
    if isinstance(raw, int | float):
        return "number"
    if isinstance(raw, str):
        return "text"
    if isinstance(raw, list):
        return "list"
    if isinstance(raw, dict):
        return "object"
    return type(raw).__name__


_EXPECTED: dict[str, tuple[str, str]] = {
    "yes_no": ("“yes”或“no”", '"yes" or "no"'),
    "select_one": ("一个选项值（文字）", "one choice value (text)"),
    "select_multiple": ("选项值列表", "a list of choice values"),
    "integer": ("整数", "a whole number"),
    "decimal": ("数字", "a number"),
    "date": ("日期文字 YYYY-MM-DD", "a date as text YYYY-MM-DD"),
    "text": (f"文字（最多 {MAX_TEXT} 字）", f"text (at most {MAX_TEXT} characters)"),
    "photo": ("照片编号（SHA-256 或 UUID）", "a photo id (SHA-256 or UUID)"),
    "location": ("{lat, lon} 对象", "an object {lat, lon}"),
    "signature": ("签名图片编号（SHA-256 或 UUID）", "a signature image id (SHA-256 or UUID)"),
}


def _wrong(q: Question, raw: Any, problems: list[FormProblem]) -> None:
    zh, en = _EXPECTED[q.type]
    problems.append(
        problem(
            "wrong_type",
            question=q.name,
            type=q.type,
            expected_zh=zh,
            expected_en=en,
            got=_json_kind(raw),
        )
    )


def _typed(q: Question, raw: Any, problems: list[FormProblem]) -> Any:
    """The answer in its clean form, None when unanswered; problems appended when wrong."""
    if _unanswered(raw):
        return None
    t = q.type
    if t in ("yes_no", "select_one"):
        if not isinstance(raw, str):
            return _wrong(q, raw, problems)
        if raw not in q.values():
            problems.append(problem("not_a_choice", question=q.name, value=raw[:64]))
            return None
        return raw
    if t == "select_multiple":
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            return _wrong(q, raw, problems)
        before = len(problems)
        seen: set[str] = set()
        for value in raw:
            if value not in q.values():
                problems.append(problem("not_a_choice", question=q.name, value=value[:64]))
            elif value in seen:
                problems.append(problem("repeated_choice", question=q.name, value=value))
            seen.add(value)
        return list(raw) if len(problems) == before else None
    if t in ("integer", "decimal"):
        ok = isinstance(raw, int | float) and not isinstance(raw, bool)
        if not ok or (isinstance(raw, float) and not math.isfinite(raw)):
            return _wrong(q, raw, problems)
        if t == "integer" and not isinstance(raw, int):
            return _wrong(q, raw, problems)
        if q.min is not None and raw < q.min:
            problems.append(problem("below_min", question=q.name, value=raw, min=q.min))
            return None
        if q.max is not None and raw > q.max:
            problems.append(problem("above_max", question=q.name, value=raw, max=q.max))
            return None
        return raw
    if t == "date":
        if not isinstance(raw, str):
            return _wrong(q, raw, problems)
        try:
            if not DATE.match(raw):
                raise ValueError(raw)
            dt.date.fromisoformat(raw)
        except ValueError:
            problems.append(problem("bad_date", question=q.name, value=raw[:40]))
            return None
        return raw
    if t == "text":
        if not isinstance(raw, str) or len(raw) > MAX_TEXT or "\x00" in raw:
            return _wrong(q, raw, problems)
        return raw
    if t in ("photo", "signature"):
        if not isinstance(raw, str):
            return _wrong(q, raw, problems)
        if not (SHA256.match(raw) or UUID.match(raw)):
            problems.append(problem("bad_photo", question=q.name, value=raw[:40]))
            return None
        return raw
    # location
    if not isinstance(raw, dict):
        return _wrong(q, raw, problems)
    lat, lon = raw.get("lat"), raw.get("lon")
    numbers = all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        for v in (lat, lon)
    )
    if (
        set(raw) - {"lat", "lon", "accuracy_m"}
        or not numbers
        or not (
            -90 <= lat <= 90 and -180 <= lon <= 180  # type: ignore[operator]
        )
    ):
        problems.append(problem("bad_location", question=q.name))
        return None
    accuracy = raw.get("accuracy_m")
    if accuracy is not None and (
        isinstance(accuracy, bool)
        or not isinstance(accuracy, int | float)
        or not math.isfinite(accuracy)
        or accuracy < 0
    ):
        problems.append(problem("bad_location", question=q.name))
        return None
    return dict(raw)


def _cases(form: FormDefinition, values: dict[str, Any]) -> tuple[CaseToOpen, ...]:
    fired: list[CaseToOpen] = []
    for q in form.questions:
        rule = q.opens_case
        if rule is None or q.name not in values:
            continue
        answer = values[q.name]
        chosen = answer if isinstance(answer, list) else [answer]
        hits = tuple(v for v in chosen if v in rule.when)
        if hits:
            photo = values.get(rule.photo) if rule.photo else None
            fired.append(CaseToOpen(q.name, rule.catalogue_item, hits, photo, rule.priority))
    return tuple(fired)
