"""Answers against a form version: every kind of wrong answer, relevance, and case rules."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.forms import conditions as cond
from server.forms.answers import CaseToOpen, relevant_questions, validate_answers
from server.forms.definition import FormDefinition, Question, parse_definition
from server.forms.problems import AnswersError
from tests.forms.forms_world import PHOTO_ID, definitions
from tests.forms.test_definition import fire_form


@pytest.fixture
def form() -> FormDefinition:
    data = fire_form()
    data["questions"] += [
        {"name": "drill", "type": "date", "label": {"zh": "演练日期"}},
        {"name": "remarks", "type": "text", "label": {"zh": "其他"}},
        {"name": "where", "type": "location", "label": {"zh": "位置"}},
        {"name": "sign", "type": "signature", "label": {"zh": "签名"}},
        {
            "name": "floor",
            "type": "select_one",
            "label": {"zh": "楼层"},
            "choices": [
                {"value": "1", "label": {"zh": "一楼"}},
                {"value": "2", "label": {"zh": "二楼"}},
            ],
        },
    ]
    return parse_definition(data)


GOOD: dict[str, Any] = {
    "has_ext": "yes",
    "ext_photo": PHOTO_ID,
    "ext_valid": "no",
    "count": 3,
    "hazards": ["storage", "ebike"],
    "width": 0.8,
    "drill": "2026-11-01",
    "remarks": "三楼楼道有纸板箱",
    "where": {"lat": 31.2, "lon": 121.4, "accuracy_m": 8},
    "sign": str(uuid.UUID(int=7)),
    "floor": "2",
}


def test_good_answers_come_back_clean_with_the_cases_they_open(form: FormDefinition) -> None:
    clean = validate_answers(form, dict(GOOD))
    assert clean.values == GOOD
    assert clean.dropped == ()
    assert clean.cases == (
        CaseToOpen("ext_valid", "A02-03", ("no",), PHOTO_ID, "high"),
        CaseToOpen("hazards", "A02-01", ("storage",), None, None),
    )


def test_a_yes_opens_no_case(form: FormDefinition) -> None:
    clean = validate_answers(form, {**GOOD, "ext_valid": "yes", "hazards": ["ebike"]})
    assert clean.cases == ()


def test_answers_to_questions_not_asked_are_dropped_and_listed(form: FormDefinition) -> None:
    # "no extinguisher": the photo, validity and count questions are not asked
    clean = validate_answers(form, {**GOOD, "has_ext": "no"})
    assert clean.dropped == ("ext_photo", "ext_valid", "count", "width")
    assert "ext_valid" not in clean.values and clean.cases == (
        CaseToOpen("hazards", "A02-01", ("storage",), None, None),
    )
    assert "ext_valid" not in clean.relevant


def test_required_only_when_relevant(form: FormDefinition) -> None:
    validate_answers(form, {"has_ext": "no"})  # ext_valid is required but not asked
    with pytest.raises(AnswersError) as caught:
        validate_answers(form, {"has_ext": "yes"})
    assert [(p.code, p.question) for p in caught.value.problems] == [("required", "ext_valid")]
    with pytest.raises(AnswersError) as caught:
        validate_answers(form, {"has_ext": None, "ext_valid": ""})
    assert [(p.code, p.question) for p in caught.value.problems] == [("required", "has_ext")]


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("has_ext", True, "wrong_type"),  # an old app sent a boolean
        ("has_ext", "是", "not_a_choice"),
        ("has_ext", ["yes"], "wrong_type"),
        ("count", "3", "wrong_type"),
        ("count", 3.5, "wrong_type"),
        ("count", True, "wrong_type"),
        ("count", 51, "above_max"),
        ("count", -1, "below_min"),
        ("width", 0.1, "below_min"),
        ("width", float("nan"), "wrong_type"),
        ("width", "0.8", "wrong_type"),
        ("hazards", "storage", "wrong_type"),
        ("hazards", ["storage", "storage"], "repeated_choice"),
        ("hazards", ["fire"], "not_a_choice"),
        ("hazards", [1], "wrong_type"),
        ("floor", 2, "wrong_type"),
        ("floor", "3", "not_a_choice"),
        ("drill", "2026-02-30", "bad_date"),
        ("drill", "01/11/2026", "bad_date"),
        ("drill", 20261101, "wrong_type"),
        ("remarks", 5, "wrong_type"),
        ("remarks", "x" * 2001, "wrong_type"),
        ("where", [31.2, 121.4], "wrong_type"),
        ("where", {"lat": 91, "lon": 0}, "bad_location"),
        ("where", {"lat": 31, "lon": "121"}, "bad_location"),
        ("where", {"lat": 31, "lon": 121, "alt": 3}, "bad_location"),
        ("where", {"lat": 31, "lon": 121, "accuracy_m": -1}, "bad_location"),
        ("ext_photo", "photo.jpg", "bad_photo"),
        ("ext_photo", 17, "wrong_type"),
        ("sign", "NOT-A-UUID", "bad_photo"),
        ("nobody", "yes", "unknown_question"),
    ],
)
def test_each_wrong_answer_is_named(form: FormDefinition, name: str, value: Any, code: str) -> None:
    with pytest.raises(AnswersError) as caught:
        validate_answers(form, {**GOOD, name: value})
    assert [(p.code, p.question) for p in caught.value.problems] == [(code, name)]
    problem = caught.value.problems[0]
    assert problem.message_zh.startswith(f"问题“{name}”：") and problem.message_en


def test_every_problem_is_listed(form: FormDefinition) -> None:
    with pytest.raises(AnswersError) as caught:
        validate_answers(form, {**GOOD, "count": "3", "floor": "9", "v2_question": 1})
    assert caught.value.codes() == ["wrong_type", "not_a_choice", "unknown_question"]
    assert caught.value.details["problems"][0]["question"] == "count"


def test_answers_must_be_an_object(form: FormDefinition) -> None:
    with pytest.raises(AnswersError) as caught:
        validate_answers(form, [["has_ext", "yes"]])
    assert caught.value.codes() == ["answers_not_object"]


def test_wrong_type_message_says_what_was_expected(form: FormDefinition) -> None:
    with pytest.raises(AnswersError) as caught:
        validate_answers(form, {**GOOD, "has_ext": True})
    assert caught.value.problems[0].message_en == (
        'Question has_ext: Wrong kind of answer for a question of type yes_no: expected "yes" '
        'or "no", got boolean.'
    )


# --- property: answers validate iff they keep the rules they were drawn against ---------


def _valid_value(draw: st.DrawFn, q: Question) -> Any:
    if q.type in ("yes_no", "select_one"):
        return draw(st.sampled_from(q.values()))
    if q.type == "select_multiple":
        return draw(st.lists(st.sampled_from(q.values()), min_size=1, unique=True))
    if q.type in ("integer", "decimal"):
        low = -(10**6) if q.min is None else q.min
        high = 10**6 if q.max is None else q.max
        if q.type == "integer":
            return draw(st.integers(int(low), int(high)))
        return draw(st.floats(low, high, allow_nan=False, allow_infinity=False))
    if q.type == "date":
        return draw(st.dates()).isoformat()
    if q.type == "text":
        return draw(st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s))
    if q.type in ("photo", "signature"):
        return str(draw(st.uuids()))
    return {"lat": draw(st.floats(-90, 90)), "lon": draw(st.floats(-180, 180))}


def _invalid_value(draw: st.DrawFn, q: Question) -> Any:
    """A value that breaks the question's rules (type, choice or range)."""
    options: list[Any] = [{"nested": True}]
    if q.type in ("yes_no", "select_one"):
        options += ["not-a-choice", 1, True]
    elif q.type == "select_multiple":
        options += [["not-a-choice"], [q.values()[0], q.values()[0]], q.values()[0]]
    elif q.type in ("integer", "decimal"):
        options += ["12", True]
        if q.max is not None:
            options.append(q.max + 1)
        if q.min is not None:
            options.append(q.min - 1)
        if q.type == "integer":
            options.append(0.5)
    elif q.type == "date":
        options += ["2026-13-01", 20260101]
    elif q.type == "text":
        options += [7, "x" * 2001]
    elif q.type in ("photo", "signature"):
        options += ["a.jpg", 3]
    else:
        options += [{"lat": 100, "lon": 0}, [1, 2]]
    return draw(st.sampled_from(options))


@st.composite
def forms_with_answers(draw: st.DrawFn) -> tuple[FormDefinition, dict[str, Any], bool]:
    form = draw(definitions())
    answers: dict[str, Any] = {}
    broken = False
    for q in form.questions:
        pick = draw(st.sampled_from(["valid", "valid", "valid", "none", "absent", "invalid"]))
        if pick == "valid":
            answers[q.name] = _valid_value(draw, q)
        elif pick == "none":
            answers[q.name] = draw(st.sampled_from([None, "", []]))
        elif pick == "invalid":
            answers[q.name] = _invalid_value(draw, q)
            broken = True
    if draw(st.booleans()) and not answers.get("zz_unknown"):
        answers["zz_unknown"] = "x"
        broken = True
    return form, answers, broken


def _reference_relevant(form: FormDefinition, answers: dict[str, Any]) -> set[str]:
    """Relevance by the documented rule, written out plainly."""
    relevant: set[str] = set()
    for q in form.questions:
        seen = {n: v for n, v in answers.items() if n in relevant}
        if q.relevant is None or cond.evaluate(cond.parse(q.relevant), seen):
            relevant.add(q.name)
    return relevant


@given(forms_with_answers())
def test_answers_validate_iff_they_keep_the_rules(
    case: tuple[FormDefinition, dict[str, Any], bool],
) -> None:
    form, answers, broken = case
    answered = {n: v for n, v in answers.items() if v not in (None, "", [])}
    expected_ok = not broken
    if expected_ok:
        relevant = _reference_relevant(form, answered)
        missing = [
            q.name
            for q in form.questions
            if q.required and q.name in relevant and q.name not in answered
        ]
        expected_ok = not missing
    try:
        clean = validate_answers(form, answers)
    except AnswersError as error:
        assert not expected_ok, error.problems
        assert error.problems and all(p.message_zh and p.message_en for p in error.problems)
        return
    assert expected_ok
    assert set(clean.values) == {n for n in answered if n in relevant}
    assert set(clean.dropped) == {n for n in answered if n not in relevant}
    assert set(relevant_questions(form, clean.values)) == relevant
    fired = {c.question for c in clean.cases}
    for q in form.questions:
        value = clean.values.get(q.name)
        chosen = value if isinstance(value, list) else [value]
        should = q.opens_case is not None and any(v in q.opens_case.when for v in chosen)
        assert (q.name in fired) is should
