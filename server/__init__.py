"""The Wangge Flask application: `create_app()` builds it; nothing happens at import time."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from flask import Flask

REPO_ROOT = Path(__file__).resolve().parents[1]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error handlers and CLI commands."""
    from server import app_setup

    app = Flask(__name__, instance_path=_instance_path(config))
    app_setup.configure(app, config)
    app_setup.init_extensions(app)
    app_setup.register_blueprints(app)
    app_setup.register_hooks(app)
    app_setup.register_cli(app)
    return app


def _instance_path(config: dict[str, Any] | None) -> str:
    import os

    configured = (config or {}).get("INSTANCE_PATH") or os.environ.get("WANGGE_INSTANCE_PATH")
    return str(Path(configured).resolve()) if configured else str(REPO_ROOT / "instance")


def version() -> str:
    """The release this process runs: the package version and, when known, its commit.

    `WANGGE_RELEASE` (set by a deployment) wins; else the checkout's commit (git), else the
    commit the package was built from (`server/RELEASE`, written by the package build:
    setup.py; git may refuse a checkout owned by another user). `/healthz` reports it, so
    two servers answering differently are two releases.
    """
    import os

    try:
        base = metadata.version("wangge")
    except metadata.PackageNotFoundError:  # running from a checkout that was not installed
        base = "0.0.0"
    release = os.environ.get("WANGGE_RELEASE") or _checkout_commit() or _built_release()
    return f"{base}+{release}" if release else base


def _built_release() -> str | None:
    marker = Path(__file__).with_name("RELEASE")
    try:
        return marker.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


_COMMIT: list[str | None] = []


def _checkout_commit() -> str | None:
    """`git rev-parse --short HEAD` of the checkout the code runs from (once per process)."""
    if not _COMMIT:
        _COMMIT.append(_git_commit(REPO_ROOT))
    return _COMMIT[0]


def _git_commit(root: Path) -> str | None:
    import subprocess

    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    if done.returncode != 0 or not commit:
        return None
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    )
    return f"g{commit}.dirty" if dirty.stdout.strip() else f"g{commit}"
