"""The GIS user's and the administrator's day in a real browser, in Chinese, at a desk
(1366×800) and a phone (360×640) size (issue 15).

GIS (sun.li): the to-do home, the grids, a grid file uploaded as a draft with its report and
its preview over the published version, a base layer file checked only, the people of a cell,
the gaps and the address check. Administrator: the to-do home, the staff list, a person added
and edited (details, a duty), the units, a catalogue item edited, a staff file checked on the
imports page, the audit trail. Every step goes through `tests/page_checks.Day.look`: console
errors, failed requests, English words, raw None/null, codes shown as text, anything wider
than the viewport. Screenshots gis-day-*.png and admin-day-*.png (tests/browser.py decides
where they go; `--update-screenshots` writes docs/screenshots/).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.demo_server import demo_server
from tests.page_checks import SIZES, Day

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("office-day")) as url:
        yield url


@pytest.fixture(params=list(SIZES))
def gis(request: pytest.FixtureRequest, browser: Any, screenshot: Any) -> Iterator[Day]:
    d = Day(browser, request.param, screenshot, "gis-day")
    yield d
    d.context.close()


@pytest.fixture(params=list(SIZES))
def admin(request: pytest.FixtureRequest, browser: Any, screenshot: Any) -> Iterator[Day]:
    d = Day(browser, request.param, screenshot, "admin-day")
    yield d
    d.context.close()


def test_the_gis_users_day(server: str, gis: Day, tmp_path: Path) -> None:
    page = gis.page
    gis.login(server, "sun.li")
    page.wait_for_selector("section.todo")
    gis.look("home")

    # The published grid, exported: the file a GIS user edits and uploads again.
    versions = page.request.get(f"{server}/api/v1/grids").json()
    live = next(v["id"] for v in versions if v["status"] == "published")
    export = page.request.get(f"{server}/api/v1/grids/{live}/export").json()
    source = tmp_path / "新华路街道网格.geojson"
    source.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")

    page.goto(f"{server}/grids/")
    page.wait_for_selector("form.grid-upload")
    gis.look("grids")
    page.set_input_files("#file", str(source))
    page.fill("#name", "2026 年第四季度网格")
    page.click("form.grid-upload button[type=submit]")
    page.wait_for_url(re.compile(r"/grids/\d+$"), timeout=60_000)
    page.wait_for_selector("#map[data-drawn=true]")
    draft = int(page.url.rsplit("/", 1)[1])
    assert draft != live
    body = page.inner_text("main")
    assert "草稿" in body and "没有变化。" in body and "未发现问题。" in body
    # The published version is drawn under the draft, and the differences are counted.
    assert page.locator("#show-published").is_checked()
    assert "对照" in page.inner_text("ul.legend")
    gis.look("draft")

    # A base layer file checked only: a road along the first cell's edge.
    ring = export["features"][0]["geometry"]["coordinates"]
    while isinstance(ring[0][0], list):
        ring = ring[0]
    road = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "新华路"},
                "geometry": {"type": "LineString", "coordinates": ring[:3]},
            }
        ],
    }
    roads = tmp_path / "道路.geojson"
    roads.write_text(json.dumps(road, ensure_ascii=False), encoding="utf-8")
    page.goto(f"{server}/layers/")
    gis.look("layers")
    page.select_option("#kind", "roads")
    page.set_input_files("#file", str(roads))
    page.fill("#name", "新华路道路")
    page.click("main form button[name=dry_run]")
    page.wait_for_selector("text=文件检查结果")
    assert "1 个要素中 1 个可用" in page.inner_text("main")
    gis.look("layer-check")

    # Who looks after a cell, where nobody does, and the address check.
    page.goto(f"{server}/grids/people")
    gis.look("people")
    code = export["features"][-1]["properties"]["code"]
    page.goto(f"{server}/grids/people?code={code}")
    gis.look("people-cell")
    page.goto(f"{server}/grids/gaps")
    gis.look("gaps")
    page.goto(f"{server}/addresses/check")
    if page.locator("#map").count():  # the map is drawn when some addresses wait
        page.wait_for_selector("#map[data-ready]")
    gis.look("address-check")


def test_the_administrators_day(server: str, admin: Day) -> None:
    page = admin.page
    admin.login(server, "admin")
    page.wait_for_selector("section.todo")
    admin.look("home")

    # Staff: the list, a new person, then their details and a duty.
    page.goto(f"{server}/admin/staff/")
    page.wait_for_selector("#display_name")
    admin.look("staff")
    username = f"tang.li.{admin.size}"
    page.fill("#display_name", "唐丽")
    page.fill("#username", username)
    page.fill("#phone", "13800000123")
    page.click("text=创建账号")
    page.wait_for_selector("h1:has-text('账号已创建')")
    admin.look("staff-added")
    page.click("text=返回 唐丽")
    page.wait_for_selector("#assign-title")
    page.fill("#phone", "13800000124")
    page.click("form[action$='/details'] button.primary")
    page.wait_for_selector(".flash")
    admin.look("person-edited")
    page.fill("#cell-q", "1号楼组")
    page.click("button:has-text('搜索')")
    page.wait_for_selector(".cell-choice")
    page.locator(".cell-choice label").first.click()
    page.click("form[action*='/duties'] button.primary")
    page.wait_for_selector("text=职责已指派")
    admin.look("person-duty")

    # Units and a catalogue item.
    page.goto(f"{server}/admin/units/")
    admin.look("units")
    page.locator("main table a").first.click()
    page.wait_for_selector("h2:has-text('负责的事项')")
    admin.look("unit")
    page.goto(f"{server}/admin/catalogue/")
    admin.look("catalogue", full_page=False)  # a long list
    page.locator("main table a").first.click()
    page.wait_for_selector("h2:has-text('时限与派遣')")
    page.fill("#limit_urgent_hours", "9999")
    page.click("button:has-text('保存')")
    page.wait_for_selector("#limit_urgent_hours-error")
    admin.expect(422)
    admin.expect(400)
    admin.look("catalogue-refused")
    page.fill("#limit_urgent_hours", "2")
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=已保存")
    admin.look("catalogue-item")

    # Imports: a staff file checked, its report read before anything is applied.
    page.goto(f"{server}/imports/")
    admin.look("imports")
    page.set_input_files("#file-staff", str(SAMPLES / "staff-sample.csv"))
    page.click("form[action='/imports/staff/upload'] button.primary")
    page.wait_for_selector("text=已检查，尚未应用")
    admin.look("import-report")

    page.goto(f"{server}/audit/")
    admin.look("audit")
