"""What can be wrong with a form, its answers or an XLSForm file: stable codes, zh/en messages.

Plain data in the style of `server/imports/rules.py`: each problem names its place (question,
sheet and row where known), a machine code and a message in Chinese and English. The
exceptions carry every problem found, never just the first, and nothing is stored when one is
raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from flask_babel import lazy_gettext as _l

from server.exceptions import InvalidInput

Severity = Literal["error", "warning"]

# code: (message_zh, message_en); templates are filled from the problem's data.
RULES: dict[str, tuple[str, str]] = {
    # --- the definition ---------------------------------------------------------------
    "not_an_object": ("{what_zh}必须是 JSON 对象。", "{what_en} must be a JSON object."),
    "unknown_key": ("不认识的键“{key}”。", 'Unknown key "{key}".'),
    "missing_key": ("缺少“{key}”。", 'The key "{key}" is missing.'),
    "bad_value": (
        "“{key}”的值无效：{detail_zh}。",
        'The value of "{key}" is not valid: {detail_en}.',
    ),
    "unsupported_format": (
        "不支持的表单格式版本 {value}（支持 {supported}）。",
        "Form format {value} is not supported (supported: {supported}).",
    ),
    "no_questions": ("表单至少需要一个问题。", "A form needs at least one question."),
    "too_many_questions": (
        "表单最多 {limit} 个问题，这里有 {count} 个。",
        "A form has at most {limit} questions; this one has {count}.",
    ),
    "bad_name": (
        "问题名“{value}”无效：须以字母或下划线开头，只含字母、数字、“_”“-”“.”，最多 64 个字符。",
        'The question name "{value}" is not valid: it starts with a letter or "_" and holds '
        'only letters, digits, "_", "-" or ".", at most 64 characters.',
    ),
    "duplicate_name": (
        "问题名“{value}”重复（第 {first} 个问题已使用）。",
        'The question name "{value}" is used twice (first by question {first}).',
    ),
    "unknown_type": (
        "未知的问题类型“{value}”（可用：{known}）。",
        'Unknown question type "{value}" (known: {known}).',
    ),
    "missing_label": ("问题需要中文题目。", "The question needs a Chinese label."),
    "text_too_long": (
        "“{key}”最多 {limit} 个字符。",
        '"{key}" is at most {limit} characters.',
    ),
    "choices_needed": (
        "单选、多选题至少需要两个选项。",
        "A choice question needs at least two choices.",
    ),
    "choices_not_allowed": (
        "{type} 类型的问题不能有选项。",
        "A question of type {type} has no choices.",
    ),
    "bad_choice_value": (
        "选项值“{value}”无效：不能为空，不能含空格，最多 64 个字符。",
        'The choice value "{value}" is not valid: not empty, no spaces, at most 64 characters.',
    ),
    "duplicate_choice": (
        "选项值“{value}”重复。",
        'The choice value "{value}" appears more than once.',
    ),
    "range_not_allowed": (
        "只有数字题可以有最小值、最大值和单位。",
        "Only number questions have a minimum, a maximum and a unit.",
    ),
    "bad_number": ("“{key}”必须是有限的数字。", '"{key}" must be a finite number.'),
    "min_above_max": (
        "最小值 {min} 大于最大值 {max}。",
        "The minimum {min} is above the maximum {max}.",
    ),
    "bad_condition": (
        "显示条件“{value}”无效：{detail_zh}",
        'The condition "{value}" is not valid: {detail_en}',
    ),
    "unknown_reference": (
        "显示条件引用了不存在的问题“{ref}”。",
        'The condition refers to "{ref}", which is not a question of this form.',
    ),
    "forward_reference": (
        "显示条件引用了后面的问题“{ref}”；条件只能引用前面的问题。",
        'The condition refers to "{ref}", which comes later; conditions may only refer to '
        "earlier questions.",
    ),
    "condition_cycle": (
        "显示条件形成循环：{cycle}。",
        "The conditions form a cycle: {cycle}.",
    ),
    "condition_type": (
        "显示条件中“{ref}”（{type}）{detail_zh}",
        'In the condition, "{ref}" ({type}) {detail_en}',
    ),
    "condition_value": (
        "显示条件把“{ref}”与“{value}”比较，但它不是该问题的选项。",
        'The condition compares "{ref}" with "{value}", which is not one of its choices.',
    ),
    "opens_case_type": (
        "只有是非题和选择题的回答可以生成案件。",
        "Only yes/no and choice answers can open a case.",
    ),
    "opens_case_item": (
        "生成案件的事项编码“{value}”无效（应如 A02-03）。",
        'The catalogue item code "{value}" is not valid (it looks like A02-03).',
    ),
    "opens_case_unknown_item": (
        "受理目录中没有事项“{value}”。",
        'The catalogue has no item "{value}".',
    ),
    "opens_case_when": (
        "生成案件的回答“{value}”不是该问题的选项。",
        'The answer "{value}" that opens a case is not one of the question\'s values.',
    ),
    "opens_case_when_empty": (
        "请指定哪些回答生成案件。",
        "Say which answers open a case.",
    ),
    "opens_case_photo": (
        "生成案件附带的照片“{value}”必须是本表单的拍照题。",
        'The case photo "{value}" must be a photo question of this form.',
    ),
    "opens_case_priority": (
        "紧急程度“{value}”无效（可用：urgent、high、normal）。",
        'The priority "{value}" is not valid (use urgent, high or normal).',
    ),
    # --- answers ------------------------------------------------------------------------
    "answers_not_object": ("回答必须是 JSON 对象。", "The answers must be a JSON object."),
    "unknown_question": (
        "此版本的表单没有问题“{question}”。",
        'This version of the form has no question "{question}".',
    ),
    "required": ("此题必答。", "This question must be answered."),
    "wrong_type": (
        "回答类型错误：{type} 题需要{expected_zh}，收到的是 {got}。",
        "Wrong kind of answer for a question of type {type}: expected {expected_en}, got {got}.",
    ),
    "not_a_choice": ("“{value}”不是此题的选项。", '"{value}" is not one of the choices.'),
    "repeated_choice": ("选项“{value}”选了两次。", 'The choice "{value}" is selected twice.'),
    "below_min": ("{value} 小于最小值 {min}。", "{value} is below the minimum {min}."),
    "above_max": ("{value} 大于最大值 {max}。", "{value} is above the maximum {max}."),
    "bad_date": (
        "“{value}”不是有效日期（YYYY-MM-DD）。",
        '"{value}" is not a valid date (YYYY-MM-DD).',
    ),
    "bad_location": (
        "位置须为 {{lat, lon}}，纬度在 ±90、经度在 ±180 以内。",
        "A location is {{lat, lon}} with latitude within ±90 and longitude within ±180.",
    ),
    "bad_photo": (
        "“{value}”不是照片编号（SHA-256 或 UUID）。",
        '"{value}" is not a photo id (a SHA-256 or a UUID).',
    ),
    # --- XLSForm files ------------------------------------------------------------------
    "unreadable_xlsx": (
        "无法读取此文件（{detail}）。请上传 .xlsx 格式的 XLSForm。",
        "This file cannot be read ({detail}). Upload an XLSForm as .xlsx.",
    ),
    "missing_sheet": ("缺少工作表“{sheet}”。", 'The sheet "{sheet}" is missing.'),
    "missing_column": (
        "工作表“{sheet}”缺少列“{column}”。",
        'The sheet "{sheet}" has no column "{column}".',
    ),
    "unsupported_sheet": (
        "不支持工作表“{sheet}”，其内容不会导入。",
        'The sheet "{sheet}" is not supported; nothing in it comes over.',
    ),
    "unsupported_column": (
        "不支持列“{column}”（值“{value}”）。",
        'The column "{column}" is not supported (value "{value}").',
    ),
    "unsupported_type": (
        "不支持题型“{value}”。{hint_zh}",
        'The question type "{value}" is not supported.{hint_en}',
    ),
    "unsupported_required": (
        "“required”只支持 yes/no，不支持表达式“{value}”。",
        '"required" takes yes or no; the expression "{value}" is not supported.',
    ),
    "unsupported_constraint": (
        "不支持约束“{value}”：只支持数字题的范围（如 . >= 0 and . <= 10）。",
        'The constraint "{value}" is not supported: only a range on a number question '
        "(such as . >= 0 and . <= 10).",
    ),
    "unsupported_appearance": (
        "不支持外观“{value}”。",
        'The appearance "{value}" is not supported.',
    ),
    "unsupported_language": (
        "不支持语言“{value}”（只支持中文和英文）。",
        'The language "{value}" is not supported (only Chinese and English).',
    ),
    "unknown_list": (
        "选项列表“{value}”在 choices 工作表中不存在。",
        'The choice list "{value}" is not in the choices sheet.',
    ),
    "unused_list": (
        "选项列表“{value}”没有被任何问题使用，不会导入。",
        'The choice list "{value}" is used by no question and does not come over.',
    ),
    "metadata_ignored": (
        "元数据“{value}”不导入：系统自动记录时间和填写人。",
        'The metadata field "{value}" does not come over: the system records the time and '
        "the worker itself.",
    ),
    "setting_ignored": (
        "设置“{column}”（值“{value}”）不导入：{why_zh}",
        'The setting "{column}" (value "{value}") does not come over: {why_en}',
    ),
    "missing_value": (
        "缺少“{column}”。",
        'The "{column}" is missing.',
    ),
}


@dataclass(frozen=True)
class FormProblem:
    """One finding: code, severity, place and message in both languages."""

    code: str
    message_zh: str
    message_en: str
    severity: Severity = "error"
    question: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def message(self, locale: str) -> str:
        return self.message_en if locale == "en" else self.message_zh

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "severity": self.severity}
        for key in ("question", "sheet", "row", "column"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["message_zh"] = self.message_zh
        out["message_en"] = self.message_en
        return out


def problem(
    code: str,
    *,
    question: str | None = None,
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
    severity: Severity = "error",
    **data: Any,
) -> FormProblem:
    """Build a problem from the catalogue; an unknown code is a programming error (KeyError)."""
    zh, en = RULES[code]
    values = {"question": question, "sheet": sheet, "row": row, "column": column, **data}
    where_zh, where_en = _where(question, sheet, row, column)
    return FormProblem(
        code=code,
        message_zh=where_zh + zh.format(**values),
        message_en=where_en + en.format(**values),
        severity=severity,
        question=question,
        sheet=sheet,
        row=row,
        column=column,
    )


def _where(
    question: str | None, sheet: str | None, row: int | None, column: str | None
) -> tuple[str, str]:
    zh: list[str] = []
    en: list[str] = []
    if sheet is not None:
        zh.append(f"工作表“{sheet}”" + (f"第 {row} 行" if row is not None else ""))
        en.append(f"Sheet {sheet}" + (f", row {row}" if row is not None else ""))
    if question is not None:
        zh.append(f"问题“{question}”")
        en.append(f"question {question}")
    if not zh:
        return "", ""
    english = ", ".join(en)
    return "，".join(zh) + "：", english[0].upper() + english[1:] + ": "


class FormError(InvalidInput):
    """Base of the form errors: every problem found, in order; nothing was stored."""

    code = "form_invalid"
    summary: Any = _l("The form has problems; see the list.")

    def __init__(self, problems: list[FormProblem]) -> None:
        super().__init__(
            self.summary,
            details={"problems": [p.to_dict() for p in problems]},
        )
        self.problems = problems

    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


class FormDefinitionError(FormError):
    code = "form_definition_invalid"
    summary = _l("The form definition has problems; see the list.")


class AnswersError(FormError):
    code = "form_answers_invalid"
    summary = _l("The answers do not fit the form; see the list.")


class XLSFormError(FormError):
    """The XLSForm was refused; ``problems`` is the whole import report (warnings too)."""

    code = "xlsform_refused"
    summary = _l("The XLSForm was not imported; see the list.")
