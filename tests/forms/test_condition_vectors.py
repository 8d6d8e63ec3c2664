"""The condition language has two implementations, server/forms/conditions.py and the browsers'
pwa/js/forms/conditions.js; both must give the answers stored in condition_vectors.json
(evaluation, refusals with the construct and reason named, relevance in form order)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.forms import conditions as cond
from server.forms.answers import relevant_questions
from server.forms.definition import parse_definition
from tests.forms.module_page import open_module_page

VECTORS = json.loads((Path(__file__).parent / "condition_vectors.json").read_text("utf-8"))


@pytest.mark.parametrize("case", VECTORS["evaluate"], ids=lambda c: c["condition"][:40])
def test_python_evaluates_each_vector_as_stored(case: dict[str, Any]) -> None:
    expr = cond.parse(case["condition"])
    assert cond.evaluate(expr, case["values"]) is case["expected"]
    assert cond.references(expr) == case["references"]


@pytest.mark.parametrize("case", VECTORS["refused"], ids=lambda c: c["condition"][:40])
def test_python_refuses_each_vector_with_the_stored_reason(case: dict[str, Any]) -> None:
    with pytest.raises(cond.ConditionError) as caught:
        cond.parse(case["condition"])
    assert caught.value.construct == case["construct"]
    assert (caught.value.detail_zh, caught.value.detail_en) == (
        case["detail_zh"],
        case["detail_en"],
    )


def test_python_relevance_follows_the_vectors() -> None:
    for case in VECTORS["relevance"]:
        form = parse_definition(VECTORS["forms"][case["form"]])
        assert relevant_questions(form, case["values"]) == case["relevant"], case


RUN_IN_BROWSER = """async (vectors) => {
  const c = await import('/js/forms/conditions.js');
  const wrong = [];
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  for (const v of vectors.evaluate) {
    const expr = c.parse(v.condition);
    const got = c.evaluate(expr, v.values);
    if (got !== v.expected) wrong.push(['evaluate', v.condition, v.values, got]);
    const refs = JSON.stringify(c.references(expr));
    if (refs !== JSON.stringify(v.references)) wrong.push(['references', v.condition, refs]);
  }
  for (const v of vectors.refused) {
    try {
      c.parse(v.condition);
      wrong.push(['parsed', v.condition]);
    } catch (error) {
      if (!(error instanceof c.ConditionError)) {
        wrong.push(['threw', v.condition, String(error)]);
        continue;
      }
      const got = [error.construct, error.detailZh, error.detailEn];
      const want = [v.construct, v.detail_zh, v.detail_en];
      if (!same(got, want)) wrong.push(['refused', v.condition, got, want]);
    }
  }
  for (const v of vectors.relevance) {
    const got = c.relevantQuestions(vectors.forms[v.form].questions, v.values);
    if (!same(got, v.relevant)) wrong.push(['relevance', v.values, got]);
  }
  const count = vectors.evaluate.length + vectors.refused.length + vectors.relevance.length;
  return {wrong, count};
}"""


def test_chromium_agrees_with_every_vector(browser: Any) -> None:
    with open_module_page(browser) as page:
        result = page.evaluate(RUN_IN_BROWSER, VECTORS)
    assert result["wrong"] == []
    assert result["count"] == len(VECTORS["evaluate"]) + len(VECTORS["refused"]) + 9
