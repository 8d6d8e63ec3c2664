"""Running the app for real: request logs, metrics, health, backups and security headers."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Install the request log, the metrics hooks and the security headers on `app`."""
    from server.ops import headers, logs, metrics

    logs.init_app(app)
    metrics.init_app(app)
    headers.init_app(app)
