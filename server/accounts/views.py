"""Back-office sign-in and sign-out pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from server.accounts import operations as accounts
from server.accounts.api import throttle_policy
from server.exceptions import AuthenticationFailed, Throttled
from server.extensions import db

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect after login is a phishing aid."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("web.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    try:
        user = accounts.authenticate(
            db.session,
            username=username,
            password=request.form.get("password", ""),
            ip=request.remote_addr or "?",
            policy=throttle_policy(),
        )
    except (AuthenticationFailed, Throttled) as error:
        db.session.commit()
        status = 429 if isinstance(error, Throttled) else 401
        return render_template(
            "login.html",
            error=str(error.message),
            username=username,
            next=request.form.get("next", ""),
        ), status
    db.session.commit()
    lang = session.get("lang")
    session.clear()  # no session fixation: a fresh session after sign-in
    if lang:
        session["lang"] = lang
    login_user(user)  # no welcome message: the header names who is signed in, once
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("accounts.login"))
