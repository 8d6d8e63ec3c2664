"""Issue 14: the phone draws streets, footprints and names under its cells with no signal,
due households and open cases as markers; a tap on a footprint lists its households."""

from __future__ import annotations

from typing import Any

import pytest

from tests.pwa.conftest import LiveServer

pytestmark = pytest.mark.browser

WORKER = "zhou.jie"

# A footprint that holds at least one household of the worker, in screen pixels after the
# map is zoomed onto it (the test handle `window.wangge.map`, the bench uses it too).
AIM = """async () => {
  const map = window.wangge.map;
  const { pick } = await import('/app/js/map-pick.js');
  const b = [...map.link.held.keys()].find((x) => map.link.held.get(x).length);
  map.view.fit([b.bbox[0] - 60, b.bbox[1] - 60, b.bbox[2] + 60, b.bbox[3] + 60], 0);
  map.redraw();
  // a point of the footprint that no marker covers: what a worker's finger would choose
  const r = map.canvas.getBoundingClientRect();
  for (const fy of [0.5, 0.3, 0.7, 0.15, 0.85]) for (const fx of [0.5, 0.3, 0.7, 0.15, 0.85]) {
    const [x, y] = map.view.toScreen(b.bbox[0] + fx * (b.bbox[2] - b.bbox[0]),
                                     b.bbox[1] + fy * (b.bbox[3] - b.bbox[1]));
    const hit = pick(map.picture(), map.marks(), map.layers.buildings, ...map.inPicture(x, y));
    if (hit && hit.building === b) {
      const [cx, cy] = map.view.toScreen(b.cx, b.cy);
      return { x: r.left + x, y: r.top + y, cx: r.left + cx, cy: r.top + cy, street: b.street,
               number: b.number, label: b.label, count: map.link.held.get(b).length };
    }
  }
  return null;
}"""


def stored_layers(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate("""async () => (await import('/app/js/db.js')).kvGet('base_layers')""")
    )


def test_offline_the_map_draws_streets_buildings_names_and_a_tap_lists_the_households(
    phone: Any, server: LiveServer, needs_sync: None, screenshot: Any
) -> None:
    page = phone.login(WORKER)
    assert phone.sync()
    layers = stored_layers(page)
    assert layers["roads"] and layers["buildings"], "the sync kept no base layers"
    assert layers["attribution"]  # the OSM credit travels with the data

    server.stop()  # really gone: the service worker and IndexedDB must carry the map
    phone.expected_network_errors = True
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("body[data-settled=true]")
    page.wait_for_function("() => window.wangge.map && window.wangge.map.canvas.isConnected")
    canvas = page.wait_for_selector("#map-canvas[data-drawn=true]")
    assert int(canvas.get_attribute("data-roads")) == len(layers["roads"])
    assert int(canvas.get_attribute("data-buildings")) == len(layers["buildings"])
    assert "OpenStreetMap" in page.inner_text(".map-credit")
    screenshot(page, "pwa-map-offline", full_page=False)

    # it moves like a map: + zooms in, a drag pans (pointer events)
    scale = float(canvas.get_attribute("data-scale"))
    page.click("#map .map-btn[aria-label='放大']")
    page.wait_for_function(f"() => window.wangge.map.view.scale > {scale} * 1.5")
    centre = page.evaluate("() => [window.wangge.map.view.cx, window.wangge.map.view.cy]")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + 160, box["y"] + 140, steps=5)
    page.mouse.up()
    moved = page.evaluate("() => [window.wangge.map.view.cx, window.wangge.map.view.cy]")
    assert moved[0] < centre[0] and moved[1] > centre[1]  # dragged right and down: view west, north

    # zoomed onto a footprint: its number and the street names are written
    page.evaluate("document.querySelector('.map-frame').scrollIntoView({ block: 'start' })")
    aim = page.evaluate(AIM)
    assert aim, "no spot of the footprint free of markers"
    labels = page.evaluate("() => window.wangge.map.lastLabels")
    assert aim["label"] in labels
    road_names = {r[0] for r in layers["roads"] if r[0]}
    assert road_names & set(labels), labels
    # the canvas really has the footprint's fill under its centre (not a blank frame)
    pixel = page.evaluate(
        """([x, y]) => {
          const c = window.wangge.map.canvas; const r = c.getBoundingClientRect();
          const d = devicePixelRatio; const px = Math.round((x - r.left) * d);
          const py = Math.round((y - r.top + 12) * d);
          return [...c.getContext('2d').getImageData(px, py, 1, 1).data]; }""",
        [aim["cx"], aim["cy"]],
    )
    assert pixel[:3] != [243, 240, 233], "no footprint drawn under the building's number"

    page.mouse.click(aim["x"], aim["y"])
    sheet = page.wait_for_selector("#map-sheet:not([hidden])")
    page.wait_for_function("() => window.wangge.map.canvas.dataset.selected === 'true'")
    screenshot(page, "pwa-map-zoomed", full_page=False)
    assert aim["label"] in page.inner_text("#map-sheet-title")
    links = page.eval_on_selector_all(
        "#map-households a[data-household]", "els => els.map(e => e.dataset.household)"
    )
    lane, _, number = aim["number"].rpartition("弄")
    rows = server.query(
        "SELECT id FROM households WHERE road = ? AND lane = ? AND building = ?",
        (aim["street"], lane, number.removesuffix("号")),
    )
    assert len(links) == aim["count"] == len(rows) > 0
    assert {link.replace("-", "") for link in links} == {str(r[0]).replace("-", "") for r in rows}
    sheet.scroll_into_view_if_needed()
    screenshot(page, "pwa-map-building", full_page=False)
    page.click("#map-households a[data-household]")
    page.wait_for_selector("body[data-screen=visit]")
    assert phone.errors == []
