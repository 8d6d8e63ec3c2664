"""The worker app's main screens in Chromium, WebKit and Firefox at 360×640, side by side
(issue 16, item 4), and the layout facts that must not differ between engines.

One phone per engine signs in as the same worker against one server and walks the same
screens. Per screen the three screenshots are put side by side, each under its engine's
name, in `engines-<screen>.png` (docs/screenshots/ with --update-screenshots). Looking at
them is a person's job; what a program can judge is checked here: in every engine no screen
is wider than the phone, the header and the tab bar are where the other engines put them,
and every tab label fits on one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.engines import ENGINES, go, launch, login, sync, wait_ready
from tests.engines.base import EnginePhone
from tests.pwa.conftest import LiveServer

pytestmark = pytest.mark.browser

#: (file name, route, what marks the screen as drawn)
SCREENS = [
    ("login", None, "#username"),
    ("home", "#/home", "body[data-screen=home]"),
    ("visits", "#/visits", "[data-household]"),
    ("report", "#/report", "#report-form"),
    ("cases", "#/cases", "body[data-screen=cases]"),
    ("sync", "#/sync", "#pending-count"),
    ("settings", "#/settings", "body[data-screen=settings]"),
]

LAYOUT = """
const box = (css) => {
  const node = document.querySelector(css);
  if (!node || node.hidden) return null;
  const r = node.getBoundingClientRect();
  return [Math.round(r.top), Math.round(r.bottom), Math.round(r.left), Math.round(r.right)];
};
const tabs = [...document.querySelectorAll('#tabs:not([hidden]) a')];
return {
  inner: [innerWidth, innerHeight],
  scroll_width: document.documentElement.scrollWidth,
  header: box('header.bar'),
  tabs: box('#tabs'),
  // a label on two lines is taller than its line height
  wrapped_tabs: tabs.filter((a) => {
    const label = a.querySelector('[data-i18n]');
    if (!label) return false;
    const line = parseFloat(getComputedStyle(label).lineHeight) || 20;
    return label.getBoundingClientRect().height > line * 1.5;
  }).map((a) => a.dataset.tab),
  engine: navigator.userAgent,
};
"""

DATES = """
const { fmt } = await import('/app/js/i18n.js');
const now = new Date('2026-12-03T12:00:00+08:00');
return ['2026-11-30T13:30:00Z', '2025-11-30T13:30:00Z', '2026-12-03T00:05:00Z']
  .map((iso) => fmt.time(iso, now));
"""

LABELS = {"chromium": "Chromium (Android)", "webkit": "WebKit (iOS)", "firefox": "Firefox"}


@pytest.fixture
def phones(live_server: LiveServer, tmp_path: Path) -> Iterator[dict[str, EnginePhone]]:
    live_server.start()
    phones: dict[str, EnginePhone] = {}
    try:
        for engine in ENGINES:
            phones[engine] = launch(engine, tmp_path / engine)
        yield phones
        errors = [f"{name}: {e}" for name, phone in phones.items() for e in phone.errors]
        assert not errors, "console errors:\n" + "\n".join(errors)
    finally:
        for phone in phones.values():
            phone.close()


def settle(phone: EnginePhone, marker: str) -> None:
    phone.wait_for(marker, state="attached", timeout=30)
    phone.wait_for("#toast", state="hidden", timeout=15)
    # fonts and the map's first frame: wait for the next two animation frames
    phone.evaluate(
        "await document.fonts.ready;"
        "await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));"
    )


def side_by_side(shots: dict[str, Path], out: Path) -> Path:
    """The engines' screenshots at 1× in one row, each under its engine's label."""
    font = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 22)
    images = {
        name: Image.open(path).convert("RGB").resize((360, 640)) for name, path in shots.items()
    }
    gap, head = 12, 36
    sheet = Image.new("RGB", (len(images) * 360 + (len(images) - 1) * gap, 640 + head), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (name, image) in enumerate(images.items()):
        x = i * (360 + gap)
        draw.text((x + 8, 6), LABELS[name], fill="#333333", font=font)
        sheet.paste(image, (x, head))
    sheet.save(out, optimize=True)
    return out


def test_main_screens_look_alike_in_three_engines(
    phones: dict[str, EnginePhone], live_server: LiveServer, screenshot_dir: Path, tmp_path: Path
) -> None:
    layouts: dict[str, dict[str, Any]] = {}
    for name, route, marker in SCREENS:
        shots: dict[str, Path] = {}
        for engine, phone in phones.items():
            if route is None:
                phone.goto(f"{live_server.url}/app/")
                wait_ready(phone)
            else:
                if name == "home":  # first signed-in screen: sign in and sync once
                    login(phone, live_server.url, "zhou.jie")
                    assert sync(phone), f"{engine}: first sync failed"
                go(phone, route)
            settle(phone, marker)
            layout = phone.evaluate(LAYOUT)
            layouts[f"{name}/{engine}"] = layout
            assert layout["inner"] == [360, 640], (engine, layout)
            assert layout["scroll_width"] <= 360, f"{engine} {name}: wider than the phone"
            assert not layout["wrapped_tabs"], f"{engine} {name}: tab labels wrap"
            if name == "cases":  # dates as the lists show them, with the year only when not ours
                assert phone.evaluate(DATES) == [
                    "11月30日 21:30",
                    "2025年11月30日 21:30",
                    "今天 08:05",
                ], engine
            if route is not None:
                assert layout["tabs"] and layout["tabs"][1] == 640, f"{engine} {name}: tab bar"
            shots[engine] = phone.screenshot(tmp_path / f"{name}-{engine}.png")
        side_by_side(shots, screenshot_dir / f"engines-{name}.png")
        # the frame of the app is drawn the same way by every engine (±3 CSS px)
        for part in ("header", "tabs"):
            boxes = [layouts[f"{name}/{e}"][part] for e in phones]
            if all(b is None for b in boxes):
                continue
            assert all(b is not None for b in boxes), (name, part, boxes)
            for edge in range(4):
                values = [b[edge] for b in boxes]
                assert max(values) - min(values) <= 3, (name, part, boxes)
