"""Home page, language switch and the health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from server import REPO_ROOT, clock
from server import home as home_lists
from server.auth import page_login_required
from server.exceptions import NotFound
from server.extensions import db
from server.web import health, source

bp = Blueprint("web", __name__)


@bp.route("/")
@page_login_required()
def home() -> str:
    """The signed-in person's to-do list (server/home), then the district in figures."""
    todo = home_lists.for_user(
        db.session,
        current_user,
        now=clock.now(),
        today=clock.today(),
        language="en" if str(get_locale()) == "en" else "zh",
    )
    return render_template("home.html", todo=todo, summary=health.district_summary(db.session))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str) -> Response:
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    target = request.form.get("next") or request.referrer or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect(target)


@bp.route("/healthz/live")
def healthz_live() -> tuple[Any, int]:
    """Liveness: the process is up (no database touched)."""
    return jsonify(health.alive(current_app.config.get("WANGGE_VERSION", ""))), 200


@bp.route("/healthz")
@bp.route("/healthz/ready")
def healthz() -> tuple[Any, int]:
    """Readiness: the database answers and its schema is this code's head or newer on its line."""
    extensions = current_app.extensions
    if "wangge.code_revisions" not in extensions:
        extensions["wangge.code_revisions"] = health.code_revisions(extensions["migrate"].directory)
    report = health.check(
        db.session,
        current_app.config.get("WANGGE_VERSION", ""),
        code=extensions["wangge.code_revisions"],
    )
    return jsonify(report), 200 if report["status"] == "ok" else 503


@bp.route("/source.tar.gz")
def source_archive() -> Response:
    """The Corresponding Source of the running version, for anyone (AGPL section 13): where
    SOURCE_URL says, else an archive of the checkout the server runs from."""
    elsewhere = current_app.config.get("SOURCE_URL")
    if elsewhere:
        return redirect(str(elsewhere))
    if not source.is_checkout(REPO_ROOT):
        raise NotFound(_("This installation does not hold its source: set WANGGE_SOURCE_URL."))
    version = str(current_app.config.get("WANGGE_VERSION") or "0").replace("/", "-")
    name = f"wangge-{version}"
    body = source.cached_archive(REPO_ROOT, name)
    response = Response(body, mimetype="application/gzip")
    response.headers["Content-Disposition"] = f"attachment; filename={name}-source.tar.gz"
    response.headers["Cache-Control"] = "public, max-age=3600"
    # The same tree gives the same bytes: a cache or a mirror that has them gets a 304.
    response.set_etag(source.cached_etag(REPO_ROOT, name))
    return response.make_conditional(request)
