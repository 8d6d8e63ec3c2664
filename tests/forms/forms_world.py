"""Shared material for the form tests: an ODK-style XLSForm built here, and hypothesis
strategies for valid definitions."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

from hypothesis import strategies as st
from openpyxl import Workbook

from server.forms import conditions as cond
from server.forms.definition import (
    CHOICE_TYPES,
    NUMBER_TYPES,
    TYPES,
    Choice,
    FormDefinition,
    OpensCase,
    Question,
    Text,
)

PHOTO_ID = "0b6d5f8e-1c1a-4c55-9d7e-2f1f7a0e9a11"


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    """An .xlsx with these sheets (first row = headers), in this order."""
    workbook = Workbook()
    first = True
    for title, rows in sheets.items():
        ws = workbook.active if first else workbook.create_sheet(title)
        assert ws is not None
        ws.title = title
        first = False
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


SURVEY_HEAD = [
    "type",
    "name",
    "label::Chinese (zh)",
    "label::English (en)",
    "hint::Chinese (zh)",
    "required",
    "relevant",
    "constraint",
    "appearance",
]


def fire_survey() -> list[list[Any]]:
    """A winter fire-safety checklist as an ODK user would write it (with ODK metadata)."""
    return [
        SURVEY_HEAD,
        ["start", "start", None, None, None, None, None, None, None],
        ["end", "end", None, None, None, None, None, None, None],
        [
            "select_one yes_no",
            "has_extinguisher",
            "楼内配有灭火器吗？",
            "Extinguisher present?",
            None,
            "yes",
            None,
            None,
            None,
        ],
        [
            "image",
            "extinguisher_photo",
            "拍摄灭火器压力表",
            "Photo of the gauge",
            "对准压力表",
            None,
            "${has_extinguisher} = 'yes'",
            None,
            None,
        ],
        [
            "select_one yes_no",
            "extinguisher_valid",
            "灭火器在有效期内？",
            "Extinguisher in date?",
            None,
            "true()",
            "${has_extinguisher} = 'yes'",
            None,
            None,
        ],
        [
            "integer",
            "extinguisher_count",
            "灭火器数量",
            "How many extinguishers",
            None,
            None,
            "${has_extinguisher} = 'yes'",
            ". >= 0 and . <= 50",
            None,
        ],
        [
            "select_multiple hazards",
            "hazards",
            "发现的隐患",
            "Hazards found",
            None,
            "no",
            None,
            None,
            None,
        ],
        [
            "decimal",
            "corridor_width",
            "楼道最窄处宽度",
            "Narrowest corridor width",
            "单位：米",
            None,
            "selected(${hazards}, 'stairwell_storage')",
            ". >= 0",
            None,
        ],
        [
            "date",
            "last_drill",
            "最近一次消防演练日期",
            "Last fire drill",
            None,
            None,
            None,
            None,
            None,
        ],
        ["text", "remarks", "其他情况", "Other remarks", None, None, None, None, None],
        ["geopoint", "where", "位置", "Location", None, None, None, None, None],
        [
            "image",
            "signature",
            "楼长签名",
            "Building head's signature",
            None,
            None,
            None,
            None,
            "signature",
        ],
    ]


def fire_choices() -> list[list[Any]]:
    return [
        ["list_name", "name", "label::Chinese (zh)", "label::English (en)"],
        ["yes_no", "yes", "是", "Yes"],
        ["yes_no", "no", "否", "No"],
        ["hazards", "stairwell_storage", "楼道堆物", "Belongings in the stairwell"],
        ["hazards", "ebike_indoor", "电动车进楼充电", "E-bike charged indoors"],
        ["hazards", "blocked_exit", "安全出口堵塞", "Blocked exit"],
    ]


def fire_settings() -> list[list[Any]]:
    return [
        ["form_title", "form_id", "version", "default_language"],
        ["冬季消防安全检查", "fire_check_2026", "2026110101", "Chinese (zh)"],
    ]


def fire_xlsform(**extra: list[list[Any]]) -> bytes:
    return xlsx(
        {"survey": fire_survey(), "choices": fire_choices(), "settings": fire_settings(), **extra}
    )


# --- strategies -------------------------------------------------------------------------

names = st.from_regex(r"[a-z_][a-z0-9_]{0,11}", fullmatch=True)
words = st.text(
    alphabet=st.sampled_from("消防灭火器楼道检查是否abcXYZ 0129=-?？（）"),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() != "")
english = st.one_of(st.just(""), words)
texts = st.builds(Text, words, english)
choice_values = st.from_regex(r"[a-z0-9_]{1,8}", fullmatch=True)


@st.composite
def numbers(draw: st.DrawFn, integer: bool) -> int | float | None:
    if integer:
        return draw(st.one_of(st.none(), st.integers(-10_000, 10_000)))
    return draw(
        st.one_of(
            st.none(),
            st.integers(-10_000, 10_000),
            st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
        )
    )


@st.composite
def questions(draw: st.DrawFn, name: str) -> Question:
    qtype = draw(st.sampled_from(TYPES))
    choices: tuple[Choice, ...] = ()
    low = high = None
    unit = None
    if qtype in CHOICE_TYPES:
        values = draw(st.lists(choice_values, min_size=2, max_size=5, unique=True))
        choices = tuple(Choice(v, draw(texts)) for v in values)
    if qtype in NUMBER_TYPES:
        low, high = draw(numbers(qtype == "integer")), draw(numbers(qtype == "integer"))
        if low is not None and high is not None and low > high:
            low, high = high, low
        unit = draw(st.one_of(st.none(), st.sampled_from(["个", "米", "人", "kg"])))
    return Question(
        name=name,
        type=qtype,
        label=draw(texts),
        hint=draw(st.one_of(st.none(), texts)),
        required=draw(st.booleans()),
        choices=choices,
        min=low,
        max=high,
        unit=unit,
    )


def _condition_on(draw: st.DrawFn, target: Question) -> cond.Expr | None:
    """A condition of the subset that fits the target question's type."""
    ref = cond.Ref(target.name)
    if target.type in ("yes_no", "select_one"):
        value = draw(st.sampled_from(target.values()))
        op = draw(st.sampled_from(["=", "!="]))
        if draw(st.booleans()):
            return cond.Selected(ref, value)
        return cond.Compare(op, ref, cond.Str(value))
    if target.type == "select_multiple":
        return cond.Selected(ref, draw(st.sampled_from(target.values())))
    if target.type in NUMBER_TYPES:
        op = draw(st.sampled_from(cond.OPERATORS))
        number = draw(st.integers(-100, 100))
        return cond.Compare(op, ref, cond.Num(str(number)))
    if target.type == "text":
        return cond.Compare(draw(st.sampled_from(["=", "!="])), ref, cond.Str("x"))
    return None


@st.composite
def conditions_over(draw: st.DrawFn, earlier: list[Question]) -> str | None:
    atoms = [a for a in (_condition_on(draw, q) for q in earlier) if a is not None]
    if not atoms or draw(st.booleans()):
        return None
    picked = draw(st.lists(st.sampled_from(atoms), min_size=1, max_size=3))
    expr: cond.Expr = picked[0]
    for other in picked[1:]:
        joiner = draw(st.sampled_from(["and", "or", "not"]))
        if joiner == "and":
            expr = cond.And((expr, other))
        elif joiner == "or":
            expr = cond.Or((expr, other))
        else:
            expr = cond.And((expr, cond.Not(other)))
    return cond.to_text(expr)


@st.composite
def definitions(draw: st.DrawFn) -> FormDefinition:
    """Valid definitions: conditions on earlier questions, case rules on choice answers."""
    qnames = draw(st.lists(names, min_size=1, max_size=8, unique=True))
    made: list[Question] = []
    for name in qnames:
        q = draw(questions(name))
        relevant = draw(conditions_over(made))
        rule = None
        photos = [p.name for p in made if p.type == "photo"]
        if q.type in ("yes_no", *CHOICE_TYPES) and draw(st.booleans()):
            when = draw(st.lists(st.sampled_from(q.values()), min_size=1, unique=True))
            rule = OpensCase(
                catalogue_item=draw(st.sampled_from(["A02-03", "A01-04", "S02-02"])),
                when=tuple(when),
                photo=draw(st.one_of(st.none(), st.sampled_from(photos))) if photos else None,
                priority=draw(st.sampled_from([None, "urgent", "high", "normal"])),
            )
        made.append(dataclasses.replace(q, relevant=relevant, opens_case=rule))
    return FormDefinition(title=draw(texts), questions=tuple(made))
