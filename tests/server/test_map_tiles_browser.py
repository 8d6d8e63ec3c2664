"""Online tiles in a real browser (issue 14 items 3 and 6), with a tile server the test starts.

For each datum a tile provider may draw in, the intake map shows tiles from the local server
(tests/tile_server.py: loopback, PNG tiles drawn on request) and a click at the tile pixel
where the provider draws a known WGS-84 point locates to the cell holding that point: on
GCJ-02 tiles that pixel is ~500 m from the WGS-84 one, so a map that forgot the shift fails.
"Locate me" (Playwright's geolocation) and a typed known address place the point too.

Screenshots (maps-tiles-*.png, 1366×800 and 360×640, zh-CN) go to a temporary folder, or to
docs/screenshots/ with `--update-screenshots` (tests/browser.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from shapely.geometry import Point, shape

from tests.demo_server import demo_server
from tests.tile_server import TILE_PX, TileServer, displayed, tile_server, world_pixel

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ZOOM = 17
CREDIT = "测试瓦片 © OpenStreetMap contributors"


@pytest.fixture(scope="module", params=["wgs84", "gcj02"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, TileServer]]:
    with tile_server(request.param) as tiles:
        env = {
            "WANGGE_TILES_URL": tiles.url,
            "WANGGE_TILES_DATUM": request.param,
            "WANGGE_TILES_ATTRIBUTION": CREDIT,
            "WANGGE_TILES_MAX_ZOOM": "19",
        }
        with demo_server(tmp_path_factory.mktemp("tiles"), env=env) as url:
            yield url, tiles


def open_page(browser: Any, problems: list[str], **context: Any) -> Any:
    ctx = browser.new_context(
        locale="zh-CN", **{"viewport": {"width": 1366, "height": 800}, **context}
    )
    tab = ctx.new_page()
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    tab.set_default_timeout(20_000)
    return tab


@pytest.fixture
def problems() -> Iterator[list[str]]:
    found: list[str] = []
    yield found
    assert found == []


def login(page: Any, base: str, username: str = "zhao.min") -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "wangge-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def inner_point(base: str) -> tuple[float, float, str]:
    """A WGS-84 point well inside a published building-group cell, and that cell's code
    (found here with shapely, not by the server's locate)."""
    cells = requests.get(f"{base}/report/cells.geojson", timeout=10).json()["features"]
    # the demo's first cells sit in the middle of the street; keep 15 m from every edge
    for feature in cells[len(cells) // 2 :]:
        polygon = shape(feature["geometry"])
        core = polygon.buffer(-0.00015)
        if not core.is_empty:
            p = core.representative_point()
            holders = [f for f in cells if shape(f["geometry"]).contains(Point(p.x, p.y))]
            assert len(holders) == 1
            return p.x, p.y, holders[0]["properties"]["code"]
    raise AssertionError("no cell wide enough")


def screen_spot(
    page: Any, tiles: TileServer, lon: float, lat: float, zoom: int
) -> tuple[float, float]:
    """The screen position of the tile pixel where the provider draws WGS-84 (lon, lat)."""
    px, py = world_pixel(*displayed(lon, lat, tiles.datum), zoom)
    tx, ty = int(px // TILE_PX), int(py // TILE_PX)
    img = page.locator(f"img.leaflet-tile[src$='/{zoom}/{tx}/{ty}.png']")
    img.wait_for(state="visible")
    page.wait_for_function("(el) => el.complete && el.naturalWidth > 0", arg=img.element_handle())
    box = img.bounding_box()
    return box["x"] + (px - tx * TILE_PX) * box["width"] / TILE_PX, box["y"] + (
        py - ty * TILE_PX
    ) * box["height"] / TILE_PX


def centre_in_view(page: Any, selector: str) -> None:
    page.locator(selector).evaluate("el => el.scrollIntoView({block: 'center'})")


def marker_centre(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).last.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def centre_on(page: Any, map_id: str, lon: float, lat: float, zoom: int) -> None:
    page.evaluate(
        "([id, lat, lon, z]) => window.wanggeMapTools.mapOf(document.getElementById(id))"
        ".setView([lat, lon], z, {animate: false})",
        [map_id, lat, lon, zoom],
    )


def test_a_click_on_a_tile_pixel_locates_to_the_wgs84_cell_it_shows(
    served, browser, problems, screenshot
):
    base, tiles = served
    lon, lat, code = inner_point(base)
    page = open_page(browser, problems)
    login(page, base)
    page.goto(f"{base}/cases/new")
    page.wait_for_function(
        "() => Number(document.getElementById('intake-map').dataset.cellsDrawn) > 0"
    )
    page.locator("#intake-map").scroll_into_view_if_needed()
    centre_on(page, "intake-map", lon, lat, ZOOM)
    assert page.get_attribute("#intake-map", "data-tiles-datum") == tiles.datum
    x, y = screen_spot(page, tiles, lon, lat, ZOOM)
    page.mouse.click(x, y)
    page.wait_for_function("(c) => document.getElementById('placement').title === c", arg=code)
    got_lon, got_lat = float(page.input_value("#lon")), float(page.input_value("#lat"))
    # one screen pixel at zoom 17 is ~1 m: the stored point is the WGS-84 one within 3 m
    assert abs(got_lon - lon) < 3e-5 and abs(got_lat - lat) < 3e-5
    # the pin (WGS-84 in the page) is drawn where the provider draws that point
    mx, my = marker_centre(page, "#intake-map path.leaflet-interactive[fill='#8250df']")
    assert abs(mx - x) < 3 and abs(my - y) < 3
    # the tile clicked on came from the local server (and was drawn: screen_spot waits)
    tile_x, tile_y = (
        int(v // TILE_PX) for v in world_pixel(*displayed(lon, lat, tiles.datum), ZOOM)
    )
    assert f"{ZOOM}/{tile_x}/{tile_y}" in tiles.requested
    assert CREDIT in page.inner_text("#intake-map .leaflet-control-attribution")
    if tiles.datum == "gcj02":  # the unshifted pixel is far away: the shift really happened
        wx, wy = world_pixel(lon, lat, ZOOM)
        sx, sy = world_pixel(*displayed(lon, lat, "gcj02"), ZOOM)
        assert ((wx - sx) ** 2 + (wy - sy) ** 2) ** 0.5 > 300
    screenshot(page, f"maps-tiles-intake-{tiles.datum}-1366", full_page=False)


def test_locate_me_places_the_browser_position_in_its_cell(served, browser, problems, screenshot):
    base, tiles = served
    lon, lat, code = inner_point(base)
    page = open_page(
        browser,
        problems,
        geolocation={"latitude": lat, "longitude": lon, "accuracy": 12},
        permissions=["geolocation"],
    )
    login(page, base)
    page.goto(f"{base}/cases/new")
    page.wait_for_function(
        "() => Number(document.getElementById('intake-map').dataset.cellsDrawn) > 0"
    )
    page.locator("#intake-map").scroll_into_view_if_needed()
    page.click("#intake-map .wangge-locate")
    page.wait_for_function("(c) => document.getElementById('placement').title === c", arg=code)
    assert (
        abs(float(page.input_value("#lon")) - lon) < 1e-6
        and abs(float(page.input_value("#lat")) - lat) < 1e-6
    )
    assert "已放在您的位置" in page.inner_text("#intake-map .wangge-map-status")
    zoom = page.evaluate(
        "() => window.wanggeMapTools.mapOf(document.getElementById('intake-map')).getZoom()"
    )
    assert zoom == 18
    x, y = screen_spot(page, tiles, lon, lat, 18)
    mx, my = marker_centre(page, "#intake-map path.leaflet-interactive[fill='#8250df']")
    assert abs(mx - x) < 3 and abs(my - y) < 3


def test_locate_me_denied_says_so_in_chinese(served, browser, problems):
    base, _ = served
    page = open_page(browser, problems, permissions=[])
    page.goto(f"{base}/report/")
    page.wait_for_function(
        "() => Number(document.getElementById('report-map').dataset.cellsDrawn) > 0"
    )
    page.click("#report-map .wangge-locate")
    page.wait_for_function(
        "() => document.querySelector('#report-map .wangge-map-status')"
        ".textContent.includes('无法定位')"
    )
    assert page.input_value("#lat") == ""


def known_address(base: str) -> dict[str, Any]:
    found = requests.get(f"{base}/report/places.json", params={"q": "新华路"}, timeout=10).json()
    return next(p for p in found if p.get("lat") is not None)


@pytest.mark.parametrize("size", [(1366, 800), (360, 640)])
def test_a_typed_known_address_places_the_residents_map_at_building_zoom(
    served, browser, problems, screenshot, size
):
    base, tiles = served
    place = known_address(base)
    page = open_page(browser, problems, viewport={"width": size[0], "height": size[1]})
    page.goto(f"{base}/report/")
    page.wait_for_function(
        "() => Number(document.getElementById('report-map').dataset.cellsDrawn) > 0"
    )
    page.fill("#address", place["address"])
    page.wait_for_function("(v) => document.getElementById('lat').value !== ''", arg=None)
    assert abs(float(page.input_value("#lat")) - place["lat"]) < 1e-6
    zoom = page.evaluate(
        "() => window.wanggeMapTools.mapOf(document.getElementById('report-map')).getZoom()"
    )
    assert zoom >= 18
    centre_in_view(page, "#report-map")
    x, y = screen_spot(page, tiles, place["lon"], place["lat"], round(zoom))
    box = page.locator("#report-map img.leaflet-marker-icon").bounding_box()
    # Leaflet's default pin: its tip (bottom centre) is the point
    assert abs(box["x"] + box["width"] / 2 - x) < 3 and abs(box["y"] + box["height"] - y) < 4
    assert CREDIT in page.inner_text("#report-map .leaflet-control-attribution")
    page.wait_for_function(
        "() => Number(document.getElementById('report-map').dataset.tilesLoaded) > 0"
    )
    screenshot(page, f"maps-tiles-report-{tiles.datum}-{size[0]}", full_page=False)


def test_a_typed_known_address_places_the_intake_point(served, browser, problems, screenshot):
    base, tiles = served
    place = known_address(base)
    page = open_page(browser, problems, viewport={"width": 360, "height": 640})
    login(page, base)
    page.goto(f"{base}/cases/new")
    page.wait_for_function(
        "() => Number(document.getElementById('intake-map').dataset.cellsDrawn) > 0"
    )
    page.fill("#address", place["address"])
    page.press("#address", "Tab")
    page.wait_for_function(
        "(c) => document.getElementById('placement').title === c",
        arg=place["cell_code"],
    )
    assert abs(float(page.input_value("#lon")) - place["lon"]) < 1e-6
    centre_in_view(page, "#intake-map")
    page.wait_for_function(
        "() => Number(document.getElementById('intake-map').dataset.tilesLoaded) > 0"
    )
    screenshot(page, f"maps-tiles-intake-{tiles.datum}-360", full_page=False)


@pytest.mark.parametrize(
    ("path", "selector", "signed_in"),
    [
        ("/map/", "#big-map", True),
        ("/services/", "#points-map", False),
    ],
)
def test_the_other_maps_draw_the_tiles_in_their_datum_too(
    served, browser, problems, path, selector, signed_in
):
    base, tiles = served
    page = open_page(browser, problems)
    if signed_in:
        login(page, base)
    page.goto(f"{base}{path}")
    page.wait_for_function(
        "(s) => Number(document.querySelector(s).dataset.tilesLoaded) > 0", arg=selector
    )
    assert page.get_attribute(selector, "data-tiles-datum") == tiles.datum
    assert CREDIT in page.inner_text(f"{selector} .leaflet-control-attribution")
