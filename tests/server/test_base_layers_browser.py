"""Base layers in a real browser: the office map draws the demo's OSM roads, footprints and
landmarks under the cells, labels by zoom, credits OpenStreetMap; a name is text, not markup.

Screenshots (base-layers-*.png, 1366×800) go to a temporary folder, or to docs/screenshots/
with `--update-screenshots` (tests/browser.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.test_back_office_browser import server  # noqa: F401  (the demo, served)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(server: str, browser: Any) -> Iterator[Any]:  # noqa: F811
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    tab = context.new_page()
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
    tab.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
    assert problems == []


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "wangge-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def labels(page: Any, kind: str) -> list[str]:
    return page.eval_on_selector_all(
        f".wangge-base-label-{kind}", "els => els.map(e => e.textContent)"
    )


def zoom_to(page: Any, selector: str, zoom: int) -> None:
    """Click the zoom control until the base layers are relabelled at ``zoom`` or more."""
    for _ in range(8):
        current = float(page.get_attribute(selector, "data-base-zoom") or 0)
        if current >= zoom:
            return
        page.click(f"{selector} .leaflet-control-zoom-in")
        page.wait_for_function(
            "([s, z]) => Number(document.querySelector(s).dataset.baseZoom) > z",
            arg=[selector, current],
        )


def test_the_office_map_draws_roads_footprints_and_labels_under_the_cells(server, page, screenshot):  # noqa: F811
    login(page, server, "zhao.min")
    page.goto(f"{server}/map/")
    page.wait_for_function(
        "() => Number(document.getElementById('big-map').dataset.baseLayers) > 100"
    )
    page.wait_for_selector("#big-map .leaflet-overlay-pane path.leaflet-interactive")
    # the base layers are in their own pane, under the cells' overlay pane
    z = page.evaluate(
        "() => [getComputedStyle(document.querySelector('.leaflet-wanggeBase-pane')).zIndex,"
        " getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex]"
    )
    assert int(z[0]) < int(z[1])
    assert page.locator("#big-map .leaflet-wanggeBase-pane path").count() > 100
    assert "OpenStreetMap contributors, ODbL" in page.inner_text(
        "#big-map .leaflet-control-attribution"
    )
    page.wait_for_function("() => document.querySelectorAll('.wangge-base-label-road').length > 3")
    assert {"新华路", "番禺路"} & set(labels(page, "road"))
    assert labels(page, "number") == []  # house numbers only when zoomed in
    screenshot(page, "base-layers-office-map", full_page=False)

    page.locator("#big-map").scroll_into_view_if_needed()
    zoom_to(page, "#big-map", 18)
    page.wait_for_function(
        "() => document.querySelectorAll('.wangge-base-label-number').length > 0"
    )
    assert all(t.endswith("号") for t in labels(page, "number"))
    screenshot(page, "base-layers-office-map-zoomed", full_page=False)


def test_the_residents_map_and_the_intake_map_draw_the_base_layers_too(server, page, screenshot):  # noqa: F811
    page.goto(f"{server}/report/")
    page.wait_for_function(
        "() => Number(document.getElementById('report-map').dataset.baseLayers) > 100"
    )
    assert "OpenStreetMap" in page.inner_text("#report-map .leaflet-control-attribution")
    page.locator("#report-map").scroll_into_view_if_needed()
    screenshot(page, "base-layers-residents-map", full_page=False)
    login(page, server, "zhao.min")
    page.goto(f"{server}/cases/new")
    page.wait_for_function(
        "() => Number(document.getElementById('intake-map').dataset.baseLayers) > 100"
    )


def test_a_name_in_an_uploaded_layer_is_drawn_as_text_never_as_markup(server, page, tmp_path):  # noqa: F811
    login(page, server, "sun.li")
    evil = '<img src=x onerror="alert(1)">'
    poi = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": evil},
                "geometry": {"type": "Point", "coordinates": [121.4245, 31.2060]},
            }
        ],
    }
    path = tmp_path / "poi.geojson"
    path.write_text(json.dumps(poi), encoding="utf-8")
    page.goto(f"{server}/layers/")
    page.select_option("#kind", "poi")
    page.set_input_files("#file", str(path))
    page.fill("#attribution", "<b>bold</b> credit")
    page.click("main form button.primary")
    page.wait_for_selector("form[action$='/publish'] button")
    page.click("form[action$='/publish'] button")
    page.wait_for_selector(".flash")
    page.goto(f"{server}/map/")
    page.wait_for_function(
        "() => Number(document.getElementById('big-map').dataset.baseLayers) > 100"
    )
    zoom_to(page, "#big-map", 16)
    page.wait_for_function("() => document.querySelectorAll('.wangge-base-label-poi').length > 0")
    assert evil in labels(page, "poi")
    assert page.locator("#big-map img[src=x]").count() == 0
    assert "<b>bold</b> credit" in page.inner_text("#big-map .leaflet-control-attribution")
