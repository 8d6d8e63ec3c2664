"""A form definition: typed dataclasses, its JSON (stored and sent to phones), and its checks.

`parse_definition(data)` reads the JSON dict and checks everything at once, raising
`FormDefinitionError` with every problem; `definition_to_json(form)` writes the canonical
dict back (defaults left out, so parse → write → parse is the identity). docs/forms.md
describes the format.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from server.forms import conditions as cond
from server.forms.problems import FormDefinitionError, FormProblem, problem

FORMAT = 1
MAX_QUESTIONS = 300
MAX_LABEL = 500
MAX_HINT = 1000
MAX_UNIT = 20
MAX_CHOICES = 200
MAX_TITLE = 100

#: The question types, in the order the docs list them.
TYPES = (
    "yes_no",
    "select_one",
    "select_multiple",
    "integer",
    "decimal",
    "date",
    "text",
    "photo",
    "location",
    "signature",
)
CHOICE_TYPES = ("select_one", "select_multiple")
NUMBER_TYPES = ("integer", "decimal")
CASE_TYPES = ("yes_no", *CHOICE_TYPES)
YES_NO_VALUES = ("yes", "no")
PRIORITIES = ("urgent", "high", "normal")

NAME = cond.NAME
CHOICE_VALUE = re.compile(r"^\S{1,64}$")
CATALOGUE_ITEM = re.compile(r"^[AS]\d{2}-\d{2}$")


@dataclass(frozen=True)
class Text:
    """Words in Chinese (required where shown) and English (may be empty)."""

    zh: str
    en: str = ""


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text


@dataclass(frozen=True)
class OpensCase:
    """An answer in ``when`` files a case of catalogue item ``catalogue_item``, with the
    answer of the photo question ``photo`` attached, placed and assigned as usual."""

    catalogue_item: str
    when: tuple[str, ...]
    photo: str | None = None
    priority: str | None = None


@dataclass(frozen=True)
class Question:
    name: str
    type: str
    label: Text
    hint: Text | None = None
    required: bool = False
    relevant: str | None = None
    choices: tuple[Choice, ...] = ()
    min: int | float | None = None
    max: int | float | None = None
    unit: str | None = None
    opens_case: OpensCase | None = None

    def values(self) -> tuple[str, ...]:
        """The values a yes/no or choice question accepts."""
        if self.type == "yes_no":
            return YES_NO_VALUES
        return tuple(c.value for c in self.choices)


@dataclass(frozen=True)
class FormDefinition:
    title: Text
    questions: tuple[Question, ...]
    format: int = FORMAT
    _by_name: dict[str, Question] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    _parsed: dict[str, cond.Expr | None] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        self._by_name.update({q.name: q for q in self.questions})

    def question(self, name: str) -> Question | None:
        return self._by_name.get(name)

    def condition(self, name: str) -> cond.Expr | None:
        """The parsed `relevant` condition of a question (None: always asked)."""
        if name not in self._parsed:
            question = self._by_name[name]
            self._parsed[name] = cond.parse(question.relevant) if question.relevant else None
        return self._parsed[name]


# --- writing ------------------------------------------------------------------------


def _text_json(text: Text) -> dict[str, str]:
    return {"zh": text.zh, "en": text.en} if text.en else {"zh": text.zh}


def question_to_json(q: Question) -> dict[str, Any]:
    out: dict[str, Any] = {"name": q.name, "type": q.type, "label": _text_json(q.label)}
    if q.hint is not None:
        out["hint"] = _text_json(q.hint)
    if q.required:
        out["required"] = True
    if q.relevant is not None:
        out["relevant"] = q.relevant
    if q.choices:
        out["choices"] = [{"value": c.value, "label": _text_json(c.label)} for c in q.choices]
    for key in ("min", "max", "unit"):
        if getattr(q, key) is not None:
            out[key] = getattr(q, key)
    if q.opens_case is not None:
        rule: dict[str, Any] = {
            "catalogue_item": q.opens_case.catalogue_item,
            "when": list(q.opens_case.when),
        }
        if q.opens_case.photo is not None:
            rule["photo"] = q.opens_case.photo
        if q.opens_case.priority is not None:
            rule["priority"] = q.opens_case.priority
        out["opens_case"] = rule
    return out


def definition_to_json(form: FormDefinition) -> dict[str, Any]:
    """The canonical JSON dict: what is stored and what phones receive."""
    return {
        "format": form.format,
        "title": _text_json(form.title),
        "questions": [question_to_json(q) for q in form.questions],
    }


# --- reading ------------------------------------------------------------------------

_FORM_KEYS = {"format", "title", "questions"}
_QUESTION_KEYS = {
    "name",
    "type",
    "label",
    "hint",
    "required",
    "relevant",
    "choices",
    "min",
    "max",
    "unit",
    "opens_case",
}
_CASE_KEYS = {"catalogue_item", "when", "photo", "priority"}


class _Collector:
    """Problems found so far, with the question they are about."""

    def __init__(self) -> None:
        self.problems: list[FormProblem] = []

    def add(self, code: str, question: str | None = None, **data: Any) -> None:
        self.problems.append(problem(code, question=question, **data))


def parse_definition(
    data: Any, *, catalogue_items: Collection[str] | None = None
) -> FormDefinition:
    """Read and check a definition; raise FormDefinitionError listing every problem.

    ``catalogue_items``, when given, are the catalogue's item codes: a case rule naming
    another code is a problem (the database layer passes them; plain checks skip it).
    """
    found = _Collector()
    form = _read_form(data, found)
    if form is not None:
        found.problems.extend(check_definition(form, catalogue_items=catalogue_items))
    if found.problems or form is None:
        raise FormDefinitionError(found.problems)
    return form


def _keys(data: Mapping[str, Any], allowed: set[str], found: _Collector, q: str | None) -> None:
    for key in data:
        if key not in allowed:
            found.add("unknown_key", q, key=str(key)[:40])


def _text(data: Any, key: str, found: _Collector, q: str | None, *, limit: int) -> Text | None:
    """Read {zh, en}; an empty Chinese text is check_definition's to report."""
    if not isinstance(data, dict):
        found.add(
            "bad_value",
            q,
            key=key,
            detail_zh="应为 {zh, en} 对象",
            detail_en="expected an object {zh, en}",
        )
        return None
    _keys(data, {"zh", "en"}, found, q)
    zh, en = data.get("zh", ""), data.get("en", "")
    if not isinstance(zh, str) or not isinstance(en, str):
        found.add("bad_value", q, key=key, detail_zh="应为文字", detail_en="expected text")
        return None
    if len(zh) > limit or len(en) > limit:
        found.add("text_too_long", q, key=key, limit=limit)
    return Text(zh, en)


def _number(value: Any, key: str, found: _Collector, q: str) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        found.add("bad_number", q, key=key)
        return None
    return value


def _read_form(data: Any, found: _Collector) -> FormDefinition | None:
    if not isinstance(data, dict):
        found.add("not_an_object", what_zh="表单定义", what_en="The form definition")
        return None
    _keys(data, _FORM_KEYS, found, None)
    fmt = data.get("format")
    if fmt != FORMAT or isinstance(fmt, bool):
        found.add("unsupported_format", value=repr(fmt), supported=FORMAT)
        return None
    title = _text(data.get("title"), "title", found, None, limit=MAX_TITLE)
    questions = data.get("questions")
    if not isinstance(questions, list):
        found.add("missing_key", key="questions")
        return None
    if len(questions) > MAX_QUESTIONS:
        found.add("too_many_questions", limit=MAX_QUESTIONS, count=len(questions))
        return None
    read = [_read_question(i, item, found) for i, item in enumerate(questions, start=1)]
    if title is None or any(q is None for q in read):
        return None
    return FormDefinition(title=title, questions=tuple(q for q in read if q is not None))


def _read_question(index: int, data: Any, found: _Collector) -> Question | None:
    if not isinstance(data, dict):
        found.add("not_an_object", what_zh=f"第 {index} 个问题", what_en=f"Question {index}")
        return None
    name = data.get("name")
    q = name if isinstance(name, str) and name else f"#{index}"
    _keys(data, _QUESTION_KEYS, found, q)
    before = len(found.problems)
    if not isinstance(name, str):
        found.add("missing_key", q, key="name")
    qtype = data.get("type")
    if not isinstance(qtype, str):
        found.add("missing_key", q, key="type")
    label = _text(data.get("label"), "label", found, q, limit=MAX_LABEL)
    hint = None
    if data.get("hint") is not None:
        hint = _text(data["hint"], "hint", found, q, limit=MAX_HINT)
    required = data.get("required", False)
    if not isinstance(required, bool):
        found.add(
            "bad_value",
            q,
            key="required",
            detail_zh="应为 true 或 false",
            detail_en="expected true or false",
        )
    relevant = data.get("relevant")
    if relevant is not None and not isinstance(relevant, str):
        found.add("bad_value", q, key="relevant", detail_zh="应为文字", detail_en="expected text")
    choices = _read_choices(data.get("choices"), found, q)
    low = _number(data.get("min"), "min", found, q)
    high = _number(data.get("max"), "max", found, q)
    unit = data.get("unit")
    if unit is not None and not isinstance(unit, str):
        found.add("bad_value", q, key="unit", detail_zh="应为文字", detail_en="expected text")
    rule = _read_case(data.get("opens_case"), found, q)
    if len(found.problems) > before or label is None:
        return None
    return Question(
        name=str(name),
        type=str(qtype),
        label=label,
        hint=hint,
        required=bool(required),
        relevant=relevant,
        choices=choices,
        min=low,
        max=high,
        unit=unit,
        opens_case=rule,
    )


def _read_choices(data: Any, found: _Collector, q: str) -> tuple[Choice, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        found.add("bad_value", q, key="choices", detail_zh="应为列表", detail_en="expected a list")
        return ()
    choices: list[Choice] = []
    for item in data[: MAX_CHOICES + 1]:
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            found.add(
                "bad_value",
                q,
                key="choices",
                detail_zh="每个选项应为 {value, label}",
                detail_en="each choice is {value, label}",
            )
            continue
        _keys(item, {"value", "label"}, found, q)
        label = _text(item.get("label"), "label", found, q, limit=MAX_LABEL)
        if label is not None:
            choices.append(Choice(item["value"], label))
    if len(data) > MAX_CHOICES:
        found.add(
            "bad_value",
            q,
            key="choices",
            detail_zh=f"最多 {MAX_CHOICES} 个选项",
            detail_en=f"at most {MAX_CHOICES} choices",
        )
    return tuple(choices)


def _read_case(data: Any, found: _Collector, q: str) -> OpensCase | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        found.add("not_an_object", q, what_zh="opens_case", what_en="opens_case")
        return None
    _keys(data, _CASE_KEYS, found, q)
    item, when = data.get("catalogue_item"), data.get("when")
    photo, priority = data.get("photo"), data.get("priority")
    if not isinstance(item, str):
        found.add("missing_key", q, key="opens_case.catalogue_item")
        return None
    if not isinstance(when, list) or not all(isinstance(v, str) for v in when):
        found.add(
            "bad_value",
            q,
            key="opens_case.when",
            detail_zh="应为选项值列表",
            detail_en="expected a list of values",
        )
        return None
    if photo is not None and not isinstance(photo, str):
        found.add("opens_case_photo", q, value=repr(photo))
        return None
    if priority is not None and not isinstance(priority, str):
        found.add("opens_case_priority", q, value=repr(priority))
        return None
    return OpensCase(item, tuple(when), photo, priority)


# --- checking -----------------------------------------------------------------------


def check_definition(
    form: FormDefinition, *, catalogue_items: Collection[str] | None = None
) -> list[FormProblem]:
    """Every problem of a well-shaped definition (names, types, choices, ranges, conditions,
    case rules). Empty when the form may be published."""
    found = _Collector()
    if not form.title.zh.strip():
        found.add("missing_label")
    if not form.questions:
        found.add("no_questions")
    position: dict[str, int] = {}
    for index, q in enumerate(form.questions, start=1):
        if not NAME.match(q.name):
            found.add("bad_name", q.name, value=q.name)
        if q.name in position:
            found.add("duplicate_name", q.name, value=q.name, first=position[q.name])
        else:
            position[q.name] = index
        _check_question(q, found)
    if any(p.code == "duplicate_name" for p in found.problems):
        return found.problems  # references would be ambiguous: fix the names first
    parsed = _check_conditions(form, position, found)
    _check_cases(form, found, catalogue_items)
    if parsed:
        _check_condition_types(form, parsed, found)
    return found.problems


def _check_question(q: Question, found: _Collector) -> None:
    if q.type not in TYPES:
        found.add("unknown_type", q.name, value=q.type, known=", ".join(TYPES))
        return
    if not q.label.zh.strip():
        found.add("missing_label", q.name)
    if q.type in CHOICE_TYPES:
        if len(q.choices) < 2:
            found.add("choices_needed", q.name)
        seen: set[str] = set()
        for choice in q.choices:
            if not CHOICE_VALUE.match(choice.value):
                found.add("bad_choice_value", q.name, value=choice.value)
            elif choice.value in seen:
                found.add("duplicate_choice", q.name, value=choice.value)
            seen.add(choice.value)
            if not choice.label.zh.strip():
                found.add("missing_label", q.name)
    elif q.choices:
        found.add("choices_not_allowed", q.name, type=q.type)
    if q.type in NUMBER_TYPES:
        for key in ("min", "max"):
            value = getattr(q, key)
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                found.add("bad_number", q.name, key=key)
            elif q.type == "integer" and not float(value).is_integer():
                found.add(
                    "bad_value",
                    q.name,
                    key=key,
                    detail_zh="整数题的范围应为整数",
                    detail_en="an integer question has a whole-number range",
                )
        if isinstance(q.min, int | float) and isinstance(q.max, int | float) and q.min > q.max:
            found.add("min_above_max", q.name, min=q.min, max=q.max)
        if q.unit is not None and not (0 < len(q.unit.strip()) <= MAX_UNIT):
            found.add("text_too_long", q.name, key="unit", limit=MAX_UNIT)
    elif q.min is not None or q.max is not None or q.unit is not None:
        found.add("range_not_allowed", q.name)


def _check_conditions(
    form: FormDefinition, position: dict[str, int], found: _Collector
) -> dict[str, cond.Expr]:
    """Parse every condition; report unknown and forward references, and cycles (named)."""
    parsed: dict[str, cond.Expr] = {}
    edges: dict[str, list[str]] = {}
    for q in form.questions:
        if q.relevant is None:
            continue
        try:
            expr = cond.parse(q.relevant)
        except cond.ConditionError as error:
            found.add(
                "bad_condition",
                q.name,
                value=q.relevant[:80],
                detail_zh=error.detail_zh,
                detail_en=error.detail_en,
            )
            continue
        parsed[q.name] = expr
        refs = cond.references(expr)
        edges[q.name] = [r for r in refs if r in position]
        for ref in refs:
            if ref not in position:
                found.add("unknown_reference", q.name, ref=ref)
    cycles = find_cycles(edges)
    in_cycle = {(a, b) for cycle in cycles for a, b in itertools.pairwise(cycle)}
    for cycle in cycles:
        found.add("condition_cycle", cycle[0], cycle=" → ".join(cycle))
    for name, refs in edges.items():
        for ref in refs:
            if position[ref] >= position[name] and (name, ref) not in in_cycle:
                found.add("forward_reference", name, ref=ref)
    ok = not any(p.code in ("unknown_reference", "condition_cycle") for p in found.problems)
    return parsed if ok else {}


def find_cycles(edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Cycles of a dependency graph, each as a closed path [a, b, …, a] (a → b: a reads b).

    Every node on a cycle appears in at least one reported cycle; a graph has a cycle iff
    the list is not empty.

    >>> find_cycles({"a": ["b"], "b": ["a"], "c": ["a"]})
    [['a', 'b', 'a']]
    """
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []
    for start in edges:
        if state.get(start):
            continue
        path: list[str] = [start]
        state[start] = 1
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, i = stack[-1]
            targets = edges.get(node, [])
            if i == len(targets):
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            stack[-1] = (node, i + 1)
            target = targets[i]
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif not state.get(target):
                state[target] = 1
                path.append(target)
                stack.append((target, 0))
    return cycles


def _check_condition_types(
    form: FormDefinition, parsed: dict[str, cond.Expr], found: _Collector
) -> None:
    """Comparisons fit the questions they read: numbers with numbers, values with choices."""
    for name, expr in parsed.items():
        for node in cond.walk(expr):
            if isinstance(node, cond.Selected):
                target = form.question(node.ref.name)
                assert target is not None
                if target.type not in TYPES:
                    continue  # already reported as an unknown type
                if target.type not in CASE_TYPES:
                    found.add(
                        "condition_type",
                        name,
                        ref=target.name,
                        type=target.type,
                        detail_zh="不是选择题，不能用 selected()。",
                        detail_en="is not a choice question; selected() does not apply.",
                    )
                elif node.value not in target.values():
                    found.add("condition_value", name, ref=target.name, value=node.value)
            elif isinstance(node, cond.Compare):
                _check_compare(form, name, node, found)


def _kind(question: Question) -> str:
    if question.type in NUMBER_TYPES:
        return "number"
    if question.type in ("yes_no", "select_one", "text", "date"):
        return "string"
    return "other"


def _check_compare(form: FormDefinition, name: str, node: cond.Compare, found: _Collector) -> None:
    sides: list[tuple[str, Any]] = []
    for operand in (node.left, node.right):
        if isinstance(operand, cond.Ref):
            question = form.question(operand.name)
            assert question is not None
            if question.type not in TYPES:
                return  # already reported as an unknown type
            kind = _kind(question)
            if kind == "other":
                found.add(
                    "condition_type",
                    name,
                    ref=question.name,
                    type=question.type,
                    detail_zh="不能用于比较（多选题请用 selected()）。",
                    detail_en="cannot be compared (use selected() for multiple choice).",
                )
                return
            sides.append((kind, question))
        else:
            sides.append(("number" if isinstance(operand, cond.Num) else "string", operand))
    (left_kind, left), (right_kind, right) = sides
    for kind, subject in sides:
        if isinstance(subject, Question) and kind != "number" and node.op in cond.ORDERING:
            found.add(
                "condition_type",
                name,
                ref=subject.name,
                type=subject.type,
                detail_zh=f"不是数字，不能用“{node.op}”比较。",
                detail_en=f'is not a number; "{node.op}" does not apply.',
            )
            return
    if left_kind != right_kind:
        subject = left if isinstance(left, Question) else right
        assert isinstance(subject, Question)
        other = right if subject is left else left
        found.add(
            "condition_type",
            name,
            ref=subject.name,
            type=subject.type,
            detail_zh=f"不能与“{_operand_shown(other)}”比较（类型不同）。",
            detail_en=f'cannot be compared with "{_operand_shown(other)}" '
            "(a different kind of value).",
        )
        return
    for subject, other in ((left, right), (right, left)):
        if (
            isinstance(subject, Question)
            and subject.type in CASE_TYPES
            and isinstance(other, cond.Str)
            and other.value not in subject.values()
        ):
            found.add("condition_value", name, ref=subject.name, value=other.value)


def _operand_shown(operand: Any) -> str:
    if isinstance(operand, Question):
        return "${" + operand.name + "}"
    if isinstance(operand, cond.Str):
        return operand.value
    return str(operand.text)


def _check_cases(
    form: FormDefinition, found: _Collector, catalogue_items: Collection[str] | None
) -> None:
    for q in form.questions:
        rule = q.opens_case
        if rule is None:
            continue
        if q.type not in CASE_TYPES:
            found.add("opens_case_type", q.name)
            continue
        if not CATALOGUE_ITEM.match(rule.catalogue_item):
            found.add("opens_case_item", q.name, value=rule.catalogue_item)
        elif catalogue_items is not None and rule.catalogue_item not in catalogue_items:
            found.add("opens_case_unknown_item", q.name, value=rule.catalogue_item)
        if not rule.when:
            found.add("opens_case_when_empty", q.name)
        seen: set[str] = set()
        for value in rule.when:
            if value not in q.values() or value in seen:
                found.add("opens_case_when", q.name, value=value)
            seen.add(value)
        if rule.photo is not None:
            target = form.question(rule.photo)
            if target is None or target.type != "photo":
                found.add("opens_case_photo", q.name, value=rule.photo)
        if rule.priority is not None and rule.priority not in PRIORITIES:
            found.add("opens_case_priority", q.name, value=rule.priority)
