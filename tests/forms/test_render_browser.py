"""The browsers' form renderer (pwa/js/forms/render.js) at phone size: every question type,
relevance evaluated live (a hidden question's answer is cleared, as the server drops it), the
server's problem codes with Chinese messages, and answers the server accepts."""

from __future__ import annotations

from typing import Any

from server.forms.answers import validate_answers
from server.forms.definition import parse_definition
from tests.forms.module_page import open_module_page
from tests.forms.test_definition import fire_form

EVERY_TYPE = {
    "format": 1,
    "title": {"zh": "每种题型", "en": "Every type"},
    "questions": [
        *fire_form()["questions"],
        {"name": "kind", "type": "select_one", "label": {"zh": "建筑类型", "en": "Building"},
         "choices": [{"value": "house", "label": {"zh": "住宅"}},
                     {"value": "shop", "label": {"zh": "商铺"}}]},
        {"name": "drill", "type": "date", "label": {"zh": "最近一次演练"}},
        {"name": "remarks", "type": "text", "label": {"zh": "其他情况"}, "hint": {"zh": "可不填"}},
        {"name": "where", "type": "location", "label": {"zh": "位置"}},
        {"name": "sign", "type": "signature", "label": {"zh": "楼长签名"}},
    ],
}  # fmt: skip

MOUNT = """async ({definition, locale}) => {
  const { renderForm } = await import('/js/forms/render.js');
  window.changes = 0;
  window.form = renderForm(document.getElementById('root'), definition, {
    locale, onChange: () => { window.changes += 1; },
    locate: async () => ({ lat: 31.2304, lon: 121.4737, accuracy_m: 8 }),
  });
}"""


def mount(page: Any, definition: dict[str, Any], locale: str = "zh") -> None:
    page.evaluate(MOUNT, {"definition": definition, "locale": locale})
    page.wait_for_function("document.querySelector('.wf-form') !== null")
    # sizes are asserted below: wait for forms.css, which render.js links in
    page.wait_for_function(
        "[...document.styleSheets].some((s) => (s.href || '').endsWith('/forms.css'))"
    )


def values(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("window.form.values()"))


def problems(page: Any) -> list[dict[str, str]]:
    return list(page.evaluate("window.form.problems()"))


def question(page: Any, name: str) -> Any:
    return page.locator(f".wf-q[data-name='{name}']")


def test_a_yes_shows_the_follow_up_questions_and_a_no_hides_and_clears_them(
    browser: Any, screenshot: Any
) -> None:
    with open_module_page(browser) as page:
        mount(page, EVERY_TYPE)
        assert question(page, "has_ext").is_visible()
        for name in ("ext_photo", "ext_valid", "count", "width"):
            assert question(page, name).is_hidden()
        assert problems(page) == [{"name": "has_ext", "code": "required", "message": "此题必答。"}]

        question(page, "has_ext").get_by_role("button", name="是").click()
        for name in ("ext_photo", "ext_valid", "count"):
            assert question(page, name).is_visible()
        assert question(page, "width").is_hidden()  # needs storage and a count ≥ 1
        question(page, "ext_valid").get_by_role("button", name="否").click()
        question(page, "count").locator("input").fill("3")
        question(page, "hazards").get_by_text("楼道堆物").click()
        assert question(page, "width").is_visible()
        question(page, "width").locator("input").fill("0.8")
        assert values(page) == {
            "has_ext": "yes", "ext_valid": "no", "count": 3, "hazards": ["storage"], "width": 0.8,
        }  # fmt: skip
        screenshot(page, "forms-render-360x640", full_page=False)

        question(page, "has_ext").get_by_role("button", name="否").click()
        assert values(page) == {"has_ext": "no", "hazards": ["storage"]}
        for name in ("ext_photo", "ext_valid", "count", "width"):
            assert question(page, name).is_hidden()
        question(page, "has_ext").get_by_role("button", name="是").click()
        assert question(page, "count").locator("input").input_value() == ""  # cleared
        assert question(page, "ext_valid").locator("[aria-pressed=true]").count() == 0


def test_problems_carry_the_servers_codes_with_chinese_messages(browser: Any) -> None:
    with open_module_page(browser) as page:
        mount(page, EVERY_TYPE)
        question(page, "has_ext").get_by_role("button", name="是").click()
        count = question(page, "count").locator("input")
        count.fill("2.5")
        assert {"name": "count", "code": "wrong_type", "message": "请填写整数。"} in problems(page)
        assert question(page, "count").locator(".wf-problem").inner_text() == "请填写整数。"
        count.fill("51")
        assert {"name": "count", "code": "above_max", "message": "51 大于最大值 50。"} in problems(
            page
        )
        count.fill("-1")
        assert {"name": "count", "code": "below_min", "message": "-1 小于最小值 0。"} in problems(
            page
        )
        count.fill("")
        # required problems show only after showProblems() (a fresh form is not all red)
        assert question(page, "ext_valid").locator(".wf-problem").is_hidden()
        page.evaluate("window.form.showProblems()")
        assert question(page, "ext_valid").locator(".wf-problem").inner_text() == "此题必答。"
        assert question(page, "count").locator(".wf-range").inner_text() == "范围 0–50 个"


def test_every_type_answers_what_the_server_accepts(browser: Any) -> None:
    with open_module_page(browser) as page:
        mount(page, EVERY_TYPE)
        question(page, "has_ext").get_by_role("button", name="是").click()
        question(page, "ext_photo").locator("input[type=file]").set_input_files(
            {"name": "gauge.png", "mimeType": "image/png", "buffer": PNG}
        )
        page.wait_for_function("'ext_photo' in window.form.values()")
        assert question(page, "ext_photo").locator("img.wf-preview").is_visible()
        question(page, "ext_valid").get_by_role("button", name="是").click()
        question(page, "kind").get_by_text("商铺").click()
        question(page, "drill").locator("input").fill("2026-11-05")
        question(page, "remarks").locator("textarea").fill("楼道通畅")
        question(page, "where").get_by_role("button", name="获取当前位置").click()
        page.wait_for_function("'where' in window.form.values()")
        assert "纬度 31.230400" in question(page, "where").inner_text()
        box = question(page, "sign").locator("canvas").bounding_box()
        page.mouse.move(box["x"] + 20, box["y"] + 20)
        page.mouse.down()
        page.mouse.move(box["x"] + 120, box["y"] + 60, steps=5)
        page.mouse.up()
        page.wait_for_function("'sign' in window.form.values()")
        answered = values(page)
        assert problems(page) == []
        # no horizontal scrolling at 360 px, and the yes/no buttons are big touch targets
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        yes = question(page, "has_ext").get_by_role("button", name="是").bounding_box()
        assert yes["height"] >= 48 and yes["width"] >= 120
    clean = validate_answers(parse_definition(EVERY_TYPE), answered)
    assert clean.dropped == () and set(clean.values) == set(answered)
    assert answered["where"] == {"lat": 31.2304, "lon": 121.4737, "accuracy_m": 8}


def test_english_labels_with_chinese_fallback(browser: Any) -> None:
    with open_module_page(browser, locale="en-GB") as page:
        mount(page, EVERY_TYPE, locale="en")
        assert page.locator(".wf-title").inner_text() == "Every type"
        assert question(page, "kind").locator("legend").inner_text().startswith("Building")
        assert question(page, "has_ext").get_by_role("button", name="Yes").is_visible()
        # no English label: the Chinese one
        assert question(page, "has_ext").locator("legend").inner_text().startswith("楼内配有")


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)
