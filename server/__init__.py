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
    try:
        return metadata.version("wangge")
    except metadata.PackageNotFoundError:  # running from a checkout that was not installed
        return "0.0.0+unknown"
