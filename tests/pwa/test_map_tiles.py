"""Issue 14 item 3 on the phone: online tiles under the vector layers, in their datum.

A server configured with the local tile server (tests/tile_server.py: loopback, PNG tiles
with the demo's OSM roads drawn in the server's datum) for WGS-84 and for GCJ-02. The phone
draws the tiles under its layers; a tap at the tile pixel where the provider draws a known
WGS-84 point of a footprint selects that footprint (on GCJ-02 tiles that pixel is ~500 m from
the WGS-84 one, so a map that forgot the datum picks another spot); offline the map is drawn
as before, without tiles and without a request to the tile host.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image

from tests.pwa.conftest import LiveServer, Phone
from tests.tile_server import TILE_PX, TileServer, displayed, tile_server, world_pixel

pytestmark = pytest.mark.browser

WORKER = "zhou.jie"
CREDIT = "测试瓦片 © OpenStreetMap contributors"
TILE_GROUND = (236, 233, 224)  # the local tile server's background colour

# A footprint holding households, zoomed onto (as test_map_layers.AIM), and a point of it that
# no marker covers, as WGS-84 [lon, lat]: where the tap must land.
AIM = """async () => {
  const map = window.wangge.map;
  const { pick } = await import('/app/js/map-pick.js');
  const b = [...map.link.held.keys()].find((x) => map.link.held.get(x).length);
  map.view.fit([b.bbox[0] - 60, b.bbox[1] - 60, b.bbox[2] + 60, b.bbox[3] + 60], 0);
  map.redraw();
  for (const fy of [0.5, 0.3, 0.7, 0.15, 0.85]) for (const fx of [0.5, 0.3, 0.7, 0.15, 0.85]) {
    const mx = b.bbox[0] + fx * (b.bbox[2] - b.bbox[0]);
    const my = b.bbox[1] + fy * (b.bbox[3] - b.bbox[1]);
    const [x, y] = map.view.toScreen(mx, my);
    const hit = pick(map.picture(), map.marks(), map.layers.buildings, ...map.inPicture(x, y));
    if (hit && hit.building === b) {
      const [lon, lat] = map.layers.frame.toLonLat(mx, my);
      return { lon, lat, label: b.label };
    }
  }
  return null;
}"""


@pytest.fixture(scope="module", params=["wgs84", "gcj02"])
def tiled(
    request: pytest.FixtureRequest,
    demo_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, TileServer]]:
    """A server whose office has a tile provider in the given datum, and that provider."""
    with tile_server(request.param) as tiles:
        server = LiveServer(tmp_path_factory.mktemp(f"tiles-{request.param}"), demo_template)
        server.env.update(
            WANGGE_TILES_URL=tiles.url,
            WANGGE_TILES_DATUM=request.param,
            WANGGE_TILES_ATTRIBUTION=CREDIT,
            WANGGE_TILES_MAX_ZOOM="19",
        )
        server.start()
        try:
            yield server, tiles
        finally:
            server.stop()


def tile_ground_share(page: Any) -> float:
    """The share of the map's pixels that are the tiles' own ground colour (a screenshot:
    the canvas holds cross-origin images, so its pixels cannot be read from the page)."""
    box = page.locator("#map-canvas").bounding_box()
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB"))
    near = np.all(np.abs(shot.astype(int) - np.array(TILE_GROUND)) <= 2, axis=2)
    return float(near.mean())


def test_tiles_lie_under_the_layers_in_their_datum_and_a_tap_lands_on_the_wgs84_point(
    tiled: tuple[LiveServer, TileServer], browser: Any, has_sync: bool, screenshot: Any
) -> None:
    server, tiles = tiled
    phone = Phone(browser, server, has_sync)
    seen: list[str] = []
    phone.page.on("console", lambda m: seen.append(m.text))
    try:
        page = phone.login(WORKER)
        assert phone.sync()
        page.reload()
        page.wait_for_selector("body[data-settled=true]")
        page.wait_for_function("() => window.wangge.map && window.wangge.map.canvas.isConnected")
        canvas = page.wait_for_selector("#map-canvas[data-drawn=true]")
        assert canvas.get_attribute("data-tiles-datum") == tiles.datum
        assert CREDIT in page.inner_text(".map-credit")
        assert "OpenStreetMap" in page.inner_text(".map-credit")

        page.evaluate("document.querySelector('.map-frame').scrollIntoView({ block: 'start' })")
        aim = page.evaluate(AIM)
        assert aim, "no spot of the footprint free of markers"
        zoom = int(page.get_attribute("#map-canvas", "data-tile-zoom"))
        assert 16 <= zoom <= 19
        # the tile pixel where the provider draws that WGS-84 point (Python, not the app)
        px, py = world_pixel(*displayed(aim["lon"], aim["lat"], tiles.datum), zoom)
        tx, ty = int(px // TILE_PX), int(py // TILE_PX)
        key = f"{zoom}/{tx}/{ty}"
        page.wait_for_function("(k) => window.wangge.map.tileRect(k) !== null", arg=key)
        assert key in tiles.requested
        x0, y0, x1, y1 = page.evaluate("(k) => window.wangge.map.tileRect(k)", key)
        x = x0 + (px - tx * TILE_PX) * (x1 - x0) / TILE_PX
        y = y0 + (py - ty * TILE_PX) * (y1 - y0) / TILE_PX
        if tiles.datum == "gcj02":  # the unshifted pixel is far: the datum really mattered
            wx, wy = world_pixel(aim["lon"], aim["lat"], zoom)
            assert ((wx - px) ** 2 + (wy - py) ** 2) ** 0.5 > 300
        # the tiles are drawn (their ground shows) and under the layers (footprints on top)
        page.wait_for_function("() => Number(window.wangge.map.canvas.dataset.tiles) > 0")
        assert tile_ground_share(page) > 0.05

        page.mouse.click(x, y)
        page.wait_for_selector("#map-sheet:not([hidden])")
        page.wait_for_function("() => window.wangge.map.canvas.dataset.selected === 'true'")
        assert aim["label"] in page.inner_text("#map-sheet-title")
        assert phone.errors == []

        # farther out, every tile is drawn: the vector roads cover the tile roads (look at it)
        page.evaluate("() => window.wangge.map.view.zoomBy(1 / 5)")
        page.evaluate("document.querySelector('.map-frame').scrollIntoView({ block: 'start' })")
        page.wait_for_function(
            "() => { const m = window.wangge.map; const d = m.canvas.dataset;"
            " return d.tileZoom === String(m.tiles().zoomFor(m.view.scale))"
            " && Number(d.tiles) > 0 && d.tilesMissing === '0'; }"
        )
        screenshot(page, f"pwa-map-tiles-{tiles.datum}", full_page=False)
        # a full picture (a pinch step) with the tiles held, and without them as the baseline
        times = page.evaluate(
            """() => { const m = window.wangge.map; const layer = m.tiles();
              const keep = layer.draw;
              const run = () => { const out = [];
                for (let i = 0; i < 15; i += 1) { m.view.zoomBy(i % 2 ? 1 / 1.01 : 1.01);
                  const r = m.redraw(); if (r.full) out.push(r.ms); }
                return out.sort((a, b) => a - b); };
              const withTiles = run(); layer.draw = () => layer.stats; const without = run();
              layer.draw = keep; return [withTiles, without]; }"""
        )
        for name, ms in zip(("with tiles", "without (baseline)"), times, strict=True):
            print(f"full redraw {name} ({tiles.datum}): median {ms[len(ms) // 2]:.1f} ms")

        # offline: the same map from IndexedDB, no tiles, no request to the tile host
        asked = len(tiles.requested)
        phone.context.set_offline(True)
        phone.expected_network_errors = True  # the app's own sync calls fail offline
        seen.clear()
        page.reload()
        page.wait_for_selector("body[data-settled=true]")
        canvas = page.wait_for_selector("#map-canvas[data-drawn=true]")
        page.wait_for_function("() => window.wangge.map && window.wangge.map.canvas.isConnected")
        assert int(canvas.get_attribute("data-roads")) > 0
        assert canvas.get_attribute("data-tiles") == "0"
        assert canvas.get_attribute("data-tiles-datum") is None
        assert CREDIT not in page.inner_text(".map-credit")
        assert len(tiles.requested) == asked
        port = tiles.url.split(":")[2].split("/")[0]
        assert not [m for m in seen if port in m], seen

        # back online: the tiles come back under the same map, without a reload
        phone.context.set_offline(False)
        page.wait_for_function("() => Number(window.wangge.map.canvas.dataset.tiles) > 0")
        assert CREDIT in page.inner_text(".map-credit")
        assert len(tiles.requested) > asked
        assert phone.errors == []
    finally:
        phone.context.close()


def test_the_app_csp_allows_the_tile_host_for_images_only(
    tiled: tuple[LiveServer, TileServer],
) -> None:
    server, tiles = tiled
    origin = tiles.url.split("/{z}")[0]
    for path in ("/app/", "/app/js/map-tiles.js", "/api/v1/map/tiles"):
        policy = requests.get(server.url + path, timeout=10).headers["Content-Security-Policy"]
        rules = dict(r.strip().split(" ", 1) for r in policy.split(";"))
        assert origin in rules["img-src"].split(), (path, policy)
        assert rules["connect-src"] == "'self'", (path, policy)
    assert requests.get(server.url + "/api/v1/map/tiles", timeout=10).json()["url"] == tiles.url


def test_an_unreachable_tile_host_costs_one_failed_image_and_the_map_is_as_before(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory, browser: Any, has_sync: bool
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    server = LiveServer(tmp_path_factory.mktemp("tiles-dead"), demo_template)
    server.env.update(
        WANGGE_TILES_URL=f"http://127.0.0.1:{dead}/{{z}}/{{x}}/{{y}}.png",
        WANGGE_TILES_DATUM="gcj02",
        WANGGE_TILES_ATTRIBUTION=CREDIT,
    )
    server.start()
    phone = Phone(browser, server, has_sync)
    phone.expected_network_errors = True  # counted below instead
    seen: list[str] = []
    phone.page.on("console", lambda m: seen.append(m.text) if m.type == "error" else None)
    try:
        page = phone.login(WORKER)
        assert phone.sync()
        seen.clear()
        page.reload()
        page.wait_for_selector("body[data-settled=true]")
        down = (
            "() => { const m = window.wangge.map; return m && m.tiles() && m.tiles().stats.down; }"
        )
        page.wait_for_function(down)
        canvas = page.wait_for_selector("#map-canvas[data-drawn=true]")
        assert int(canvas.get_attribute("data-roads")) > 0
        assert canvas.get_attribute("data-tiles") == "0"
        stats = page.evaluate("() => window.wangge.map.tiles().stats")
        assert stats["requested"] <= 1 and stats["loaded"] == 0, stats  # a probe, not a screenful
        # the map built again (another screen and back): the host is not asked again
        page.evaluate("location.hash = '#/visits'")
        page.wait_for_selector("body[data-screen=visits]")
        page.evaluate("location.hash = '#/'")
        page.wait_for_selector("body[data-screen=home]")
        page.wait_for_function(down)
        assert page.evaluate("() => window.wangge.map.tiles().stats.requested") == 0
        page.evaluate("() => window.wangge.map.view.zoomBy(2)")
        page.wait_for_selector("#map-canvas[data-drawn=true]")
        assert page.evaluate("() => window.wangge.map.tiles().stats.requested") == 0
        assert len([m for m in seen if "ERR_CONNECTION_REFUSED" in m]) <= 1, seen
        assert len(seen) <= 1, seen
        assert phone.errors == []
    finally:
        phone.context.close()
        server.stop()
