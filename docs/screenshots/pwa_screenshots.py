"""Screenshots of the worker app's main screens at 360×640 (DPR 2) into docs/screenshots/.

.venv/bin/python docs/screenshots/pwa_screenshots.py   (needs a server with sync merged)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.pwa.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    REPO_ROOT,
    LiveServer,
    _env,
    _flask,
    make_jpeg,
)


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        template = root / "template.db"
        env = _env(template, root / "instance", REPO_ROOT / "pwa")
        _flask("db", "upgrade", env=env)
        _flask("demo", "load", env=env)
        (root / "live").mkdir()
        server = LiveServer(root / "live", template)
        server.start()
        photo = make_jpeg(root / "p.jpg", seed=11)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            ctx = browser.new_context(
                viewport={"width": 360, "height": 640}, device_scale_factor=2, is_mobile=True,
                has_touch=True, locale="zh-CN", permissions=["geolocation"],
                geolocation={"latitude": 31.2088, "longitude": 121.4266, "accuracy": 12},
            )  # fmt: skip
            page = ctx.new_page()

            def shot(name: str) -> None:
                page.wait_for_timeout(400)
                page.screenshot(path=str(HERE / f"pwa-{name}.png"))

            page.goto(f"{server.url}/app/")
            page.wait_for_selector("body[data-ready=true]")
            shot("login")
            page.fill("#username", "zhou.jie")
            page.fill("#password", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("body[data-screen=home]")
            page.evaluate("window.wangge.syncNow()")
            page.evaluate("location.hash = '#/visits'; location.hash = '#/home'")
            page.wait_for_selector("#map-canvas[data-drawn=true]")
            shot("home")
            page.evaluate("location.hash = '#/visits'")
            page.wait_for_selector("[data-household]")
            shot("visits")
            page.click("[data-household]")
            page.wait_for_selector("#visit-form")
            page.fill("#v-situation", "老人独居,身体尚好")
            shot("visit-form")
            ctx.route("**/api/v1/sync/**", lambda route: route.abort("internetdisconnected"))
            page.evaluate("location.hash = '#/report'")
            page.wait_for_selector("#report-form")
            page.set_input_files("#photo-album", str(photo))
            page.wait_for_selector("#report-thumbs img")
            page.fill("#cat-search", "垃圾")
            page.fill("#r-desc", "弄堂口垃圾堆放,影响通行")
            shot("report")
            page.click("#report-form button[type=submit]")
            page.wait_for_selector("body[data-screen=cases]")
            shot("cases")
            case = page.query_selector_all("[data-case]")[-1]
            case.click()
            page.wait_for_selector("#timeline")
            shot("case-detail")
            page.evaluate("location.hash = '#/sync'")
            page.wait_for_selector("#pending-count")
            shot("sync")
            page.evaluate("location.hash = '#/settings'")
            page.wait_for_selector("#storage-usage")
            shot("settings")
            browser.close()
        server.stop()


if __name__ == "__main__":
    main()
