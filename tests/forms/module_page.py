"""A Chromium page whose origin serves pwa/ from disk (no server, no database): for tests of
the plain ES modules under pwa/js/forms/."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PWA = Path(__file__).resolve().parents[2] / "pwa"
ORIGIN = "http://forms.test"
BLANK = "<!doctype html><meta charset=utf-8><title>forms</title><main id=root></main>"


@contextmanager
def open_module_page(
    browser: Any, *, width: int = 360, height: int = 640, locale: str = "zh-CN"
) -> Iterator[Any]:
    """A page at http://forms.test/ where /js/… and /app.css are pwa/'s files."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN).split("?")[0]
        if path == "/":
            route.fulfill(status=200, content_type="text/html", body=BLANK)
            return
        file = (PWA / path.lstrip("/")).resolve()
        if PWA not in file.parents or not file.is_file():
            route.fulfill(status=404, body="")
            return
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if file.suffix == ".js":
            kind = "text/javascript"
        route.fulfill(status=200, content_type=kind, body=file.read_bytes())

    context.route(f"{ORIGIN}/**", serve)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{ORIGIN}/")
        yield page
        assert errors == [], errors
    finally:
        context.close()
