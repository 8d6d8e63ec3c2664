"""One Playwright and one headless Chromium for the whole test session (Debian's chromium).

Shared by the PWA and back-office browser tests: two `sync_playwright()` instances cannot
run in one thread. Never `playwright install`: the browser comes from Debian (`make chromium`).

Also the one place that decides where screenshots go: a folder under pytest's temporary
directory, so a test run never dirties the git tree, unless `--update-screenshots` (or
`WANGGE_UPDATE_SCREENSHOTS=1`) asks for the committed ones in docs/screenshots/ to be redrawn.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("WANGGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: run `make chromium` (as root) first"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


# --- screenshots ---------------------------------------------------------------------------

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
UPDATE_SCREENSHOTS_ENV = "WANGGE_UPDATE_SCREENSHOTS"
UPDATE_SCREENSHOTS_OPTION = "--update-screenshots"


def add_screenshot_option(parser: pytest.Parser) -> None:
    """Register `--update-screenshots` (called from the root conftest's pytest_addoption)."""
    parser.addoption(
        UPDATE_SCREENSHOTS_OPTION,
        action="store_true",
        default=False,
        help=f"rewrite docs/screenshots/ from the browser tests (or {UPDATE_SCREENSHOTS_ENV}=1)",
    )


def screenshots_requested(config: pytest.Config) -> bool:
    """True when this run should rewrite the committed screenshots in docs/screenshots/."""
    if config.getoption(UPDATE_SCREENSHOTS_OPTION, default=False):
        return True
    return os.environ.get(UPDATE_SCREENSHOTS_ENV, "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def screenshot_dir(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """docs/screenshots/ when asked for, otherwise a fresh folder under pytest's basetemp."""
    if screenshots_requested(request.config):
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def screenshot(screenshot_dir: Path) -> Callable[..., Path]:
    """`screenshot(page, "name")` saves name.png (full page unless told; `scale="css"` for a
    phone's screen at CSS size, small) and returns its path.

    Always taken, so a test still makes the browser render the whole page; only where it is
    written depends on the flag.
    """

    def take(page: Any, name: str, *, full_page: bool = True, scale: str = "device") -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, scale=scale)
        assert path.stat().st_size > 0, f"empty screenshot {path}"
        return path

    return take
