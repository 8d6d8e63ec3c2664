"""The served sw.js carries a hash of the app shell; any shell change gives a new version."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from server import REPO_ROOT
from server.pwa_shell import PLACEHOLDER, ShellError, render_worker

# Serving files touches no database: one backend is enough.
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

VERSION = re.compile(r"^const VERSION = '([0-9a-f]{16})';$", re.M)


@pytest.fixture
def pwa(tmp_path: Path) -> Path:
    copy = tmp_path / "pwa"
    shutil.copytree(REPO_ROOT / "pwa", copy)
    return copy


@pytest.fixture
def sw(make_app: Callable[..., Any], pwa: Path) -> Callable[..., Any]:
    client = make_app(PWA_DIR=str(pwa)).test_client()
    return lambda **kw: client.get("/app/sw.js", **kw)


def served_version(response: Any) -> str:
    found = VERSION.search(response.get_data(as_text=True))
    assert found, "sw.js carries no hashed VERSION"
    return found.group(1)


def test_the_checked_in_worker_keeps_a_placeholder_and_stays_valid_javascript() -> None:
    source = (REPO_ROOT / "pwa" / "sw.js").read_text(encoding="utf-8")
    assert source.count(PLACEHOLDER) == 1


@ON_SQLITE
def test_served_worker_carries_a_hash_and_is_never_taken_from_the_http_cache(sw: Any) -> None:
    response = sw()
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/app/"
    assert "Content-Security-Policy" in response.headers
    version = served_version(response)
    assert PLACEHOLDER not in response.get_data(as_text=True)
    assert response.headers["ETag"] == f'"{version}"'
    again = sw(headers={"If-None-Match": f'"{version}"'})
    assert again.status_code == 304


@ON_SQLITE
@pytest.mark.parametrize("name", ["index.html", "app.css", "js/ui.js", "icons/icon-192.png"])
def test_changing_any_shell_file_changes_the_served_version(sw: Any, pwa: Path, name: str) -> None:
    before = served_version(sw())
    with (pwa / name).open("ab") as handle:
        handle.write(b"\n/* next release */\n")
    after = served_version(sw())
    assert after != before
    assert served_version(sw()) == after  # stable while nothing changes


@ON_SQLITE
def test_adding_a_file_to_the_shell_list_changes_the_version(sw: Any, pwa: Path) -> None:
    before = served_version(sw())
    (pwa / "js" / "extra.js").write_text("export const extra = 1;\n", encoding="utf-8")
    worker = pwa / "sw.js"
    worker.write_text(
        worker.read_text(encoding="utf-8").replace("'js/uuid.js',", "'js/uuid.js', 'js/extra.js',"),
        encoding="utf-8",
    )
    assert served_version(sw()) != before


@ON_SQLITE
def test_a_file_outside_the_shell_does_not_change_the_version(sw: Any, pwa: Path) -> None:
    before = served_version(sw())
    (pwa / "icons" / "make_icons.py").write_text("# edited\n", encoding="utf-8")
    assert served_version(sw()) == before


def test_a_shell_entry_that_does_not_exist_is_an_error_not_a_silent_version(pwa: Path) -> None:
    (pwa / "app.css").unlink()
    with pytest.raises(ShellError, match=r"app\.css"):
        render_worker(pwa)


def test_a_worker_without_the_placeholder_is_an_error(pwa: Path) -> None:
    worker = pwa / "sw.js"
    worker.write_text(worker.read_text().replace(PLACEHOLDER, "const VERSION = 'v9';"))
    with pytest.raises(ShellError, match="VERSION"):
        render_worker(pwa)
