"""Every map shows names as text and draws on past a bad feature (issue 12, item 5), in Chromium.

The demo district is loaded, then every name a map shows gets markup
(tests/server/map_markup_seed.py). Each map page is opened with bad features put first into
every GeoJSON it fetches (no geometry, a null coordinate beside a number, a polygon with a
null corner); every tooltip and popup is opened, and the test asserts that the markup shows as
literal text, that no element was injected, that window.__pwned stays undefined, that no
console error is logged, and that the good features are drawn with the bad ones counted.
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

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Put first into every FeatureCollection a map fetches: each must be skipped, not fatal.
BAD_FEATURES = [
    {"type": "Feature", "id": "bad-none", "geometry": None, "properties": {"name": MARKUP}},
    {
        "type": "Feature",
        "id": "bad-half",
        "geometry": {"type": "Point", "coordinates": [121.42, None]},
        "properties": {"name": MARKUP, "code": "BAD", "status": "opened"},
    },
    {
        "type": "Feature",
        "id": "bad-corner",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[121.42, 31.2], [None, 31.21], [121.43, 31.2], [121.42, 31.2]]],
        },
        "properties": {"name": MARKUP, "code": "BAD", "level": "building_group"},
    },
]

#: Record every Leaflet map a page makes (Leaflet's own init hook, set as leaflet.js loads).
WATCH_MAPS = """
(() => {
  let real;
  window.__maps = [];
  Object.defineProperty(window, 'L', {
    configurable: true,
    get() { return real; },
    set(value) {
      real = value;
      if (value && value.Map) value.Map.addInitHook(function () { window.__maps.push(this); });
    },
  });
})();
"""

#: Open every tooltip and popup of every map; what each showed, and any element inside it.
OPEN_ALL = """
() => {
  const shown = [], injected = [];
  let drawn = 0, skipped = 0;
  for (const map of window.__maps) {
    skipped += parseInt(map.getContainer().dataset.skipped || '0', 10);
    map.eachLayer((layer) => {
      if (layer.getLatLng || layer.getLatLngs) drawn += 1;
      for (const [get, open] of [['getTooltip', 'openTooltip'], ['getPopup', 'openPopup']]) {
        if (!layer[get] || !layer[get]()) continue;
        layer[open]();
        const box = layer[get]().getElement();
        if (!box) continue;
        shown.push(box.textContent);
        box.querySelectorAll('img, b, script').forEach((e) => injected.push(e.outerHTML));
      }
    });
  }
  return {shown, injected, drawn, skipped, pwned: typeof window.__pwned};
}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo on a fresh SQLite file, its names turned into markup, served by `flask run`."""
    seeded: dict[str, Any] = {}

    def seed(env: dict[str, str]) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "tests.server.map_markup_seed"],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        seeded.update(json.loads(done.stdout.strip().splitlines()[-1]))

    with demo_server(tmp_path_factory.mktemp("map-markup"), prepare=seed) as url:
        SEEDED[url] = seeded
        yield url


SEEDED: dict[str, dict[str, Any]] = {}


@pytest.fixture
def tab(server: str, browser: Any) -> Iterator[Any]:
    """A fresh browser tab; any console error, page error or HTTP error fails the test."""
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    page.set_default_timeout(20_000)
    yield page
    # A map may still be fetching features when the test ends: let a running route handler
    # finish before the context goes (closing under it disposes its response mid-read).
    page.unroute_all(behavior="wait")
    context.close()
    assert problems == []


def _with_bad_features(route: Any) -> None:
    """Serve the real answer, with BAD_FEATURES first when it is a FeatureCollection."""
    request = route.request
    if request.resource_type not in ("fetch", "xhr"):
        route.continue_()
        return
    response = route.fetch()
    try:
        body = response.json()
    except ValueError:
        route.fulfill(response=response)
        return
    if isinstance(body, dict) and body.get("type") == "FeatureCollection":
        body["features"] = [*BAD_FEATURES, *body["features"]]
        route.fulfill(response=response, json=body)
    else:
        route.fulfill(response=response)


def _sign_in(tab: Any, server: str, username: str = "zhao.min") -> None:
    tab.goto(f"{server}/login")
    tab.fill("#username", username)
    tab.fill("#password", "wangge-demo")
    tab.click("main button[type=submit]")
    tab.wait_for_url(f"{server}/")


def _open_everything(tab: Any, ready: str) -> dict[str, Any]:
    tab.wait_for_selector(ready)
    tab.wait_for_function("() => window.__maps && window.__maps.length > 0")
    result: dict[str, Any] = tab.evaluate(OPEN_ALL)
    assert result["injected"] == []
    assert result["pwned"] == "undefined"
    return result


#: (path, who opens it, a selector there once the map has drawn, whether names show on it)
MAP_PAGES = [
    pytest.param(
        "/map/", "zhao.min", "#big-map[data-cases-drawn][data-cells-drawn]", True, id="office-map"
    ),
    pytest.param("/cases/new", "zhao.min", "#intake-map[data-cells-drawn]", True, id="intake"),
    pytest.param("/cases/{case}", "zhao.min", "#case-map[data-cells-drawn]", True, id="case"),
    pytest.param("/grids/{grid}", "sun.li", "#map[data-drawn]", True, id="grid-preview"),
    pytest.param("/addresses/check", "li.qiang", "#map[data-ready]", True, id="address-check"),
    pytest.param("/services/", "zhao.min", "#points-map[data-points-drawn]", True, id="directory"),
    pytest.param(
        "/report/", "zhao.min", "#report-map[data-cells-drawn]", False, id="residents-report"
    ),
]


@pytest.mark.parametrize(("path", "username", "ready", "names"), MAP_PAGES)
def test_every_map_shows_markup_as_text_and_draws_past_bad_features(
    server: str, tab: Any, path: str, username: str, ready: str, names: bool
) -> None:
    tab.add_init_script(WATCH_MAPS)
    tab.route("**/*", _with_bad_features)
    _sign_in(tab, server, username)
    tab.goto(server + path.format(**SEEDED[server]))
    result = _open_everything(tab, ready)
    assert result["drawn"] > 0  # the good features drew although the bad came first
    assert result["skipped"] >= len(BAD_FEATURES)
    if names:
        assert any(MARKUP in text for text in result["shown"]), result["shown"][:5]
    assert tab.locator("img[src=x]").count() == 0
    assert tab.evaluate("typeof window.__pwned") == "undefined"


CELL_SPOT = """() => {
  for (const path of document.querySelectorAll('#big-map path.leaflet-interactive')) {
    if (path.getAttribute('stroke') !== '#b3261e') continue;
    const box = path.getBoundingClientRect();
    for (const [fx, fy] of [[0.5, 0.5], [0.3, 0.3], [0.7, 0.7], [0.3, 0.7], [0.7, 0.3]]) {
      const x = box.left + box.width * fx, y = box.top + box.height * fy;
      if (box.width > 4 && document.elementFromPoint(x, y) === path) return [x, y];
    }
  }
  return null;
}"""


def test_the_office_map_shows_a_hovered_cell_and_a_clicked_case_as_text(
    server: str, tab: Any
) -> None:
    tab.add_init_script(WATCH_MAPS)
    tab.route("**/*", _with_bad_features)
    _sign_in(tab, server)
    tab.goto(f"{server}/map/")
    tab.wait_for_selector("#big-map[data-cases-drawn][data-cells-drawn]")
    # A spot where a cell outline (red stroke) is the topmost element: the first path's
    # centre may lie under a case marker or another cell, which made a forced hover flaky.
    spot = tab.evaluate(CELL_SPOT)
    assert spot, "no cell outline is on top anywhere on the map"
    tab.mouse.move(*spot)
    tooltip = tab.locator(".leaflet-tooltip").first
    tooltip.wait_for()
    assert MARKUP in tooltip.inner_text()
    tab.mouse.click(*spot)
    tab.wait_for_selector("#cell-card h2")
    assert MARKUP in tab.locator("#cell-card").inner_text()
    assert tab.locator("#cell-card img, #cell-card b").count() == 0
    assert tab.evaluate("typeof window.__pwned") == "undefined"


def test_the_workers_map_draws_names_as_text_and_skips_broken_cells(server: str, tab: Any) -> None:
    """The phone's canvas map: a cell with a broken outline is skipped, never the map; half a
    fix is not drawn; names with markup are only ever text (nothing injected around it)."""
    tab.goto(f"{server}/report/")
    result = tab.evaluate(
        """async ([markup]) => {
          const { createMap } = await import('/app/js/map.js');
          const warnings = [];
          const warn = console.warn;
          console.warn = (...args) => { warnings.push(args.join(' ')); warn(...args); };
          const d = 0.001;
          const square = (x, y) => ({ type: 'Polygon',
            coordinates: [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]] });
          const cells = [
            { code: 'BAD1', name: markup, level: 'building_group', geometry: null },
            { code: 'BAD2', name: markup, level: 'building_group', geometry: { type: 'Polygon',
              coordinates: [[[121.42, null], [121.43, 31.2], [121.42, 31.2]]] } },
            { code: 'G1', name: markup, level: 'building_group', geometry: square(121.42, 31.2) },
            { code: 'G2', name: markup, level: 'building_group', geometry: square(121.421, 31.2) },
          ];
          const box = document.createElement('div');
          box.style.width = '360px';
          document.body.append(box);
          const map = await createMap(box, { cells, households: [], cases: [], label: markup });
          map.setFix({ lon: 121.4205, lat: null, accuracy_m: 5 }, 'G1');  // half a fix
          map.redraw();
          console.warn = warn;
          return { canvases: box.querySelectorAll('canvas').length,
                   skipped: map.canvas.dataset.skipped,
                   label: map.canvas.getAttribute('aria-label'),
                   injected: box.querySelectorAll('img, b').length,
                   halfFix: warnings.some((w) => w.includes('no whole point')) };
        }""",
        [MARKUP],
    )
    assert result == {
        "canvases": 1,
        "skipped": "2",
        "label": MARKUP,
        "injected": 0,
        "halfFix": True,
    }
    assert tab.evaluate("typeof window.__pwned") == "undefined"
