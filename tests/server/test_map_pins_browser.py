"""Readable case pins on the office map (issue 14, item 4), in Chromium.

The demo district gets 200 more cases, 40 of them at one building with markup in their titles
(tests/server/map_pins_seed.py). The tests check that close pins are grouped with a count, that
a click on a group zooms in and that the pile at one building fans out at the last zoom; that
the legend names every state in Chinese with the right counts; that pins of different states
have different colours; that a mouse click leaves no focus box while the keyboard still shows
one; and that a case title with markup stays text in the popup and the pin's title.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.demo_server import REPO, demo_server
from tests.server.map_markup_seed import MARKUP
from tests.server.test_map_markup_browser import WATCH_MAPS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADDED, PILE = 200, 40
DRAWN = "#big-map[data-cases-drawn][data-cells-drawn]"
#: The state names the legend must show (zh), in the order a case goes through them.
STATE_NAMES = ["已上报", "已立案", "已派遣", "处置中", "已处置待核查", "已结案", "已评价", "已注销"]

#: The centre of the first element matching the selector that is on top there (not under a
#: control or another pin), or null.
ON_TOP = """(selector) => {
  for (const e of document.querySelectorAll(selector)) {
    const b = e.getBoundingClientRect(), x = b.left + b.width / 2, y = b.top + b.height / 2;
    if (b.width && e.contains(document.elementFromPoint(x, y))) return [x, y];
  }
  return null;
}"""
#: The centre of the group nearest the middle of the map (the pile, once the map is on it).
AT_CENTRE = """() => {
  const m = document.getElementById('big-map').getBoundingClientRect();
  const cx = m.left + m.width / 2, cy = m.top + m.height / 2;
  let best = null, dist = 20;
  for (const e of document.querySelectorAll('#big-map .case-cluster')) {
    const b = e.getBoundingClientRect(), x = b.left + b.width / 2, y = b.top + b.height / 2;
    if (Math.hypot(x - cx, y - cy) < dist) { best = [x, y]; dist = Math.hypot(x - cx, y - cy); }
  }
  return best;
}"""
#: What has focus, and the outline the browser draws round it.
FOCUS = """() => {
  const a = document.activeElement, style = getComputedStyle(a);
  return {tag: a.tagName.toLowerCase(), outline: style.outlineStyle,
          visible: a.matches(':focus-visible')};
}"""


#: Whether at least n pins stand apart inside the map (no two on the same pixel).
FANNED = """(n) => {
  const map = document.getElementById('big-map').getBoundingClientRect(), seen = new Set();
  for (const e of document.querySelectorAll('#big-map .case-pin')) {
    const b = e.getBoundingClientRect();
    if (b.left >= map.left && b.right <= map.right && b.top >= map.top && b.bottom <= map.bottom)
      seen.add(Math.round(b.left) + ',' + Math.round(b.top));
  }
  return seen.size >= n;
}"""
#: The clusterer's animation (a fan opening) is over: pins stand where they stay.
FAN_SETTLED = "() => !document.querySelector('#big-map .leaflet-cluster-anim')"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    """The demo with the extra cases, served by `flask run`; and where the pile is."""
    seeded: dict[str, Any] = {}

    def seed(env: dict[str, str]) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "tests.server.map_pins_seed", str(ADDED), str(PILE)],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        seeded.update(json.loads(done.stdout.strip().splitlines()[-1]))

    with demo_server(tmp_path_factory.mktemp("map-pins"), prepare=seed) as url:
        yield url, seeded


@pytest.fixture
def tab(server: tuple[str, dict[str, Any]], browser: Any) -> Iterator[Any]:
    """The office map, signed in as the dispatcher; any console or page error fails the test."""
    url, _ = server
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.set_default_timeout(20_000)
    page.add_init_script(WATCH_MAPS)
    page.goto(f"{url}/login")
    page.fill("#username", "zhao.min")
    page.fill("#password", "wangge-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/map/")
    page.wait_for_selector(DRAWN)
    page.locator("#big-map").scroll_into_view_if_needed()
    yield page
    context.close()
    assert problems == []


def _show_all_states(tab: Any) -> None:
    tab.select_option("#status", "all")
    tab.evaluate("() => { delete document.getElementById('big-map').dataset.casesDrawn; }")
    tab.click("#map-filters button[type=submit]")
    tab.wait_for_selector(DRAWN)


def _go_to_the_pile(tab: Any, seeded: dict[str, Any]) -> None:
    lon, lat = seeded["pile"]
    tab.evaluate(
        "([lat, lon]) => { const m = window.__maps[0]; m.setView([lat, lon], m.getMaxZoom(),"
        " {animate: false}); }",
        [lat, lon],
    )
    tab.wait_for_function(SETTLED)


#: Whether the clusterer has finished its zoom animation (it ignores a click until then).
SETTLED = """() => { const map = window.__maps[0];
  const group = Object.values(map._layers).find((l) => l instanceof L.MarkerClusterGroup);
  return group && !group._inZoomAnimation && !map._animatingZoom; }"""


def _groups(tab: Any) -> list[int]:
    return [int(t) for t in tab.locator(".case-cluster .case-cluster-count").all_inner_texts()]


def test_close_pins_are_grouped_with_a_count_and_a_click_zooms_in(tab: Any) -> None:
    drawn = int(tab.get_attribute("#big-map", "data-cases-drawn"))
    counts = _groups(tab)
    assert counts and all(n >= 2 for n in counts)
    single = tab.locator("#big-map .case-pin").count()
    assert sum(counts) + single == drawn  # every pin is in a group or on its own
    assert single < drawn / 4  # at the district's zoom most pins are grouped
    before = tab.evaluate("() => window.__maps[0].getZoom()")
    spot = tab.evaluate(ON_TOP, ".case-cluster")
    assert spot, "no group is on top anywhere on the map"
    tab.mouse.click(*spot)
    tab.wait_for_function("(z) => window.__maps[0].getZoom() > z", arg=before)


def test_the_pile_at_one_building_fans_out_on_a_click_at_the_last_zoom(
    server: tuple[str, dict[str, Any]], tab: Any
) -> None:
    _, seeded = server
    _show_all_states(tab)
    _go_to_the_pile(tab, seeded)
    tab.wait_for_function(
        "(n) => [...document.querySelectorAll('.case-cluster-count')]"
        ".some((e) => Number(e.textContent) === n)",
        arg=PILE,
    )
    pile = tab.locator(".case-cluster", has_text=str(PILE)).first
    pile.click()
    # fanned out: the pins move apart (an animation), each its own icon, with legs to the spot
    tab.wait_for_function(FANNED, arg=PILE)
    assert tab.locator("#big-map .leaflet-overlay-pane path").count() > PILE  # legs and cells
    # every state is in the pile: each has its own colour
    colours = tab.evaluate(
        "() => { const seen = {}; for (const e of document.querySelectorAll('#big-map .case-pin'))"
        " seen[e.dataset.state] = getComputedStyle(e).backgroundColor; return seen; }"
    )
    assert len(colours) == len(STATE_NAMES)
    assert len(set(colours.values())) == len(STATE_NAMES), colours


def test_the_legend_names_every_state_in_chinese_with_its_count(tab: Any) -> None:
    _show_all_states(tab)
    legend = tab.locator("#big-map .map-legend")
    assert legend.get_attribute("open") is not None  # open on a wide screen
    names = legend.locator(".map-legend-name").all_inner_texts()
    assert names == STATE_NAMES
    shown = dict(
        zip(
            legend.locator("li").evaluate_all("(items) => items.map((i) => i.dataset.state)"),
            [int(n) for n in legend.locator("li .map-legend-count").all_inner_texts()],
            strict=True,
        )
    )
    feed = tab.evaluate(
        "() => fetch('/map/cases.geojson?status=all').then((r) => r.json())"
        ".then((fc) => fc.features.map((f) => f.properties.status))"
    )
    assert shown == {state: feed.count(state) for state in shown}
    assert all(shown.values())  # the seed has cases in every state
    assert int(tab.get_attribute("#big-map", "data-cases-drawn")) == sum(shown.values())
    # the dots carry the same colours as the pins
    dot = legend.locator("li[data-state=handling] .map-legend-dot")
    assert dot.evaluate("(e) => getComputedStyle(e).backgroundColor") == "rgb(209, 36, 47)"


def test_a_click_leaves_no_focus_box_and_the_keyboard_still_shows_focus(
    server: tuple[str, dict[str, Any]], tab: Any
) -> None:
    spot = tab.evaluate(ON_TOP, "#big-map path.leaflet-interactive[stroke='#b3261e']")
    assert spot, "no cell outline is on top anywhere"
    tab.mouse.click(*spot)
    tab.wait_for_selector("#cell-card h2")
    assert tab.evaluate(FOCUS)["outline"] == "none"
    tab.evaluate("() => window.__maps[0].setZoom(window.__maps[0].getMaxZoom() - 1)")
    tab.wait_for_function("() => document.querySelectorAll('#big-map .case-pin').length > 0")
    spot = tab.evaluate(ON_TOP, "#big-map .case-pin")
    assert spot, "no pin is on top anywhere"
    tab.mouse.click(*spot)
    tab.wait_for_selector(".leaflet-popup")
    focus = tab.evaluate(FOCUS)
    assert focus["outline"] == "none", focus
    tab.keyboard.press("Tab")
    focus = tab.evaluate(FOCUS)
    assert focus["visible"] and focus["outline"] == "solid", focus


def test_a_title_with_markup_stays_text_in_the_popup_and_the_pin(
    server: tuple[str, dict[str, Any]], tab: Any
) -> None:
    _, seeded = server
    _go_to_the_pile(tab, seeded)
    tab.wait_for_function(f"() => ({AT_CENTRE})() !== null")
    tab.mouse.click(*tab.evaluate(AT_CENTRE))
    tab.wait_for_function(FANNED, arg=10)
    tab.wait_for_function(FAN_SETTLED)  # a click mid-animation lands where the pin no longer is
    piled = "#big-map .case-pin[title*=onerror]"  # the pile's titles carry the markup
    assert MARKUP in (tab.locator(piled).first.get_attribute("title") or "")
    spot = tab.evaluate(ON_TOP, piled)
    assert spot, "no piled pin is on top anywhere"
    tab.mouse.click(*spot)
    popup = tab.locator(".leaflet-popup-content")
    popup.wait_for()
    assert MARKUP in popup.inner_text()
    assert tab.locator("#big-map img[src=x], .leaflet-popup b").count() == 0
    assert tab.evaluate("typeof window.__pwned") == "undefined"


@pytest.mark.parametrize(("width", "height"), [(1366, 800), (360, 640)])
def test_screenshots_of_the_office_map_with_groups_the_legend_and_a_pile_fanned_out(
    server: tuple[str, dict[str, Any]], browser: Any, screenshot: Any, width: int, height: int
) -> None:
    url, seeded = server
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.add_init_script(WATCH_MAPS)
    page.goto(f"{url}/login")
    page.fill("#username", "zhao.min")
    page.fill("#password", "wangge-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/map/")
    page.wait_for_selector(DRAWN)
    _show_all_states(page)
    legend = page.locator("#big-map .map-legend")
    if width < 480:  # folded on a phone; a tap opens it
        assert legend.get_attribute("open") is None
        legend.locator("summary").click()
        assert legend.get_attribute("open") is not None
    page.locator("#big-map").scroll_into_view_if_needed()
    page.wait_for_function(SETTLED)
    screenshot(page, f"map-pins-office-{width}", full_page=False)
    _go_to_the_pile(page, seeded)
    page.wait_for_function(f"() => ({AT_CENTRE})() !== null")
    page.mouse.click(*page.evaluate(AT_CENTRE))
    page.wait_for_function(FANNED, arg=PILE if width > 480 else 10)
    legend.locator("summary").click()  # fold it: the fan is the point here
    page.wait_for_function(SETTLED)
    page.wait_for_function(FAN_SETTLED)
    screenshot(page, f"map-pins-fanned-{width}", full_page=False)
    context.close()
