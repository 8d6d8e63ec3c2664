"""Form definitions: the JSON format, every check, cycles, and the round trip."""

from __future__ import annotations

import copy
import graphlib
import itertools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.exceptions import InvalidInput
from server.forms.definition import (
    FormDefinition,
    definition_to_json,
    find_cycles,
    parse_definition,
)
from server.forms.problems import FormDefinitionError
from tests.forms.forms_world import definitions


def fire_form() -> dict[str, Any]:
    return {
        "format": 1,
        "title": {"zh": "冬季消防安全检查", "en": "Winter fire-safety check"},
        "questions": [
            {
                "name": "has_ext",
                "type": "yes_no",
                "label": {"zh": "楼内配有灭火器吗？"},
                "required": True,
            },
            {
                "name": "ext_photo",
                "type": "photo",
                "label": {"zh": "拍摄灭火器压力表"},
                "relevant": "${has_ext} = 'yes'",
            },
            {
                "name": "ext_valid",
                "type": "yes_no",
                "label": {"zh": "灭火器在有效期内？"},
                "required": True,
                "relevant": "${has_ext} = 'yes'",
                "opens_case": {
                    "catalogue_item": "A02-03",
                    "when": ["no"],
                    "photo": "ext_photo",
                    "priority": "high",
                },
            },
            {
                "name": "count",
                "type": "integer",
                "label": {"zh": "灭火器数量"},
                "min": 0,
                "max": 50,
                "unit": "个",
                "relevant": "${has_ext} = 'yes'",
            },
            {
                "name": "hazards",
                "type": "select_multiple",
                "label": {"zh": "发现的隐患"},
                "choices": [
                    {"value": "storage", "label": {"zh": "楼道堆物", "en": "Stairwell storage"}},
                    {"value": "ebike", "label": {"zh": "电动车进楼充电"}},
                ],
                "opens_case": {"catalogue_item": "A02-01", "when": ["storage"]},
            },
            {
                "name": "width",
                "type": "decimal",
                "label": {"zh": "楼道宽度"},
                "min": 0.5,
                "unit": "米",
                "relevant": "selected(${hazards}, 'storage') and ${count} >= 1",
            },
        ],
    }


def problems_of(data: Any, **kwargs: Any) -> list[tuple[str, str | None]]:
    with pytest.raises(FormDefinitionError) as caught:
        parse_definition(data, **kwargs)
    error = caught.value
    assert isinstance(error, InvalidInput)  # the edge turns it into a 422
    assert error.details["problems"] == [p.to_dict() for p in error.problems]
    for p in error.problems:
        assert p.message_zh and p.message_en and p.severity == "error"
    return [(p.code, p.question) for p in error.problems]


def with_question(index: int, **changes: Any) -> dict[str, Any]:
    data = fire_form()
    question = data["questions"][index]
    for key, value in changes.items():
        if value is None:
            question.pop(key, None)
        else:
            question[key] = value
    return data


def test_the_fire_form_parses_and_writes_back_unchanged() -> None:
    data = fire_form()
    form = parse_definition(copy.deepcopy(data))
    assert definition_to_json(form) == data
    assert [q.name for q in form.questions][:3] == ["has_ext", "ext_photo", "ext_valid"]
    assert form.question("ext_valid").opens_case.catalogue_item == "A02-03"  # type: ignore[union-attr]
    assert json.loads(json.dumps(definition_to_json(form))) == data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], [("not_an_object", None)]),
        ({**fire_form(), "format": 2}, [("unsupported_format", None)]),
        ({**fire_form(), "extra": 1}, [("unknown_key", None)]),
        ({**fire_form(), "questions": []}, [("no_questions", None)]),
        ({**fire_form(), "questions": None}, [("missing_key", None)]),
        ({**fire_form(), "title": {"zh": " "}}, [("missing_label", None)]),
        (
            with_question(0, name="has ext"),
            [
                ("bad_name", "has ext"),
                ("unknown_reference", "ext_photo"),
                ("unknown_reference", "ext_valid"),
                ("unknown_reference", "count"),
            ],
        ),
        (with_question(1, name="has_ext"), [("duplicate_name", "has_ext")]),  # and no more
        (with_question(0, type="checkbox"), [("unknown_type", "has_ext")]),
        (with_question(0, label={"zh": ""}), [("missing_label", "has_ext")]),
        (with_question(0, label="灭火器"), [("bad_value", "has_ext")]),
        (with_question(0, label={"zh": "x" * 501}), [("text_too_long", "has_ext")]),
        (with_question(0, required="yes"), [("bad_value", "has_ext")]),
        (with_question(0, colour="red"), [("unknown_key", "has_ext")]),
        (
            with_question(4, choices=[{"value": "a", "label": {"zh": "甲"}}]),
            [
                ("choices_needed", "hazards"),
                ("opens_case_when", "hazards"),
                ("condition_value", "width"),  # 'storage' is no longer a choice
            ],
        ),
        (
            with_question(
                4,
                choices=[
                    {"value": "a", "label": {"zh": "甲"}},
                    {"value": "a", "label": {"zh": "乙"}},
                    {"value": "storage", "label": {"zh": "丙"}},
                ],
            ),
            [("duplicate_choice", "hazards")],
        ),
        (
            with_question(
                4,
                choices=[
                    {"value": "a b", "label": {"zh": "甲"}},
                    {"value": "storage", "label": {"zh": "丙"}},
                ],
            ),
            [("bad_choice_value", "hazards")],
        ),
        (
            with_question(0, choices=[{"value": "a", "label": {"zh": "甲"}}]),
            [("choices_not_allowed", "has_ext")],
        ),
        (with_question(3, min=10, max=5), [("min_above_max", "count")]),
        (with_question(3, min=0.5), [("bad_value", "count")]),
        (with_question(3, max=float("inf")), [("bad_number", "count")]),
        (with_question(3, max=True), [("bad_number", "count")]),
        (with_question(3, unit="x" * 21), [("text_too_long", "count")]),
        (with_question(0, unit="个"), [("range_not_allowed", "has_ext")]),
        (with_question(1, relevant="count-selected(${x}) > 1"), [("bad_condition", "ext_photo")]),
        (with_question(1, relevant="${nobody} = 'yes'"), [("unknown_reference", "ext_photo")]),
        (
            with_question(0, relevant="selected(${hazards}, 'ebike')"),
            [("forward_reference", "has_ext")],
        ),
        (with_question(1, relevant="${has_ext} > 1"), [("condition_type", "ext_photo")]),
        (with_question(1, relevant="${has_ext} = 1"), [("condition_type", "ext_photo")]),
        (with_question(1, relevant="${has_ext} = 'maybe'"), [("condition_value", "ext_photo")]),
        (with_question(5, relevant="${hazards} = 'storage'"), [("condition_type", "width")]),
        (with_question(5, relevant="selected(${count}, '1')"), [("condition_type", "width")]),
        (with_question(5, relevant="selected(${hazards}, 'fire')"), [("condition_value", "width")]),
        (
            with_question(3, opens_case={"catalogue_item": "A02-03", "when": ["1"]}),
            [("opens_case_type", "count")],
        ),
        (
            with_question(2, opens_case={"catalogue_item": "fire", "when": ["no"]}),
            [("opens_case_item", "ext_valid")],
        ),
        (
            with_question(2, opens_case={"catalogue_item": "A02-03", "when": []}),
            [("opens_case_when_empty", "ext_valid")],
        ),
        (
            with_question(2, opens_case={"catalogue_item": "A02-03", "when": ["maybe"]}),
            [("opens_case_when", "ext_valid")],
        ),
        (
            with_question(2, opens_case={"catalogue_item": "A02-03", "when": ["no", "no"]}),
            [("opens_case_when", "ext_valid")],
        ),
        (
            with_question(
                2, opens_case={"catalogue_item": "A02-03", "when": ["no"], "photo": "count"}
            ),
            [("opens_case_photo", "ext_valid")],
        ),
        (
            with_question(
                2, opens_case={"catalogue_item": "A02-03", "when": ["no"], "priority": "asap"}
            ),
            [("opens_case_priority", "ext_valid")],
        ),
        (with_question(2, opens_case={"when": ["no"]}), [("missing_key", "ext_valid")]),
    ],
)
def test_each_problem_is_named_with_its_question(data: Any, expected: list) -> None:
    assert problems_of(data) == expected


def test_every_problem_is_listed_not_just_the_first() -> None:
    data = fire_form()
    data["questions"][0]["type"] = "checkbox"
    data["questions"][3]["min"] = 99
    data["questions"][4]["choices"].append({"value": "ebike", "label": {"zh": "重复"}})
    assert [code for code, _ in problems_of(data)] == [
        "unknown_type",
        "min_above_max",
        "duplicate_choice",
    ]


def test_catalogue_codes_are_checked_when_the_catalogue_is_given() -> None:
    assert problems_of(fire_form(), catalogue_items={"A02-03"}) == [
        ("opens_case_unknown_item", "hazards")
    ]
    parse_definition(fire_form(), catalogue_items={"A02-03", "A02-01"})


def test_a_cycle_is_named_in_order() -> None:
    data = fire_form()
    data["questions"][0]["relevant"] = "${count} > 0"  # has_ext reads count, count reads has_ext
    found = problems_of(data)
    assert found == [("condition_cycle", "has_ext")]
    with pytest.raises(FormDefinitionError) as caught:
        parse_definition(data)
    assert "has_ext → count → has_ext" in caught.value.problems[0].message_en
    assert "has_ext → count → has_ext" in caught.value.problems[0].message_zh


def test_a_question_reading_itself_is_a_cycle() -> None:
    assert problems_of(with_question(3, relevant="${count} > 1")) == [("condition_cycle", "count")]


def test_messages_in_both_languages() -> None:
    with pytest.raises(FormDefinitionError) as caught:
        parse_definition(
            with_question(
                4,
                choices=[
                    {"value": "a", "label": {"zh": "甲"}},
                    {"value": "a", "label": {"zh": "乙"}},
                ],
            )
        )
    first = caught.value.problems[0]
    assert first.message_zh == "问题“hazards”：选项值“a”重复。"
    assert first.message_en == 'Question hazards: The choice value "a" appears more than once.'


# --- properties -------------------------------------------------------------------------


@given(definitions())
def test_valid_definitions_round_trip_through_json(form: FormDefinition) -> None:
    wire = json.loads(json.dumps(definition_to_json(form)))
    again = parse_definition(wire)
    assert again == form
    assert definition_to_json(again) == wire


graphs = st.dictionaries(
    st.sampled_from("abcdefg"),
    st.lists(st.sampled_from("abcdefg"), unique=True, max_size=3),
    max_size=7,
)


@given(graphs)
def test_cycle_detection_agrees_with_graphlib(edges: dict[str, list[str]]) -> None:
    try:
        graphlib.TopologicalSorter(edges).prepare()
        has_cycle = False
    except graphlib.CycleError:
        has_cycle = True
    cycles = find_cycles(edges)
    assert bool(cycles) is has_cycle
    for cycle in cycles:  # each reported cycle is a real closed path
        assert cycle[0] == cycle[-1]
        for a, b in itertools.pairwise(cycle):
            assert b in edges.get(a, [])


@given(graphs)
def test_definition_reports_a_cycle_iff_graphlib_finds_one(edges: dict[str, list[str]]) -> None:
    nodes = sorted(set(edges) | {t for ts in edges.values() for t in ts})
    questions = [
        {"name": n, "type": "integer", "label": {"zh": n}}
        | ({"relevant": " and ".join(f"${{{t}}} > 0" for t in edges[n])} if edges.get(n) else {})
        for n in nodes
    ]
    data = {
        "format": 1,
        "title": {"zh": "图"},
        "questions": questions or [{"name": "z", "type": "text", "label": {"zh": "z"}}],
    }
    try:
        graphlib.TopologicalSorter(edges).prepare()
        has_cycle = False
    except graphlib.CycleError:
        has_cycle = True
    try:
        parse_definition(data)
        codes: list[str] = []
    except FormDefinitionError as error:
        codes = error.codes()
    assert ("condition_cycle" in codes) is has_cycle
    # without a cycle, the only complaint can be a reference to a later question
    assert set(codes) <= {"condition_cycle", "forward_reference"}
