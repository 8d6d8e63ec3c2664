"""The service worker's cache version: a hash of sw.js and of every app-shell file it names.

`pwa/sw.js` says `const VERSION = 'dev';`; the server fills in a hash of that file and of
every file in its `SHELL` list, so any change to the shell gives phones a new sw.js (the
browser compares it byte for byte), a new cache name and the "update available" prompt. A
forgotten manual bump used to leave phones on an old shell for good.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from werkzeug.security import safe_join

PLACEHOLDER = "const VERSION = 'dev';"
_SHELL = re.compile(r"const SHELL = \[(.*?)\];", re.S)
_ENTRY = re.compile(r"'([^']+)'")
HASH_LENGTH = 16


class ShellError(RuntimeError):
    """sw.js lacks the VERSION placeholder or the SHELL list, or names a missing file."""


@dataclass(frozen=True)
class RenderedWorker:
    version: str
    body: bytes


def shell_names(source: str) -> list[str]:
    """The names in sw.js's `const SHELL = [...]`, in order.

    >>> shell_names("const SHELL = [\\n  './', 'app.css',\\n];")
    ['./', 'app.css']
    """
    found = _SHELL.search(source)
    if found is None:
        raise ShellError("sw.js has no `const SHELL = [...];` list")
    return _ENTRY.findall(found.group(1))


def _shell_file(pwa: Path, name: str) -> Path:
    """The file the server sends for `name`: a folder URL ('./') is its index.html."""
    relative = name.removeprefix("./")
    if relative == "" or relative.endswith("/"):
        relative += "index.html"
    joined = safe_join(str(pwa), relative)
    if joined is None:
        raise ShellError(f"sw.js precaches {name!r}, outside the app folder")
    return Path(joined)


def shell_version(pwa: Path, source: str) -> str:
    """A hex digest of sw.js's source and of each shell file's name and bytes."""
    digest = hashlib.sha256(source.encode("utf-8"))
    for name in shell_names(source):
        path = _shell_file(pwa, name)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise ShellError(f"sw.js precaches {name!r}, but {path} does not exist") from None
        digest.update(b"\0" + name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()[:HASH_LENGTH]


def render_worker(pwa: Path) -> RenderedWorker:
    """sw.js with its VERSION placeholder replaced by `shell_version`."""
    source = (pwa / "sw.js").read_text(encoding="utf-8")
    if source.count(PLACEHOLDER) != 1:
        raise ShellError(f"sw.js must contain {PLACEHOLDER!r} exactly once")
    version = shell_version(pwa, source)
    body = source.replace(PLACEHOLDER, f"const VERSION = '{version}';")
    return RenderedWorker(version, body.encode("utf-8"))


def _signature(pwa: Path) -> tuple[tuple[str, int, int], ...]:
    """Size and mtime of sw.js and its shell files: cheap to read, changes with any edit."""
    sw = pwa / "sw.js"
    paths = [sw, *(_shell_file(pwa, n) for n in shell_names(sw.read_text(encoding="utf-8")))]
    stats = []
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            stats.append((str(path), -1, -1))
            continue
        stats.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(stats)


class WorkerCache:
    """The rendered sw.js per app folder, hashed once and again only when a file changes.

    The hash reads every shell file (~1 MB); the signature check is a few dozen stat calls,
    so an edited file during development still gets a new version without a restart.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rendered: dict[Path, tuple[tuple[tuple[str, int, int], ...], RenderedWorker]] = {}

    def get(self, pwa: Path) -> RenderedWorker:
        signature = _signature(pwa)
        with self._lock:
            cached = self._rendered.get(pwa)
            if cached is not None and cached[0] == signature:
                return cached[1]
            rendered = render_worker(pwa)
            self._rendered[pwa] = (signature, rendered)
            return rendered
