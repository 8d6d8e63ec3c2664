"""The worker app: shell bytes over the wire (gzip) and offline cold start under 4× CPU throttle.

    .venv/bin/python bench/bench_pwa.py [--quick]

Baselines measured in the same run, same browser, same throttle: a blank page, and the app's
online cold start in a fresh profile (no service worker yet). Lighthouse (not run here):

    npx -y lighthouse@12.2.3 http://127.0.0.1:PORT/app/ --form-factor=mobile \
      --only-categories=performance,accessibility --chrome-flags="--headless=new --no-sandbox"
    (with CHROME_PATH=/usr/bin/chromium; numbers in docs/pwa.md)
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.pwa.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    REPO_ROOT,
    LiveServer,
    _env,
    _flask,
)

THROTTLE = 4


def shell_bytes(url: str) -> tuple[int, int, int]:
    """(files, raw bytes, gzip -6 bytes) of everything the service worker precaches."""
    sw = requests.get(f"{url}/app/sw.js", timeout=10).text
    names = re.findall(r"'([^']+)'", re.search(r"const SHELL = \[(.*?)\];", sw, re.S).group(1))  # type: ignore[union-attr]
    raw = zipped = 0
    for name in [*names, "sw.js"]:
        body = requests.get(f"{url}/app/{name}", timeout=10).content
        raw += len(body)
        zipped += len(body) if name.endswith(".png") else len(gzip.compress(body, 6))
    return len(names) + 1, raw, zipped


def cold_start_ms(context: object, url: str, ready: str) -> float:
    page = context.new_page()  # type: ignore[attr-defined]
    cdp = context.new_cdp_session(page)  # type: ignore[attr-defined]
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
    page.goto(url)
    page.wait_for_selector(ready, timeout=60000)
    page.wait_for_function("document.readyState === 'complete'")
    # Measured inside the page: the app stamps readyAt when its first screen is drawn.
    elapsed = float(
        page.evaluate(
            "window.wangge ? window.wangge.readyAt"
            " : performance.getEntriesByType('navigation')[0].loadEventEnd"
        )
    )
    page.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="3 runs instead of 10")
    runs = 3 if parser.parse_args().quick else 10
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
        files, raw, zipped = shell_bytes(server.url)
        print(f"app shell: {files} files, {raw / 1024:.1f} KiB raw, {zipped / 1024:.1f} KiB gzip")
        with sync_playwright() as pw:
            blank, online, offline = [], [], []
            for i in range(runs):
                ctx = pw.chromium.launch_persistent_context(
                    str(root / f"profile-{i}"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                    viewport={"width": 360, "height": 640},
                )  # fmt: skip
                blank.append(cold_start_ms(ctx, f"{server.url}/app/manifest.webmanifest", "body"))
                online.append(cold_start_ms(ctx, f"{server.url}/app/", "body[data-ready=true]"))
                page = ctx.new_page()
                page.goto(f"{server.url}/app/")
                page.fill("#username", "zhou.jie")
                page.fill("#password", DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_selector("body[data-screen=home]")
                page.wait_for_function("navigator.serviceWorker.controller !== null")
                page.evaluate("window.wangge.syncNow()")
                page.close()
                server.stop()
                offline.append(cold_start_ms(ctx, f"{server.url}/app/", "body[data-screen=home]"))
                ctx.close()
                server.start()
        server.stop()

    def show(label: str, values: list[float]) -> None:
        print(f"{label:<44} median {statistics.median(values):7.0f} ms  (n={len(values)})")

    print(f"cold start to usable, Chromium, {THROTTLE}x CPU throttle, 360x640:")
    show("  baseline: blank document (manifest JSON)", blank)
    show("  baseline: app online, first visit, no SW", online)
    show("  app offline (server stopped), signed in", offline)


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    print(f"({time.monotonic() - t0:.0f} s)")
