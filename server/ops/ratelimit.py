"""Rate limits on sign-in and public endpoints (Flask-Limiter; counters in Redis when configured).

Limits are per client address (after ProxyFix) and per endpoint, declared in one table
(`RATELIMITS`, overridable as WANGGE_RATELIMITS). With `RATELIMIT_STORAGE_URI=redis://…`
every app server counts in the same place; the default `memory://` is per process and only
fit for one process (tests, `flask run`). They come on top of the per-username and
per-address failure throttling in the database (server/accounts).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

_EXTENSION_KEY = "wangge.limiter"


def init_app(app: Flask) -> None:
    """Bind a Limiter to `app` and attach the configured limits to already registered views."""
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    if app.config.get("RATELIMIT_ENABLED") is None:
        # Unit tests sign in hundreds of times from one address; they opt in explicitly.
        app.config["RATELIMIT_ENABLED"] = not app.testing
    limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
    limiter.init_app(app)
    app.extensions[_EXTENSION_KEY] = limiter
    table: dict[str, Any] = app.config.get("RATELIMITS") or {}
    for endpoint, spec in table.items():
        view = app.view_functions.get(endpoint)
        if view is None:  # an endpoint of a part not installed here (e.g. Open311 later)
            continue
        limit, _, methods = str(spec).partition(" on ")
        only = [m.strip() for m in methods.split(",")] if methods else None
        # The limit is checked when the view runs, so the wrapper replaces the view (outside
        # flask-smorest's argument parsing: a refused caller costs no validation).
        app.view_functions[endpoint] = limiter.limit(limit, methods=only)(view)
