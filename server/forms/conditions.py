"""The condition language: a small, safe subset of XLSForm `relevant` expressions.

Grammar (docs/forms.md repeats it; the PWA implements the same):

    condition  := or
    or         := and ("or" and)*
    and        := unary ("and" unary)*
    unary      := "not" "(" condition ")" | "(" condition ")" | selected | comparison
    selected   := "selected" "(" ref "," string ")"
    comparison := operand ("=" | "!=" | "<" | ">" | "<=" | ">=") operand
    operand    := ref | string | number
    ref        := "${" name "}"
    string     := "'" chars "'" | '"' chars '"'        (no escapes, as in XPath)
    number     := "-"? digits ("." digits)?

A tiny tokenizer and recursive-descent parser, no `eval`. Anything else (functions such as
`count-selected()`, arithmetic, `.`, paths, bare references) is refused with an error naming
the construct. An unanswered (or not relevant) question has no value: `=` is false, `!=` is
true, `<`, `>`, `<=`, `>=` and `selected` are false.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 1000
MAX_DEPTH = 32

ORDERING = ("<", ">", "<=", ">=")
OPERATORS = ("=", "!=", *ORDERING)


class ConditionError(ValueError):
    """The text is not a condition of the subset; ``detail_zh``/``detail_en`` say why."""

    def __init__(self, detail_zh: str, detail_en: str, *, construct: str | None = None) -> None:
        super().__init__(detail_en)
        self.detail_zh = detail_zh
        self.detail_en = detail_en
        self.construct = construct


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Num:
    text: str  # as written, so the condition prints back unchanged

    @property
    def value(self) -> float:
        return float(self.text)


Operand = Ref | Str | Num


@dataclass(frozen=True)
class Compare:
    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True)
class Selected:
    ref: Ref
    value: str


@dataclass(frozen=True)
class Not:
    inner: Expr


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


Expr = Compare | Selected | Not | And | Or

# --- tokens ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<ref>\$\{(?P<refname>[^}]*)\})
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_.:-]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_ARITHMETIC = {"+", "-", "*", "|", "/"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind == "refname":  # pragma: no cover - a named group inside "ref"
            kind = "ref"
        if match.group("ref") is not None:
            kind = "ref"
        if kind == "space":
            continue
        token = match.group(0)
        if kind == "number" and found and found[-1].kind == "other" and found[-1].text == "-":
            # A minus sign right before a number is a negative literal unless it follows
            # an operand (then it is subtraction, refused by the parser).
            before = found[-2] if len(found) > 1 else None
            after_operand = before is not None and (
                before.kind in ("ref", "string", "number") or before.text == ")"
            )
            if not after_operand:
                found[-1] = _Token("number", "-" + token, found[-1].at)
                continue
        found.append(_Token(kind, token, match.start()))
    return found


# --- parser ---------------------------------------------------------------------------


def parse(text: str) -> Expr:
    """Parse a condition; raise ConditionError naming what is wrong or not supported.

    >>> parse("${a} = 'yes' and not(${b} >= 3)")
    And(items=(Compare(op='=', left=Ref(name='a'), right=Str(value='yes')), \
Not(inner=Compare(op='>=', left=Ref(name='b'), right=Num(text='3')))))
    """
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("条件为空。", "the condition is empty.")
    if len(text) > MAX_LENGTH:
        raise ConditionError(
            f"条件超过 {MAX_LENGTH} 个字符。",
            f"the condition is longer than {MAX_LENGTH} characters.",
        )
    parser = _Parser(_tokens(text))
    expr = parser.condition(0)
    if parser.peek() is not None:
        token = parser.peek()
        assert token is not None
        raise _unexpected(token)
    return expr


def _unsupported(construct: str, zh: str | None = None, en: str | None = None) -> ConditionError:
    return ConditionError(
        zh or f"不支持“{construct}”。",
        en or f'"{construct}" is not supported.',
        construct=construct,
    )


def _unexpected(token: _Token) -> ConditionError:
    if token.kind == "other" and token.text in _ARITHMETIC:
        return _unsupported(
            token.text,
            f"不支持运算符“{token.text}”。",
            f'the operator "{token.text}" is not supported.',
        )
    if token.kind == "other" and token.text == ".":
        return _unsupported(
            ".", "不支持当前题引用“.”。", 'the current-question reference "." is not supported.'
        )
    if token.kind == "word" and token.text in ("div", "mod"):
        return _unsupported(
            token.text,
            f"不支持运算符“{token.text}”。",
            f'the operator "{token.text}" is not supported.',
        )
    return ConditionError(
        f"第 {token.at + 1} 个字符处的“{token.text}”不符合语法。",
        f'unexpected "{token.text}" at character {token.at + 1}.',
    )


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise ConditionError("条件不完整。", "the condition ends too early.")
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise ConditionError(
                f"第 {token.at + 1} 个字符处应为“{text}”，而不是“{token.text}”。",
                f'expected "{text}" at character {token.at + 1}, not "{token.text}".',
            )

    def at_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text == word

    def condition(self, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise ConditionError(
                f"条件嵌套超过 {MAX_DEPTH} 层。", f"the condition nests deeper than {MAX_DEPTH}."
            )
        items = [self.conjunction(depth)]
        while self.at_word("or"):
            self.take()
            items.append(self.conjunction(depth))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunction(self, depth: int) -> Expr:
        items = [self.unary(depth)]
        while self.at_word("and"):
            self.take()
            items.append(self.unary(depth))
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self, depth: int) -> Expr:
        token = self.peek()
        if token is None:
            raise ConditionError("条件不完整。", "the condition ends too early.")
        if token.kind == "punct" and token.text == "(":
            self.take()
            inner = self.condition(depth + 1)
            self.expect(")")
            return inner
        if token.kind == "word" and token.text in ("not", "selected"):
            self.take()
            self.expect("(")
            if token.text == "not":
                inner = self.condition(depth + 1)
                self.expect(")")
                return Not(inner)
            ref = self.operand()
            if not isinstance(ref, Ref):
                raise ConditionError(
                    "selected() 的第一个参数必须是 ${问题名}。",
                    "the first argument of selected() must be ${name}.",
                )
            self.expect(",")
            value = self.operand()
            if not isinstance(value, Str):
                raise ConditionError(
                    "selected() 的第二个参数必须是带引号的选项值。",
                    "the second argument of selected() must be a quoted choice value.",
                )
            self.expect(")")
            return Selected(ref, value.value)
        left = self.operand()
        op = self.peek()
        if op is None or op.kind != "op":
            if op is not None and _unexpected(op).construct is not None:
                raise _unexpected(op)  # arithmetic and the like, named
            if isinstance(left, Ref):
                raise _unsupported(
                    "${" + left.name + "}",
                    f"不支持单独的引用“${{{left.name}}}”：请写出比较，"
                    f"如 ${{{left.name}}} = 'yes'。",
                    f'a bare reference "${{{left.name}}}" is not supported: write a comparison '
                    f"such as ${{{left.name}}} = 'yes'.",
                )
            if op is None:
                raise ConditionError("条件不完整。", "the condition ends too early.")
            raise _unexpected(op)
        self.take()
        right = self.operand()
        if not isinstance(left, Ref) and not isinstance(right, Ref):
            raise ConditionError(
                "比较的两边不能都是常量。", "a comparison needs a ${name} on at least one side."
            )
        return Compare(op.text, left, right)

    def operand(self) -> Operand:
        token = self.take()
        if token.kind == "ref":
            name = token.text[2:-1]
            if not NAME.match(name):
                raise ConditionError(
                    f"“{token.text}”不是有效的问题引用。",
                    f'"{token.text}" is not a valid reference.',
                )
            return Ref(name)
        if token.kind == "string":
            return Str(token.text[1:-1])
        if token.kind == "number":
            return Num(token.text)
        if token.kind == "word":
            following = self.peek()
            if following is not None and following.text == "(":
                return_name = token.text + "()"
                raise _unsupported(
                    return_name,
                    f"不支持函数“{return_name}”。",
                    f'the function "{return_name}" is not supported.',
                )
            if token.text in ("true", "false"):
                raise _unsupported(token.text)
            raise _unsupported(
                token.text,
                f"不支持路径“{token.text}”：请用 ${{问题名}} 引用问题。",
                f'the path "{token.text}" is not supported: refer to questions as ${{name}}.',
            )
        if token.kind == "other" and token.text in ("'", '"'):
            raise ConditionError("字符串缺少结束引号。", "a string has no closing quote.")
        raise _unexpected(token)


# --- reading ------------------------------------------------------------------------


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node, depth first, in text order."""
    yield expr
    if isinstance(expr, Not):
        yield from walk(expr.inner)
    elif isinstance(expr, (And, Or)):
        for item in expr.items:
            yield from walk(item)


def references(expr: Expr) -> list[str]:
    """The question names the condition reads, in text order, each once."""
    names: list[str] = []
    for node in walk(expr):
        refs: list[Operand] = []
        if isinstance(node, Compare):
            refs = [node.left, node.right]
        elif isinstance(node, Selected):
            refs = [node.ref]
        for ref in refs:
            if isinstance(ref, Ref) and ref.name not in names:
                names.append(ref.name)
    return names


def to_text(expr: Expr) -> str:
    """The condition written back in the grammar (parse(to_text(e)) == e)."""
    if isinstance(expr, Compare):
        return f"{_operand_text(expr.left)} {expr.op} {_operand_text(expr.right)}"
    if isinstance(expr, Selected):
        return f"selected(${{{expr.ref.name}}}, {_quote(expr.value)})"
    if isinstance(expr, Not):
        return f"not({to_text(expr.inner)})"
    if isinstance(expr, And):
        return " and ".join(
            f"({to_text(i)})" if isinstance(i, Or | And) else to_text(i) for i in expr.items
        )
    return " or ".join(f"({to_text(i)})" if isinstance(i, Or) else to_text(i) for i in expr.items)


def _operand_text(operand: Operand) -> str:
    if isinstance(operand, Ref):
        return f"${{{operand.name}}}"
    if isinstance(operand, Str):
        return _quote(operand.value)
    return operand.text


def _quote(value: str) -> str:
    return f'"{value}"' if "'" in value else f"'{value}'"


# --- evaluating ---------------------------------------------------------------------


def evaluate(expr: Expr, values: Mapping[str, Any]) -> bool:
    """Whether the condition holds for these answers (absent or None = unanswered).

    >>> evaluate(parse("${a} = 'no' or selected(${m}, 'x')"), {"a": "yes", "m": ["x"]})
    True
    """
    if isinstance(expr, And):
        return all(evaluate(item, values) for item in expr.items)
    if isinstance(expr, Or):
        return any(evaluate(item, values) for item in expr.items)
    if isinstance(expr, Not):
        return not evaluate(expr.inner, values)
    if isinstance(expr, Selected):
        value = values.get(expr.ref.name)
        if isinstance(value, list):
            return expr.value in value
        return value == expr.value
    left = _value(expr.left, values)
    right = _value(expr.right, values)
    if left is None or right is None:
        return expr.op == "!="
    if _is_number(left) and _is_number(right):
        a, b = float(left), float(right)
        return {"=": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[
            expr.op
        ]
    if expr.op in ORDERING:
        return False
    equal = str(left) == str(right)
    return equal if expr.op == "=" else not equal


def _value(operand: Operand, values: Mapping[str, Any]) -> Any:
    if isinstance(operand, Ref):
        value = values.get(operand.name)
        return None if value == [] or value == "" else value
    return operand.value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
