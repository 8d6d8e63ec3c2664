"""The office map (/map/) with 5,000 open cases: time to interactive, next to the same page
without base layers (roads, buildings, labels) measured in the same run.

    .venv/bin/python bench/bench_office_map.py [--quick] [--cases N]

The demo district gets N open cases (default 5,000, the map's limit; 100 of them at one
building) and is served by `flask run`. Each run opens /map/ in a fresh Chromium context
(empty cache, signed in as the dispatcher, 1366x800). Time to interactive is read inside the
page from the performance marks it sets: cells, case pins and base layers drawn
(`wangge:cells-drawn`, `wangge:cases-drawn`, `wangge:base-layers-drawn`); as soon as they all
are, a click on a group of pins is queued (setTimeout) and the moment the map handles it
(`clusterclick`) is the figure. The baseline is the same page with base-layers.js answered
empty, so no base layer is fetched or drawn.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.demo_server import REPO, demo_server

#: Records the map and, once every mark in WANT is set, queues a click on a group of pins and
#: marks `bench:answered` when the map handles it.
WATCH = """
(() => {
  const WANT = %s;
  let real, asked = false;
  Object.defineProperty(window, 'L', {
    configurable: true,
    get() { return real; },
    set(value) {
      real = value;
      if (value && value.Map) value.Map.addInitHook(function () { window.__map = this; });
    },
  });
  function click() {
    const map = window.__map;
    const group = Object.values(map._layers).find((l) => l instanceof L.MarkerClusterGroup);
    const icon = document.querySelector('#big-map .case-cluster');
    group.once('clusterclick', () => performance.mark('bench:answered'));
    icon.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window}));
  }
  new PerformanceObserver(() => {
    const have = new Set(performance.getEntriesByType('mark').map((m) => m.name));
    if (asked || !WANT.every((name) => have.has(name))) return;
    asked = true;
    setTimeout(click, 0);  // runs when the page has nothing else queued: it can answer
  }).observe({type: 'mark', buffered: true});
})();
"""
MARKS = ["wangge:cells-drawn", "wangge:cases-drawn", "wangge:base-layers-drawn", "bench:answered"]


def seed(cases: int) -> Any:
    def prepare(env: dict[str, str]) -> None:
        args = [sys.executable, "-m", "tests.server.map_pins_seed", str(cases), "100"]
        done = subprocess.run(
            [*args, "--open-only"], cwd=REPO, env=env, check=True, capture_output=True, text=True
        )
        print("seeded:", done.stdout.strip().splitlines()[-1])

    return prepare


def open_map(browser: Any, url: str, *, base_layers: bool) -> dict[str, float]:
    """One cold load of /map/; the marks' times in ms from navigation start, and pins drawn."""
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#username", "zhao.min")
    page.fill("#password", "wangge-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/")
    want = MARKS[:3] if base_layers else MARKS[:2]
    page.add_init_script(WATCH % json.dumps(want))
    if not base_layers:
        page.route(
            "**/static/js/base-layers.js",
            lambda route: route.fulfill(body="", content_type="text/javascript"),
        )
    page.goto(f"{url}/map/")
    page.wait_for_function(
        "() => performance.getEntriesByName('bench:answered').length", timeout=180_000
    )
    times = page.evaluate(
        "(names) => Object.fromEntries(names.map((n) => {"
        " const m = performance.getEntriesByName(n)[0]; return [n, m ? m.startTime : NaN]; }))",
        MARKS,
    )
    times["pins"] = float(page.get_attribute("#big-map", "data-cases-drawn") or 0)
    context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="2 runs instead of 5")
    parser.add_argument("--cases", type=int, default=5000)
    options = parser.parse_args()
    runs = 2 if options.quick else 5
    from playwright.sync_api import sync_playwright

    with (
        demo_server(Path(tempfile.mkdtemp()), prepare=seed(options.cases)) as url,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        open_map(browser, url, base_layers=True)  # warm-up: the server's caches, not the page's
        ours: list[dict[str, float]] = []
        bare: list[dict[str, float]] = []
        for _ in range(runs):  # interleaved, so a busy moment of the machine hits both
            ours.append(open_map(browser, url, base_layers=True))
            bare.append(open_map(browser, url, base_layers=False))
        browser.close()

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(f"/map/ with {med(ours, 'pins'):.0f} case pins, Chromium 1366x800, median of {runs}:")
    print(f"{'ms from navigation start':<34}{'with base layers':>18}{'baseline: none':>16}")
    for key, name in [
        ("wangge:cells-drawn", "cells drawn"),
        ("wangge:cases-drawn", "case pins drawn (clustered)"),
        ("wangge:base-layers-drawn", "base layers drawn"),
        ("bench:answered", "time to interactive (click)"),
    ]:
        base = med(bare, key)
        base_text = "—" if base != base else f"{base:.0f}"  # NaN: not drawn in the baseline
        print(f"  {name:<32}{med(ours, key):>18.0f}{base_text:>16}")
    ratio = med(ours, "bench:answered") / med(bare, "bench:answered")
    print(f"time to interactive, with base layers / without: {ratio:.2f}x")


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    print(f"({time.monotonic() - t0:.0f} s)")
