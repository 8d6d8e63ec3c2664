"""Swagger UI's files for the API docs page, served locally (no CDN: offices may be offline)."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, send_from_directory
from werkzeug.wrappers import Response

SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"

bp = Blueprint("docs_assets", __name__)


@bp.route("/api/v1/docs-assets/<path:filename>")
def swagger_asset(filename: str) -> Response:
    return send_from_directory(SWAGGER_DIST, filename, max_age=86400)
