"""XLSForm files: an ODK-style checklist comes in, unsupported features are named (and refuse
the import by default), broken forms are refused, and what we write reads back the same."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings

from server.forms.definition import FormDefinition, Text, definition_to_json
from server.forms.problems import XLSFormError
from server.forms.xlsform import read_xlsform, write_xlsform
from tests.forms.forms_world import (
    SURVEY_HEAD,
    definitions,
    fire_choices,
    fire_settings,
    fire_survey,
    fire_xlsform,
    xlsx,
)


def refused(
    data: bytes, **kwargs: Any
) -> list[tuple[str, str, str | None, int | None, str | None]]:
    with pytest.raises(XLSFormError) as caught:
        read_xlsform(data, **kwargs)
    for p in caught.value.problems:
        assert p.message_zh and p.message_en
    return [(p.severity, p.code, p.sheet, p.row, p.column) for p in caught.value.problems]


def test_the_odk_fire_checklist_comes_in() -> None:
    imported = read_xlsform(fire_xlsform())
    form = imported.definition
    assert form.title.zh == "冬季消防安全检查"
    types = {q.name: q.type for q in form.questions}
    assert types == {
        "has_extinguisher": "yes_no",
        "extinguisher_photo": "photo",
        "extinguisher_valid": "yes_no",
        "extinguisher_count": "integer",
        "hazards": "select_multiple",
        "corridor_width": "decimal",
        "last_drill": "date",
        "remarks": "text",
        "where": "location",
        "signature": "signature",
    }
    count = form.question("extinguisher_count")
    assert count is not None and (count.min, count.max) == (0, 50)
    valid = form.question("extinguisher_valid")
    assert valid is not None and valid.required and valid.label.en == "Extinguisher in date?"
    photo = form.question("extinguisher_photo")
    assert photo is not None and photo.hint is not None and photo.hint.zh == "对准压力表"
    hazards = form.question("hazards")
    assert hazards is not None and [c.value for c in hazards.choices] == [
        "stairwell_storage",
        "ebike_indoor",
        "blocked_exit",
    ]
    # Nothing was dropped silently: the metadata and settings that do not come over are named.
    assert [(p.code, p.sheet, p.row, p.column) for p in imported.problems] == [
        ("setting_ignored", "settings", 2, "form_id"),
        ("setting_ignored", "settings", 2, "version"),
        ("metadata_ignored", "survey", 2, None),
        ("metadata_ignored", "survey", 3, None),
    ]
    assert all(p.severity == "warning" for p in imported.problems)


def _survey_with(*rows: list[Any], head: list[str] | None = None) -> list[list[Any]]:
    return [head or SURVEY_HEAD, *fire_survey()[1:], *rows]


def test_unsupported_features_are_named_and_refuse_the_import() -> None:
    survey = _survey_with(
        ["begin group", "g1", "楼栋", None, None, None, None, None, None],
        ["note", "n1", "请注意安全", None, None, None, None, None, None],
        ["calculate", "c1", None, None, None, None, None, None, None],
        ["select_one yes_no or_other", "o1", "其他", None, None, None, None, None, None],
        ["integer", "floors", "楼层数", None, None, None, None, ". mod 2 = 0", None],
        ["text", "phone", "电话", None, None, None, None, None, "numbers"],
        ["end group", None, None, None, None, None, None, None, None],
        ["acknowledge", "ok", "已阅读", None, None, None, None, None, None],
    )
    survey[0] = [*SURVEY_HEAD, "choice_filter", "label::French (fr)"]
    survey[4] = [*survey[4], "floor = 1", "Extincteur ?"]
    data = xlsx(
        {
            "survey": survey,
            "choices": fire_choices(),
            "settings": fire_settings(),
            "external_choices": [["list_name", "name"], ["streets", "x"]],
        }
    )
    found = refused(data)
    errors = [f for f in found if f[0] == "error"]
    assert errors == [
        ("error", "unsupported_sheet", "external_choices", None, None),
        ("error", "unsupported_language", "survey", None, "label::French (fr)"),
        ("error", "unsupported_column", "survey", 5, "choice_filter"),
        ("error", "unsupported_type", "survey", 14, None),
        ("error", "unsupported_type", "survey", 15, None),
        ("error", "unsupported_type", "survey", 16, None),
        ("error", "unsupported_type", "survey", 17, None),
        ("error", "unsupported_constraint", "survey", 18, "constraint"),
        ("error", "unsupported_appearance", "survey", 19, "appearance"),
        ("error", "unsupported_type", "survey", 20, None),
        ("error", "unsupported_type", "survey", 21, None),
    ]


def test_the_report_names_the_construct_in_both_languages() -> None:
    survey = _survey_with(["calculate", "c1", None, None, None, None, None, None, None])
    with pytest.raises(XLSFormError) as caught:
        read_xlsform(
            xlsx({"survey": survey, "choices": fire_choices(), "settings": fire_settings()})
        )
    problem = next(p for p in caught.value.problems if p.severity == "error")
    assert problem.message_zh == "工作表“survey”第 14 行：不支持题型“calculate”。"
    assert (
        problem.message_en
        == 'Sheet survey, row 14: The question type "calculate" is not supported.'
    )
    assert caught.value.details["problems"][0]["code"] == "setting_ignored"


def test_lenient_import_leaves_unsupported_things_out_and_lists_each() -> None:
    survey = _survey_with(
        ["begin group", "g1", "楼栋", None, None, None, None, None, None],
        ["note", "n1", "请注意安全", None, None, None, None, None, None],
        ["text", "phone", "电话", None, None, None, None, None, "numbers"],
        ["end group", None, None, None, None, None, None, None, None],
    )
    data = xlsx({"survey": survey, "choices": fire_choices(), "settings": fire_settings()})
    imported = read_xlsform(data, strict=False)
    assert imported.definition.question("phone") is not None
    assert imported.definition.question("n1") is None
    left_out = [(p.code, p.row) for p in imported.problems if p.code.startswith("unsupported")]
    assert left_out == [
        ("unsupported_type", 14),
        ("unsupported_type", 15),
        ("unsupported_appearance", 16),
        ("unsupported_type", 17),
    ]
    assert all(p.severity == "warning" for p in imported.problems)


def test_broken_forms_are_refused_even_when_lenient() -> None:
    choices = [*fire_choices(), ["hazards", "blocked_exit", "重复", "Again"]]
    survey = fire_survey()
    survey[3][6] = "${extinguisher_valid} = 'yes'"  # has_extinguisher reads a later question …
    survey[5][6] = "${has_extinguisher} = 'yes'"  # … which reads it: a cycle
    data = xlsx({"survey": survey, "choices": choices, "settings": fire_settings()})
    found = [f for f in refused(data, strict=False) if f[0] == "error"]
    assert found == [
        ("error", "duplicate_choice", "choices", 7, "name"),
        ("error", "condition_cycle", "survey", 4, None),
    ]


@pytest.mark.parametrize(
    ("sheets", "expected"),
    [
        ({"choices": fire_choices(), "settings": fire_settings()}, ("missing_sheet", "survey")),
        (
            {"survey": [["type", "label"], ["text", "x"]], "settings": fire_settings()},
            ("missing_column", "survey"),
        ),
        ({"survey": fire_survey(), "settings": fire_settings()}, ("unknown_list", "survey")),
        ({"survey": fire_survey(), "choices": fire_choices()}, ("missing_value", "settings")),
        (
            {
                "survey": fire_survey(),
                "choices": [["list_name", "label"], ["yes_no", "是"]],
                "settings": fire_settings(),
            },
            ("missing_column", "choices"),
        ),
        (
            {
                "survey": _survey_with(
                    ["integer", "n", "数量", None, None, "maybe", None, None, None]
                ),
                "choices": fire_choices(),
                "settings": fire_settings(),
            },
            ("unsupported_required", "survey"),
        ),
        (
            {
                "survey": _survey_with(
                    ["integer", "n", "数量", None, None, None, "${x} > 1", None, None]
                ),
                "choices": fire_choices(),
                "settings": fire_settings(),
            },
            ("unknown_reference", "survey"),
        ),
        (
            {
                "survey": _survey_with(
                    [
                        "text",
                        "t",
                        "备注",
                        None,
                        None,
                        None,
                        "string-length(${remarks}) > 3",
                        None,
                        None,
                    ]
                ),
                "choices": fire_choices(),
                "settings": fire_settings(),
            },
            ("bad_condition", "survey"),
        ),
    ],
)
def test_file_problems(sheets: dict[str, list[list[Any]]], expected: tuple[str, str]) -> None:
    found = [(f[1], f[2]) for f in refused(xlsx(sheets)) if f[0] == "error"]
    assert expected in found


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04broken", fire_xlsform()[:500]])
def test_unreadable_files_are_refused(data: bytes) -> None:
    assert [f[1] for f in refused(data)] == ["unreadable_xlsx"]


def test_the_fire_checklist_round_trips() -> None:
    form = read_xlsform(fire_xlsform()).definition
    again = read_xlsform(write_xlsform(form))
    assert again.definition == form
    assert again.problems == []


@settings(max_examples=30)  # each example writes and reads an .xlsx
@given(definitions())
def test_valid_definitions_round_trip_through_xlsform(form: FormDefinition) -> None:
    imported = read_xlsform(write_xlsform(form))
    assert imported.problems == []
    assert imported.definition == form
    assert definition_to_json(imported.definition) == definition_to_json(form)


def test_values_under_no_header_are_reported_not_dropped() -> None:
    survey = fire_survey()
    survey[4] = [*survey[4], "stray note"]  # column 10 has no header
    data = xlsx({"survey": survey, "choices": fire_choices(), "settings": fire_settings()})
    assert ("error", "unsupported_column", "survey", 5, "#10") in refused(data)


def test_a_label_that_looks_like_a_formula_stays_text() -> None:
    form = read_xlsform(fire_xlsform()).definition
    first = form.questions[0]
    changed = dataclasses.replace(
        form,
        questions=(
            dataclasses.replace(first, label=Text("=SUM(A1:A3)", "=1+1")),
            *form.questions[1:],
        ),
    )
    again = read_xlsform(write_xlsform(changed)).definition
    assert again.questions[0].label == Text("=SUM(A1:A3)", "=1+1")
