"""The app is served at /app/ and is installable: manifest fields, icons, CDP's verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from tests.pwa.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer

pytestmark = pytest.mark.browser


def test_manifest_has_the_fields_chrome_needs_to_install(server: LiveServer) -> None:
    answer = requests.get(f"{server.url}/app/manifest.webmanifest", timeout=5)
    assert answer.headers["Content-Type"].startswith("application/manifest+json")
    manifest = answer.json()
    assert manifest["name"] == "网格·网格员"
    assert manifest["short_name"] == "网格"
    assert manifest["start_url"] == "/app/"
    assert manifest["scope"] == "/app/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"].startswith("#")
    sizes = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        png = requests.get(f"{server.url}/app/{icon['src']}", timeout=5)
        assert png.ok and png.content[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(png.content[16:20], "big")
        assert f"{width}x{width}" == icon["sizes"]


def test_service_worker_is_served_for_its_scope_and_never_from_http_cache(
    server: LiveServer,
) -> None:
    answer = requests.get(f"{server.url}/app/sw.js", timeout=5)
    assert answer.ok
    assert answer.headers["Service-Worker-Allowed"] == "/app/"
    assert answer.headers["Cache-Control"] == "no-cache"
    assert "skipWaiting()" in answer.text and "SKIP_WAITING" in answer.text


def test_every_precached_file_exists(server: LiveServer) -> None:
    import re

    text = requests.get(f"{server.url}/app/sw.js", timeout=5).text
    shell = re.search(r"const SHELL = \[(.*?)\];", text, re.S)
    assert shell
    files = re.findall(r"'([^']+)'", shell.group(1))
    for name in files:
        assert requests.get(f"{server.url}/app/{name}", timeout=5).ok, name
    served = {
        str(p.relative_to(server.pwa))
        for p in server.pwa.rglob("*")
        if p.suffix in {".js", ".css", ".png"} and p.name != "sw.js"
    }
    assert served <= set(files), f"not precached: {served - set(files)}"


def test_chrome_finds_no_installability_errors(
    playwright: Any, server: LiveServer, tmp_path: Path
) -> None:
    # A persistent profile: Chrome never offers to install from an incognito context.
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS
    )
    try:
        page = context.new_page()
        page.goto(f"{server.url}/app/")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
        cdp = context.new_cdp_session(page)
        result = cdp.send("Page.getInstallabilityErrors")
        assert result["installabilityErrors"] == []
        manifest = cdp.send("Page.getAppManifest")
        assert not manifest.get("errors"), manifest.get("errors")
    finally:
        context.close()
