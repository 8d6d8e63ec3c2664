"""Serve the worker's PWA (`pwa/`, plain files, no build step) at /app/."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, send_from_directory

from server import REPO_ROOT

bp = Blueprint("pwa", __name__)


def pwa_dir() -> Path:
    """`pwa/` of the checkout; `PWA_DIR` (WANGGE_PWA_DIR) points elsewhere, e.g. in tests
    that publish a new version of the app to check the update flow."""
    return Path(current_app.config.get("PWA_DIR") or REPO_ROOT / "pwa")


@bp.get("/app")
def app_root_without_slash() -> Response:
    return redirect("/app/", code=301)  # type: ignore[return-value]


@bp.get("/app/")
@bp.get("/app/<path:filename>")
def pwa_file(filename: str = "index.html") -> Response:
    response = send_from_directory(pwa_dir(), filename, max_age=0)
    if filename == "sw.js":
        # The worker sits in /app/ already; the header pins its scope there explicitly.
        response.headers["Service-Worker-Allowed"] = "/app/"
    # Always revalidate: the service worker owns offline caching, and its precache must
    # never install a stale copy out of the HTTP cache (it also fetches with cache:'reload').
    response.headers["Cache-Control"] = "no-cache"
    if filename.endswith(".webmanifest"):
        response.mimetype = "application/manifest+json"
    return response
