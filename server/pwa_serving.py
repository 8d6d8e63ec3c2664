"""Serve the worker's PWA (`pwa/`, plain files, no build step) at /app/."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, request, send_from_directory

from server import REPO_ROOT
from server.pwa_shell import WorkerCache

bp = Blueprint("pwa", __name__)


def pwa_dir() -> Path:
    """`pwa/` of the checkout; `PWA_DIR` (WANGGE_PWA_DIR) points elsewhere, e.g. in tests
    that publish a new version of the app to check the update flow."""
    return Path(current_app.config.get("PWA_DIR") or REPO_ROOT / "pwa")


@bp.get("/app")
def app_root_without_slash() -> Response:
    return redirect("/app/", code=301)  # type: ignore[return-value]


def service_worker() -> Response:
    """sw.js with VERSION filled in from a hash of the shell it precaches (server/pwa_shell.py)."""
    cache = current_app.extensions.setdefault("wangge_pwa_worker", WorkerCache())
    rendered = cache.get(pwa_dir())
    response = Response(rendered.body, mimetype="text/javascript")
    response.set_etag(rendered.version)
    # The worker sits in /app/ already; the header pins its scope there explicitly.
    response.headers["Service-Worker-Allowed"] = "/app/"
    return response.make_conditional(request)


@bp.get("/app/")
@bp.get("/app/<path:filename>")
def pwa_file(filename: str = "index.html") -> Response:
    if filename == "sw.js":
        response = service_worker()
    else:
        response = send_from_directory(pwa_dir(), filename, max_age=0)
    # Always revalidate: the service worker owns offline caching, and its precache must
    # never install a stale copy out of the HTTP cache (it also fetches with cache:'reload').
    response.headers["Cache-Control"] = "no-cache"
    if filename.endswith(".webmanifest"):
        response.mimetype = "application/manifest+json"
    return response
