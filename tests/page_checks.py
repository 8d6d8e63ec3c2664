"""The checks every browser 'day' test runs on each page, in one place (issue 15).

A `Day` is one Playwright context at one size with locale zh-CN; `day.look(name)` fails on a
console error or page error, a failed request or an HTTP error the step did not expect, a Latin
word outside the allow-list, a raw None/null/undefined/NaN, a rule or datum code shown as text
(`far_from_district`, `wgs84`), or an element wider than the viewport that no scrolling box
holds; then it takes the step's screenshot (tests/browser.py decides where it goes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

SIZES = {"desk": (1366, 800), "phone": (360, 640)}
#: Latin words a Chinese page may show: brands, file formats, units, the language switch, and
#: the map's data credit as its licence words it ("© OpenStreetMap contributors", set per layer).
ALLOWED = {"OpenStreetMap", "contributors", "OSM", "ODbL", "Leaflet", "CSV", "XLSX", "English"}
ALLOWED |= {"km", "API", "KB", "MB", "GIS", "GeoJSON", "Excel", "WKT", "EPSG", "xlsx", "csv"}
#: "AB角" (a principal and a deputy for one post) is how Chinese offices say it.
ALLOWED |= {"AB"}
#: The licence's name in the footer (源代码(AGPL-3.0)).
ALLOWED |= {"AGPL"}
#: A raw value, not part of a hyphenated name (the API docs' `If-None-Match` header).
RAW = re.compile(r"(?<![-\w])(None|null|undefined|NaN)(?![-\w])")
#: Machine codes that leak when a label is missing: snake_case rule codes and datum codes.
CODE = re.compile(r"\b([a-z]+(?:_[a-z0-9]+)+|wgs84|gcj02|bd09)\b", re.IGNORECASE)

#: The page's text without what is marked translate="no": user names, file names, unit and
#: item codes are names people type or read out, not words to translate.
TEXT_JS = """() => {
  const names = [...document.querySelectorAll('[translate=no]')].map((el) => el.innerText);
  return names.reduce((text, name) => text.split(name).join(' '), document.body.innerText);
}"""

#: Elements sticking out of the viewport, unless a box that scrolls or clips holds them.
OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + 1) continue;
    let held = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (['auto', 'scroll', 'hidden', 'clip'].includes(ox)) { held = true; break; }
    }
    const cls = typeof el.className === 'string' ? el.className : '';
    if (!held) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (cls ? '.' + cls.split(' ').join('.') : '') + ' right=' + Math.round(r.right));
  }
  return out.slice(0, 10);
}"""


def english_words(text: str, allowed: set[str] = ALLOWED) -> list[str]:
    """Latin words of two letters or more, leaving out tokens with digits (case numbers,
    codes, the version) and the allow-list.

    >>> english_words("案件 XH-20261126-0001 已派遣 · Case queue · OpenStreetMap 0.1.0+g3.dirty")
    ['Case', 'queue']
    """
    words = []
    for token in text.split():
        if any(c.isdigit() for c in token):
            continue
        words += [w for w in re.findall(r"[A-Za-z]{2,}", token) if w not in allowed]
    return words


def codes(text: str) -> list[str]:
    """Rule and datum codes shown as text.

    >>> codes("偏离辖区 far_from_district · 坐标 wgs84 · WGS-84 · 新华路_1号")
    ['far_from_district', 'wgs84']
    """
    return CODE.findall(text)


class Day:
    """One browser context at one size; `look(name)` checks the page and screenshots it."""

    def __init__(
        self,
        browser: Any,
        size: str,
        screenshot: Callable[..., Any],
        prefix: str,
        allowed: set[str] = ALLOWED,
    ) -> None:
        width, height = SIZES[size]
        self.size, self.screenshot, self.prefix, self.allowed = size, screenshot, prefix, allowed
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN"
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        page = self.page
        page.on(
            "console",
            lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on(
            "requestfailed",
            lambda r: (
                None
                if "ERR_ABORTED" in (r.failure or "")
                else self.problems.append(f"failed: {r.url} {r.failure}")
            ),
        )
        page.on(
            "response",
            lambda r: self.problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
        )
        page.set_default_timeout(30_000)

    def expect(self, status: int) -> None:
        """The step meant to get `status` (a refused form): drop that response and the console
        line Chromium logs for it; any other problem stays."""
        self.problems = [p for p in self.problems if f"{status}" not in p]

    def look(self, name: str, *, english: bool = True, full_page: bool = True) -> None:
        page = self.page
        # Names (translate="no") are left out of a Chinese page's text; an English page (the
        # API docs) is read whole.
        text = page.evaluate(TEXT_JS) if english else page.inner_text("body")
        if english:
            words = english_words(text, self.allowed)
            assert words == [], (name, words[:10])
        assert not RAW.search(text), (name, RAW.findall(text))
        if english:  # the API docs name their parameters
            assert codes(text) == [], (name, codes(text)[:10])
        assert page.evaluate(OVERFLOW_JS) == [], (name, page.evaluate(OVERFLOW_JS))
        self.screenshot(page, f"{self.prefix}-{self.size}-{name}", full_page=full_page)
        assert self.problems == [], (name, self.problems)

    def login(self, server: str, username: str) -> None:
        self.context.clear_cookies()
        self.page.goto(f"{server}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", "wangge-demo")
        self.page.click("main button[type=submit]")
        self.page.wait_for_url(f"{server}/")
