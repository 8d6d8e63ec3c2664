"""The worker app finds a catalogue item by pinyin initials anywhere in its name or a keyword
(the rule of server/catalogue/search.py), and Enter picks the first match (issue 15, item 7)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser]


def test_the_placeholders_own_example_finds_an_item_and_enter_picks_it(phone: Any) -> None:
    page = phone.login("zhou.jie")
    phone.sync()
    assert phone.idb("catalogue_items")  # the catalogue came with the first pull
    page.evaluate("location.hash = '#/report'")
    page.wait_for_selector("#report-form")
    assert "ljdf" in (page.get_attribute("#cat-search", "placeholder") or "")
    page.fill("#cat-search", "ljdf")  # 垃圾堆放: a keyword of 生活垃圾堆积、清运不及时
    page.wait_for_selector("#cat-results input[type=radio]")
    names = page.eval_on_selector_all("#cat-results label", "ls => ls.map(l => l.textContent)")
    assert any("生活垃圾堆积" in n for n in names), names
    page.fill("#cat-search", "ljdj")  # inside the name, not at its start
    page.wait_for_function(
        "() => [...document.querySelectorAll('#cat-results label')]"
        ".some(l => l.textContent.includes('生活垃圾堆积'))"
    )
    page.focus("#cat-search")
    page.keyboard.press("Enter")
    first = page.eval_on_selector("#cat-results input[type=radio]", "i => i.value")
    assert page.eval_on_selector("#cat-results input[type=radio]", "i => i.checked")
    assert page.input_value("input[name=catalogue_code]") == first
    assert page.get_attribute("body", "data-screen") == "report"  # Enter did not submit
