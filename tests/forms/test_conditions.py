"""The condition language: what it accepts, what it refuses (named), how it evaluates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.forms import conditions as cond


@pytest.mark.parametrize(
    ("text", "answers", "expected"),
    [
        ("${a} = 'yes'", {"a": "yes"}, True),
        ("${a} = 'yes'", {"a": "no"}, False),
        ("${a} = 'yes'", {}, False),
        ("${a} != 'yes'", {}, True),  # unanswered is not 'yes'
        ('${a} != "yes"', {"a": "no"}, True),
        ("${n} > 3", {"n": 4}, True),
        ("${n} > 3", {"n": 3}, False),
        ("${n} >= 3", {"n": 3}, True),
        ("${n} < -2.5", {"n": -3}, True),
        ("${n} <= 0", {}, False),  # unanswered: ordering is false
        ("3 < ${n}", {"n": 4}, True),
        ("${n} = 2", {"n": 2.0}, True),
        ("${n} = ${m}", {"n": 2, "m": 2}, True),
        ("${n} != ${m}", {"n": 2}, True),
        ("selected(${m}, 'x')", {"m": ["y", "x"]}, True),
        ("selected(${m}, 'x')", {"m": []}, False),
        ("selected(${s}, 'x')", {"s": "x"}, True),
        ("not(${a} = 'yes')", {"a": "yes"}, False),
        ("${a} = 'yes' and ${n} > 1 or ${b} = 'no'", {"a": "no", "b": "no"}, True),
        ("${a} = 'yes' and (${n} > 1 or ${b} = 'no')", {"a": "no", "b": "no"}, False),
        ("(${a}='yes')and(${b}='yes')", {"a": "yes", "b": "yes"}, True),
    ],
)
def test_evaluates(text: str, answers: dict, expected: bool) -> None:
    assert cond.evaluate(cond.parse(text), answers) is expected


@pytest.mark.parametrize(
    ("text", "construct"),
    [
        ("count-selected(${m}) > 1", "count-selected()"),
        ("string-length(${t}) > 0", "string-length()"),
        (". > 3", "."),
        ("${a} + 1 > 3", "+"),
        ("${a} * 2 > 3", "*"),
        ("${a} div 2 > 3", "div"),
        ("${a} = 'yes' | ${b} = 'x'", "|"),
        ("${a}", "${a}"),
        ("${a} = true()", "true()"),
        ("${a} = true", "true"),
        ("/data/a = 'yes'", "/"),
        ("a = 'yes'", "a"),
        ("if(${a} = 'yes', 1, 0) = 1", "if()"),
    ],
)
def test_refuses_constructs_outside_the_subset_by_name(text: str, construct: str) -> None:
    with pytest.raises(cond.ConditionError) as caught:
        cond.parse(text)
    assert caught.value.construct == construct
    assert construct in caught.value.detail_en and construct in caught.value.detail_zh


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "${a} =",
        "${a} = 'yes' and",
        "(${a} = 'yes'",
        "${a} = 'yes')",
        "${a} = 'yes",
        "'x' = 'y'",
        "selected('x', 'y')",
        "selected(${m}, 3)",
        "selected(${m} 'x')",
        "${a b} = 'x'",
        "${a} = = 'x'",
        "not ${a} = 'x'",
        "${a} = 'x' " + "x" * cond.MAX_LENGTH,
        "(" * 40 + "${a} = 'x'" + ")" * 40,
    ],
)
def test_syntax_errors_are_condition_errors_in_both_languages(text: str) -> None:
    with pytest.raises(cond.ConditionError) as caught:
        cond.parse(text)
    assert caught.value.detail_zh and caught.value.detail_en


def test_references_in_text_order_each_once() -> None:
    expr = cond.parse("${b} = 'x' or selected(${a}, 'y') and ${b} != ${c}")
    assert cond.references(expr) == ["b", "a", "c"]


# --- properties -------------------------------------------------------------------------

refs = st.sampled_from(["a", "b", "c_1", "x.y", "d-2"]).map(cond.Ref)
literals = st.one_of(
    st.text(alphabet="abc 是否'", max_size=5)
    .filter(lambda s: "'" not in s or '"' not in s)
    .map(cond.Str),
    st.integers(-1000, 1000).map(lambda n: cond.Num(str(n))),
    st.decimals(-100, 100, places=2, allow_nan=False).map(lambda d: cond.Num(str(d))),
)
atoms = st.one_of(
    st.builds(cond.Compare, st.sampled_from(cond.OPERATORS), refs, st.one_of(refs, literals)),
    st.builds(cond.Compare, st.sampled_from(cond.OPERATORS), literals, refs),
    st.builds(cond.Selected, refs, st.text(alphabet="xyz_1", min_size=1, max_size=4)),
)


def _flat(kind: type, items: list[cond.Expr]) -> cond.Expr:
    # the parser flattens "a and b and c"; build the same shape
    spread: list[cond.Expr] = []
    for item in items:
        spread.extend(item.items if isinstance(item, kind) else [item])  # type: ignore[attr-defined]
    return kind(tuple(spread))


exprs = st.recursive(
    atoms,
    lambda inner: st.one_of(
        inner.map(cond.Not),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: _flat(cond.And, xs)),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: _flat(cond.Or, xs)),
    ),
    max_leaves=8,
)


@given(exprs)
def test_printing_then_parsing_gives_the_same_condition(expr: cond.Expr) -> None:
    assert cond.parse(cond.to_text(expr)) == expr


answer_values = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.sampled_from(["yes", "no", "x", "y"]),
    st.lists(st.sampled_from(["x", "y", "z"]), unique=True, max_size=3),
)


@given(exprs, st.dictionaries(st.sampled_from(["a", "b", "c_1", "x.y", "d-2"]), answer_values))
def test_not_and_or_follow_boolean_logic(expr: cond.Expr, answers: dict) -> None:
    value = cond.evaluate(expr, answers)
    assert cond.evaluate(cond.Not(expr), answers) is (not value)
    assert cond.evaluate(cond.parse(cond.to_text(expr)), answers) is value
