"""The phone's offline base layers for one street: bytes pulled and draw time per redraw.

    .venv/bin/python bench/bench_phone_layers.py [--quick]

One street = the demo's OSM roads and ~2,000 generated footprints filling 新华路街道 (the
demo itself has 102), pulled by a worker whose duty is the street cell (all 4 levels).
Baselines in the same run: the office maps' GeoJSON feed (`/api/v1/layers/features`) for the
same box, and the same redraws without CPU throttling. Targets (issue 14): ≤ 300 KB gzip,
≤ 100 ms per redraw at 4× throttle.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.pwa.conftest import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, LiveServer, _env, _flask

THROTTLE = 4
STREET = "310105004"
USER, PASSWORD = "bench.street", "bench-street-password"
DEVICE = "00000000-0000-4000-8000-000000000000"
SLAB_M = (28.0, 11.0)
SPACING_M = (36.0, 31.0)  # one slab per 36 × 31 m inside the street: ~2,000 footprints


def footprints_file(boundary: shapely.Polygon) -> bytes:
    """Slabs on a regular grid inside the street, numbered like the demo's (329弄12号)."""
    minx, miny, maxx, maxy = boundary.bounds
    lat0 = (miny + maxy) / 2
    dy = 1 / 111_320
    dx = dy / math.cos(math.radians(lat0))
    features = []
    n = 0
    y = miny
    while y < maxy:
        x = minx
        while x < maxx:
            slab = shapely.box(x, y, x + SLAB_M[0] * dx, y + SLAB_M[1] * dy)
            if boundary.contains(slab):
                n += 1
                number = f"{100 + n // 8 * 2}弄{n % 8 + 1}号"
                features.append(
                    {
                        "type": "Feature",
                        "properties": {"addr:street": "新华路", "number": number},
                        "geometry": shapely.geometry.mapping(slab),
                    }
                )
            x += SPACING_M[0] * dx
        y += SPACING_M[1] * dy
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def prepare(db: Path, root: Path) -> int:
    """Demo + ~2,000 footprints published + a worker on the whole street; the count."""
    env = _env(db, root / "instance", REPO_ROOT / "pwa")
    _flask("db", "upgrade", env=env)
    _flask("demo", "load", env=env)
    import os

    os.environ.update(env)
    from sqlalchemy import select

    from server import create_app
    from server.accounts import operations as accounts
    from server.enums import DutyRole, GridStatus
    from server.extensions import db as sa_db
    from server.grid.models import Cell, Duty, GridVersion

    app = create_app()
    with app.app_context():
        cell = sa_db.session.scalar(
            select(Cell)
            .join(GridVersion)
            .where(Cell.code == STREET, GridVersion.status == GridStatus.PUBLISHED)
        )
        assert cell is not None
        boundary = shapely.from_wkb(cell.geometry_wkb)
        user = accounts.create_user(sa_db.session, username=USER, password=PASSWORD, role="worker")
        sa_db.session.flush()
        sa_db.session.add(
            Duty(
                user_id=user.id,
                cell_code=STREET,
                role=DutyRole.GRID_WORKER,
                starts_on=dt.date.today() - dt.timedelta(days=1),
            )
        )
        sa_db.session.commit()
        sa_db.session.remove()
        sa_db.engine.dispose()  # the last connection closed: SQLite folds its WAL into the file
    data = footprints_file(boundary)
    path = root / "footprints.geojson"
    path.write_bytes(data)
    _flask("layers", "import", str(path), "--kind", "buildings", "--datum", "wgs84",
           "--attribution", "bench", "--publish", env=env)  # fmt: skip
    return len(json.loads(data)["features"])


def pulled_bytes(url: str) -> None:
    token = requests.post(
        f"{url}/api/v1/auth/token",
        json={"username": USER, "password": PASSWORD, "device_id": DEVICE, "device_name": "bench"},
        timeout=30,
    ).json()
    assert "token" in token, token
    token = token["token"]
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    phone = requests.get(f"{url}/api/v1/sync/layers", headers=headers, timeout=60)
    body = phone.json()
    bbox = ",".join(str(v) for v in body["bbox"])
    office = requests.get(f"{url}/api/v1/layers/features?bbox={bbox}", timeout=60)
    counts = {k: len(body[k]) for k in ("roads", "buildings", "poi")}
    print(f"one street's scope + 200 m margin: {counts}, bbox {bbox}")
    for label, raw in (
        ("baseline: /api/v1/layers/features (GeoJSON)", office.content),
        ("phone: /api/v1/sync/layers (compact)", phone.content),
    ):
        print(
            f"  {label:<46} raw {len(raw) / 1024:7.1f} KiB"
            f"   gzip-5 {len(gzip.compress(raw, 5)) / 1024:6.1f} KiB"
            f"   gzip-9 {len(gzip.compress(raw, 9)) / 1024:6.1f} KiB"
        )
    served = requests.get(
        f"{url}/api/v1/sync/layers",
        headers={**headers, "Accept-Encoding": "gzip"},
        timeout=60,
        stream=True,
    )
    wire = len(served.raw.read(decode_content=False))
    print(f"  phone: on the wire as served (gzip by the app): {wire / 1024:.1f} KiB (≤ 300 KB)")
    again = requests.get(
        f"{url}/api/v1/sync/layers",
        headers={**headers, "If-None-Match": served.headers["ETag"]},
        timeout=30,
    )
    print(f"  phone: next sync, nothing new: HTTP {again.status_code}, {len(again.content)} bytes")


REDRAW = """async ([zoom, n, mode]) => {
  const map = window.wangge.map;
  const v = map.view;
  const ctx = map.canvas.getContext('2d');
  const box = map.layers.buildings.reduce((b, x) => [
    Math.min(b[0], x.bbox[0]), Math.min(b[1], x.bbox[1]),
    Math.max(b[2], x.bbox[2]), Math.max(b[3], x.bbox[3])],
    [Infinity, Infinity, -Infinity, -Infinity]);
  v.fit(box, 0);
  v.zoomBy(zoom);
  map.redraw();
  const times = [];
  for (let i = 0; i < n; i++) {
    // a pan re-uses the cached picture; a zoom step (pinch) draws it all again
    if (mode === 'pan') v.panBy(i % 2 ? 7 : -7, 3); else v.zoomBy(i % 2 ? 1.02 : 1 / 1.02);
    const t0 = performance.now();
    const { full } = map.redraw();
    ctx.getImageData(0, 0, 1, 1); // flush: the canvas rasterises its recorded drawing now
    times.push(performance.now() - t0);
    if (full !== (mode !== 'pan')) throw new Error(`redraw ${i}: full=${full} in a ${mode}`);
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  }
  return { times, labels: map.lastLabels.length, scale: v.scale };
}"""


def draw_times(url: str, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = browser.new_context(
            viewport={"width": 360, "height": 640}, device_scale_factor=2, is_mobile=True,
            has_touch=True, locale="zh-CN",
        )  # fmt: skip
        page = ctx.new_page()
        page.goto(f"{url}/app/")
        page.wait_for_selector("body[data-ready=true]")
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-screen=home]")
        assert page.evaluate("window.wangge.syncNow()")
        page.reload()
        page.wait_for_selector("body[data-settled=true]")
        page.wait_for_function("() => window.wangge.map && window.wangge.map.canvas.isConnected")
        print(f"  footprints drawn: {page.get_attribute('#map-canvas', 'data-buildings')}")
        cdp = ctx.new_cdp_session(page)
        print(f"draw per redraw (pan), Chromium canvas 360x640 @2x, {runs} redraws, median / max:")
        cases = [
            (1, "pan", "pan, whole street (all footprints)"),
            (1, "zoom", "pinch, whole street (all footprints)"),
            (6, "pan", "pan, zoomed in (numbers, names)"),
            (6, "zoom", "pinch, zoomed in (numbers, names)"),
        ]
        for zoom, mode, what in cases:
            row = []
            for rate in (1, THROTTLE):
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
                got = page.evaluate(REDRAW, [zoom, runs, mode])
                times = got["times"][2:]  # the first two warm the caches
                row.append(f"{rate}x CPU {statistics.median(times):6.1f} / {max(times):6.1f} ms")
            print(f"  {what:<38} labels {got['labels']:>3}  baseline {row[0]}   {row[1]}")
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10 redraws instead of 40")
    runs = 10 if parser.parse_args().quick else 40
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        template = root / "template.db"
        n = prepare(template, root)
        print(f"published {n} generated footprints over 新华路街道 (with the demo's OSM roads)")
        (root / "live").mkdir()
        server = LiveServer(root / "live", template)
        server.start()
        try:
            pulled_bytes(server.url)
            draw_times(server.url, runs)
        finally:
            server.stop()


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    print(f"({time.monotonic() - t0:.0f} s)")
