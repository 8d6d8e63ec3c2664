"""The program's own source, as the AGPL asks of a network service (LICENSE, section 13).

Anyone who uses the server over the network may download the Corresponding Source of the
version that serves them, at no charge: `/source.tar.gz` is built from the files this process
runs from, so an office that changes the code offers its changed code without doing anything.

Only the program's own folders and files go in (`INCLUDED`); the instance folder (database,
photos, secrets), the virtualenv, caches, the documentation's screenshots and the tests' data
files (third parties' data) never do. The archive is reproducible: sorted names, fixed times
and owners, so the same tree gives the same bytes. It is built once per process (about 2 s of
CPU) and kept in memory (about 1.7 MB).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import tarfile
from pathlib import Path

#: What the archive holds, relative to the repository's root.
INCLUDED = (
    ".ci",
    "bench",
    "docs",
    "geo",
    "migrations",
    "pwa",
    "server",
    "sync",
    "tests",
    "Makefile",
    "README.md",
    "LICENSE",
    "babel.cfg",
    "gunicorn.conf.py",
    "pyproject.toml",
    "setup.py",
    "wsgi.py",
)
#: Folders skipped wherever they are; file endings skipped.
_SKIPPED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
#: Left out: the documentation's screenshots are pictures of the program, not its source
#: (about 25 MB); the tests' data files are third parties' data, some of it (DataV boundaries)
#: with no licence to pass on (tests/data/geo/real/PROVENANCE.md) and none needed to run.
_SKIPPED_PATHS = frozenset({"docs/screenshots", "tests/data"})


def is_checkout(root: Path) -> bool:
    """Whether `root` is the program's own tree (not, say, site-packages of a wheel install)."""
    return (root / "pyproject.toml").is_file() and (root / "wsgi.py").is_file()


def source_files(root: Path) -> list[Path]:
    """The files of the archive, relative to `root`, sorted; missing entries are left out."""
    found: list[Path] = []
    for name in INCLUDED:
        path = root / name
        if path.is_file():
            found.append(Path(name))
        elif path.is_dir():
            found.extend(_walk(root, path))
    return sorted(found)


def _walk(root: Path, folder: Path) -> list[Path]:
    out: list[Path] = []
    for entry in folder.iterdir():
        relative = entry.relative_to(root)
        if entry.is_symlink():
            continue  # nothing outside the tree gets in through a link
        if entry.is_dir():
            if entry.name not in _SKIPPED_DIRS and relative.as_posix() not in _SKIPPED_PATHS:
                out.extend(_walk(root, entry))
        elif entry.is_file() and not entry.name.endswith(_SKIPPED_SUFFIXES):
            out.append(relative)
    return out


def build_archive(root: Path, prefix: str) -> bytes:
    """A gzipped tar of `source_files(root)` under the folder `prefix`, reproducible."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for relative in source_files(root):
            data = (root / relative).read_bytes()
            info = tarfile.TarInfo(f"{prefix}/{relative.as_posix()}")
            info.size = len(data)
            executable = (root / relative).stat().st_mode & 0o111
            info.mode = 0o755 if executable else 0o644
            info.mtime = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@functools.lru_cache(maxsize=2)
def cached_archive(root: Path, prefix: str) -> bytes:
    """`build_archive`, once per process (the code does not change under a running server)."""
    return build_archive(root, prefix)


@functools.lru_cache(maxsize=2)
def cached_etag(root: Path, prefix: str) -> str:
    """A strong validator of `cached_archive`'s bytes (reproducible: same tree, same tag)."""
    return hashlib.sha256(cached_archive(root, prefix)).hexdigest()[:32]
