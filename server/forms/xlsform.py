"""XLSForm files (the `survey`/`choices`/`settings` subset in docs/forms.md), in and out.

`read_xlsform(data)` turns an .xlsx into a checked `FormDefinition` and a report. Anything the
subset does not carry (groups, repeats, calculations, notes, other sheets and columns,
appearances, constraints other than a number range, languages other than Chinese and
English) is a problem naming its sheet, row and column; by default (``strict=True``) the
import is then refused with the whole report (`XLSFormError`). ``strict=False`` imports
without those things and lists each of them as a warning. Broken forms (duplicate choice
values, cycles, unknown lists, bad conditions) are refused either way.

`write_xlsform(form)` writes the definition back; reading what it wrote gives the same
definition.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from server.forms.definition import (
    CHOICE_TYPES,
    NUMBER_TYPES,
    FormDefinition,
    parse_definition,
)
from server.forms.problems import FormDefinitionError, FormProblem, XLSFormError, problem

MAX_ROWS = 2000  # per sheet

#: Unsupported things that ``strict=False`` leaves out (reported as warnings).
DROPPABLE = {
    "unsupported_sheet",
    "unsupported_column",
    "unsupported_type",
    "unsupported_appearance",
    "unsupported_constraint",
    "unsupported_language",
}

#: XLSForm type → ours (select types and yes/no are handled apart).
TYPE_MAP = {
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "date": "date",
    "text": "text",
    "string": "text",
    "image": "photo",
    "photo": "photo",
    "geopoint": "location",
    "location": "location",
}
METADATA = {
    "start",
    "end",
    "today",
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
}
TYPE_HINTS: dict[str, tuple[str, str]] = {
    "acknowledge": ("请改用 select_one yes_no。", " Use select_one yes_no instead."),
    "note": (
        "说明文字可写在下一题的提示（hint）中。",
        " Put the text in the next question's hint.",
    ),
    "begin group": ("不支持分组；问题须平铺。", " Groups are not supported; list questions flat."),
    "end group": ("不支持分组。", " Groups are not supported."),
    "begin repeat": ("不支持重复组。", " Repeats are not supported."),
    "end repeat": ("不支持重复组。", " Repeats are not supported."),
}
ZH_LANGUAGE, EN_LANGUAGE = "Chinese (zh)", "English (en)"
#: The survey sheet's columns, in the order written. The last five are our extensions (ODK
#: tools ignore unknown columns): see docs/forms.md.
SURVEY_HEADERS = [
    "type",
    "name",
    f"label::{ZH_LANGUAGE}",
    f"label::{EN_LANGUAGE}",
    f"hint::{ZH_LANGUAGE}",
    f"hint::{EN_LANGUAGE}",
    "required",
    "relevant",
    "constraint",
    "appearance",
    "unit",
    "opens_case",
    "opens_case_when",
    "case_photo",
    "case_priority",
]
#: What a survey column may be called when read (label and hint come with a language).
SURVEY_COLUMNS = {header for header in SURVEY_HEADERS if "::" not in header}
CHOICE_COLUMNS = {"list_name", "name"}
RANGE_PART = re.compile(r"^\s*\.\s*(>=|<=)\s*(-?\d+(?:\.\d+)?)\s*$")
YES = {"yes", "true", "true()", "1"}
NO = {"", "no", "false", "false()", "0"}


@dataclass(frozen=True)
class ImportedForm:
    definition: FormDefinition
    problems: list[FormProblem]  # warnings only: what did not come over, and why


# --- reading ----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class _Sheet:
    title: str
    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (the sheet's row number, header → text)


def _read_sheet(sheet: Any, found: list[FormProblem]) -> _Sheet | None:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return _Sheet(sheet.title, [], [])
    headers = [_cell(h).strip() for h in header]
    out: list[tuple[int, dict[str, str]]] = []
    for number, values in enumerate(rows, start=2):
        cells = {h: _cell(v) for h, v in zip(headers, values, strict=False) if h}
        for index, value in enumerate(values):
            if (index >= len(headers) or not headers[index]) and _cell(value).strip():
                found.append(
                    problem(
                        "unsupported_column",
                        sheet=sheet.title,
                        row=number,
                        column=f"#{index + 1}",
                        value=_cell(value).strip()[:60],
                    )
                )
        if any(v.strip() for v in cells.values()):
            if len(out) >= MAX_ROWS:
                found.append(
                    problem(
                        "unreadable_xlsx", sheet=sheet.title, detail=f"more than {MAX_ROWS} rows"
                    )
                )
                return None
            out.append((number, cells))
    return _Sheet(sheet.title, headers, out)


def _language(suffix: str) -> str | None:
    """'Chinese (zh)' → 'zh', 'English (en)' → 'en', anything else None."""
    text = suffix.strip().lower()
    code = re.search(r"\(([a-z]{2,3})(?:[-_][a-z0-9]+)*\)", text)
    if code:
        return {"zh": "zh", "en": "en"}.get(code.group(1))
    if text in ("chinese", "中文", "zh", "简体中文"):
        return "zh"
    if text in ("english", "英文", "en"):
        return "en"
    return None


def _texts(sheet: _Sheet, base: str, found: list[FormProblem]) -> dict[str, str]:
    """Which header carries `base` (label or hint) in zh and en; unknown languages reported."""
    columns: dict[str, str] = {}
    for header in sheet.headers:
        head, sep, suffix = header.partition("::")
        if head.strip().lower() != base:
            continue
        if not sep:
            columns.setdefault("zh", header)
            continue
        language = _language(suffix)
        if language is None:
            if any(cells.get(header, "").strip() for _, cells in sheet.rows):
                found.append(
                    problem(
                        "unsupported_language",
                        sheet=sheet.title,
                        column=header,
                        value=suffix.strip(),
                    )
                )
            continue
        columns[language] = header  # a tagged column wins over a plain one
    return columns


def _others(sheet: _Sheet, known: set[str], found: list[FormProblem]) -> None:
    """Report every non-empty cell of a column the subset does not know."""
    for header in sheet.headers:
        if not header:
            continue
        base = header.partition("::")[0].strip().lower()
        if base in known or base in ("label", "hint"):
            continue
        for number, cells in sheet.rows:
            value = cells.get(header, "").strip()
            if value:
                found.append(
                    problem(
                        "unsupported_column",
                        sheet=sheet.title,
                        row=number,
                        column=header,
                        value=value[:60],
                    )
                )


def read_xlsform(
    data: bytes, *, strict: bool = True, catalogue_items: Collection[str] | None = None
) -> ImportedForm:
    """Read an XLSForm; raise XLSFormError with the report when it cannot be imported."""
    found: list[FormProblem] = []
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as error:
        raise XLSFormError([problem("unreadable_xlsx", detail=type(error).__name__)]) from None
    try:
        sheets: dict[str, _Sheet] = {}
        for ws in workbook.worksheets:
            read = _read_sheet(ws, found)
            if read is None:
                raise XLSFormError(found)
            key = ws.title.strip().lower()
            if key in ("survey", "choices", "settings"):
                sheets[key] = read
            elif read.rows or len([h for h in read.headers if h]) > 0:
                found.append(problem("unsupported_sheet", sheet=ws.title))
    finally:
        workbook.close()
    definition = _build(sheets, found, catalogue_items)
    if not strict:
        found = [
            FormProblem(**{**p.__dict__, "severity": "warning"}) if p.code in DROPPABLE else p
            for p in found
        ]
    if definition is None or any(p.severity == "error" for p in found):
        raise XLSFormError(found)
    return ImportedForm(definition, found)


def _choices(
    sheet: _Sheet | None, found: list[FormProblem]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
    lists: dict[str, list[dict[str, Any]]] = {}
    first_row: dict[str, int] = {}
    if sheet is None:
        return lists, first_row
    for column in ("list_name", "name"):
        if column not in {h.strip().lower() for h in sheet.headers}:
            found.append(problem("missing_column", sheet=sheet.title, column=column))
            return lists, first_row
    labels = _texts(sheet, "label", found)
    _others(sheet, CHOICE_COLUMNS, found)
    lower = {h.strip().lower(): h for h in sheet.headers}
    for number, cells in sheet.rows:
        list_name = cells.get(lower["list_name"], "").strip()
        value = cells.get(lower["name"], "").strip()
        if not list_name or not value:
            found.append(
                problem(
                    "missing_value",
                    sheet=sheet.title,
                    row=number,
                    column="list_name" if not list_name else "name",
                )
            )
            continue
        items = lists.setdefault(list_name, [])
        first_row.setdefault(list_name, number)
        if any(item["value"] == value for item in items):
            found.append(
                problem(
                    "duplicate_choice", sheet=sheet.title, row=number, column="name", value=value
                )
            )
            continue
        label = {"zh": cells.get(labels.get("zh", ""), "")}
        if cells.get(labels.get("en", ""), ""):
            label["en"] = cells[labels["en"]]
        items.append({"value": value, "label": label})
    return lists, first_row


def _build(
    sheets: dict[str, _Sheet], found: list[FormProblem], catalogue_items: Collection[str] | None
) -> FormDefinition | None:
    survey = sheets.get("survey")
    if survey is None:
        found.append(problem("missing_sheet", sheet="survey"))
        return None
    lower = {h.strip().lower(): h for h in survey.headers if h}
    for column in ("type", "name"):
        if column not in lower:
            found.append(problem("missing_column", sheet=survey.title, column=column))
            return None
    lists, list_rows = _choices(sheets.get("choices"), found)
    labels = _texts(survey, "label", found)
    hints = _texts(survey, "hint", found)
    _others(survey, SURVEY_COLUMNS, found)
    title = _settings(sheets.get("settings"), found)

    def get(cells: dict[str, str], column: str) -> str:
        return cells.get(lower.get(column, ""), "").strip()

    questions: list[dict[str, Any]] = []
    rows: dict[str, int] = {}
    used: set[str] = set()
    for number, cells in survey.rows:
        q = _question(cells, number, survey.title, get, labels, hints, lists, used, found)
        if q is not None:
            if q["name"] not in rows:
                rows[q["name"]] = number
            questions.append(q)
    for list_name, row in list_rows.items():
        if list_name not in used:
            found.append(
                problem(
                    "unused_list", sheet="choices", row=row, value=list_name, severity="warning"
                )
            )
    if title is None:
        return None
    data = {"format": 1, "title": title, "questions": questions}
    try:
        return parse_definition(data, catalogue_items=catalogue_items)
    except FormDefinitionError as error:
        found.extend(_at_row(p, survey.title, rows.get(p.question or "")) for p in error.problems)
        return None


def _at_row(found: FormProblem, sheet: str, row: int | None) -> FormProblem:
    """A definition problem placed on the survey row of its question."""
    if row is None:
        return found
    en = found.message_en
    return FormProblem(
        **{
            **found.__dict__,
            "sheet": sheet,
            "row": row,
            "message_zh": f"工作表“{sheet}”第 {row} 行，{found.message_zh}",
            "message_en": f"Sheet {sheet}, row {row}, {en[:1].lower()}{en[1:]}",
        }
    )


def _question(
    cells: dict[str, str],
    number: int,
    sheet: str,
    get: Any,
    labels: dict[str, str],
    hints: dict[str, str],
    lists: dict[str, list[dict[str, Any]]],
    used: set[str],
    found: list[FormProblem],
) -> dict[str, Any] | None:
    raw_type = " ".join(get(cells, "type").split())
    kind = " ".join(raw_type.lower().replace("_", " ").split())  # "begin_group" = "begin group"
    name = get(cells, "name")
    at: dict[str, Any] = {"sheet": sheet, "row": number}
    if not raw_type:
        found.append(problem("missing_value", column="type", **at))
        return None
    if kind in METADATA:
        found.append(problem("metadata_ignored", value=kind, severity="warning", **at))
        return None
    if kind in TYPE_HINTS:
        zh, en = TYPE_HINTS[kind]
        found.append(problem("unsupported_type", value=raw_type, hint_zh=zh, hint_en=en, **at))
        return None
    parts = raw_type.split(" ")
    appearance = get(cells, "appearance")
    if parts[0] in CHOICE_TYPES and len(parts) == 2:
        list_name = parts[1]
        used.add(list_name)
        if list_name not in lists:
            found.append(problem("unknown_list", column="type", value=list_name, **at))
            return None
        choices = lists[list_name]
        values = sorted(c["value"] for c in choices)
        if parts[0] == "select_one" and list_name == "yes_no" and values == ["no", "yes"]:
            out: dict[str, Any] = {"type": "yes_no"}
        else:
            out = {"type": parts[0], "choices": choices}
    elif raw_type.lower() in TYPE_MAP and len(parts) == 1:
        out = {"type": TYPE_MAP[raw_type.lower()]}
        if out["type"] == "photo" and appearance == "signature":
            out["type"] = "signature"
            appearance = ""
    else:
        found.append(problem("unsupported_type", value=raw_type, hint_zh="", hint_en="", **at))
        return None
    if not name:
        found.append(problem("missing_value", column="name", **at))
        return None
    out = {"name": name, **out}
    label = {"zh": cells.get(labels.get("zh", ""), "")}
    if cells.get(labels.get("en", ""), ""):
        label["en"] = cells[labels["en"]]
    out["label"] = label
    hint_zh, hint_en = cells.get(hints.get("zh", ""), ""), cells.get(hints.get("en", ""), "")
    if hint_zh or hint_en:
        out["hint"] = {"zh": hint_zh, **({"en": hint_en} if hint_en else {})}
    required = get(cells, "required").lower()
    if required in YES:
        out["required"] = True
    elif required not in NO:
        found.append(problem("unsupported_required", column="required", value=required, **at))
    relevant = get(cells, "relevant")
    if relevant:
        out["relevant"] = relevant
    if appearance:
        found.append(problem("unsupported_appearance", column="appearance", value=appearance, **at))
    constraint = get(cells, "constraint")
    if constraint:
        bounds = _range(constraint) if out["type"] in NUMBER_TYPES else None
        if bounds is None:
            found.append(
                problem("unsupported_constraint", column="constraint", value=constraint, **at)
            )
        else:
            out.update(bounds)
    unit = get(cells, "unit")
    if unit:
        out["unit"] = unit
    item, when = get(cells, "opens_case"), get(cells, "opens_case_when")
    photo, priority = get(cells, "case_photo"), get(cells, "case_priority")
    if item:
        rule: dict[str, Any] = {"catalogue_item": item, "when": when.split()}
        if photo:
            rule["photo"] = photo
        if priority:
            rule["priority"] = priority
        out["opens_case"] = rule
    elif when or photo or priority:
        found.append(problem("missing_value", column="opens_case", **at))
    return out


def _range(constraint: str) -> dict[str, int | float] | None:
    """'. >= 0 and . <= 10' → {'min': 0, 'max': 10}; None for anything else."""
    bounds: dict[str, int | float] = {}
    for part in re.split(r"\s+and\s+", constraint.strip()):
        match = RANGE_PART.match(part)
        if not match:
            return None
        key = "min" if match.group(1) == ">=" else "max"
        if key in bounds:
            return None
        text = match.group(2)
        bounds[key] = float(text) if "." in text else int(text)
    return bounds


def _settings(sheet: _Sheet | None, found: list[FormProblem]) -> dict[str, str] | None:
    if sheet is None or not sheet.rows:
        found.append(problem("missing_value", sheet="settings", column="form_title"))
        return None
    number, cells = sheet.rows[0]
    for extra, _ in sheet.rows[1:]:
        found.append(
            problem("unsupported_column", sheet=sheet.title, row=extra, column="*", value="…")
        )
    lower = {h.strip().lower(): h for h in sheet.headers if h}
    title_zh = cells.get(lower.get("form_title", ""), "")  # texts keep their spaces
    title_en = cells.get(lower.get("form_title_en", ""), "")
    for base, header in lower.items():
        value = cells.get(header, "").strip()
        if base in ("form_title", "form_title_en") or not value:
            continue
        if base in ("form_id", "version"):
            found.append(
                problem(
                    "setting_ignored",
                    sheet=sheet.title,
                    row=number,
                    column=header,
                    value=value[:60],
                    severity="warning",
                    why_zh="表单编号和版本号在发布时由系统分配。",
                    why_en="the form's id and version number are given when it is published.",
                )
            )
        elif base == "default_language":
            if _language(value) != "zh":  # a plain "label" column is read as Chinese
                found.append(
                    problem(
                        "unsupported_language",
                        sheet=sheet.title,
                        row=number,
                        column=header,
                        value=value[:60],
                    )
                )
        else:
            found.append(
                problem(
                    "unsupported_column",
                    sheet=sheet.title,
                    row=number,
                    column=header,
                    value=value[:60],
                )
            )
    if not title_zh.strip():
        found.append(problem("missing_value", sheet=sheet.title, row=number, column="form_title"))
        return None
    return {"zh": title_zh, **({"en": title_en} if title_en else {})}


# --- writing ----------------------------------------------------------------------------

CHOICES_HEADERS = ["list_name", "name", f"label::{ZH_LANGUAGE}", f"label::{EN_LANGUAGE}"]
SETTINGS_HEADERS = ["form_title", "form_title_en", "default_language"]


def _number_text(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    text = format(Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


def _append(ws: Worksheet, values: list[Any]) -> None:
    ws.append(values)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # a label starting with "=" is text, never a formula


def write_xlsform(form: FormDefinition) -> bytes:
    """The definition as an XLSForm .xlsx (survey, choices, settings)."""
    workbook = Workbook()
    survey = workbook.active
    assert survey is not None
    survey.title = "survey"
    choices = workbook.create_sheet("choices")
    settings = workbook.create_sheet("settings")
    _append(survey, SURVEY_HEADERS)
    _append(choices, CHOICES_HEADERS)
    _append(settings, SETTINGS_HEADERS)
    names = {q.name for q in form.questions}
    taken = set(names) | {"yes_no"}
    if any(q.type == "yes_no" for q in form.questions):
        _append(choices, ["yes_no", "yes", "是", "Yes"])
        _append(choices, ["yes_no", "no", "否", "No"])
    for q in form.questions:
        if q.type == "yes_no":
            qtype, appearance = "select_one yes_no", ""
        elif q.type in CHOICE_TYPES:
            list_name = q.name
            while list_name == "yes_no" or (list_name in taken and list_name != q.name):
                list_name += "_"
            taken.add(list_name)
            qtype, appearance = f"{q.type} {list_name}", ""
            for choice in q.choices:
                _append(choices, [list_name, choice.value, choice.label.zh, choice.label.en])
        elif q.type == "signature":
            qtype, appearance = "image", "signature"
        else:
            qtype = {"photo": "image", "location": "geopoint"}.get(q.type, q.type)
            appearance = ""
        bounds = []
        if q.min is not None:
            bounds.append(f". >= {_number_text(q.min)}")
        if q.max is not None:
            bounds.append(f". <= {_number_text(q.max)}")
        rule = q.opens_case
        _append(
            survey,
            [
                qtype,
                q.name,
                q.label.zh,
                q.label.en,
                q.hint.zh if q.hint else "",
                q.hint.en if q.hint else "",
                "yes" if q.required else "",
                q.relevant or "",
                " and ".join(bounds),
                appearance,
                q.unit or "",
                rule.catalogue_item if rule else "",
                " ".join(rule.when) if rule else "",
                (rule.photo or "") if rule else "",
                (rule.priority or "") if rule else "",
            ],
        )
    _append(settings, [form.title.zh, form.title.en, ZH_LANGUAGE])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
