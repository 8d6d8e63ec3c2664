"""Password reset pages: "forgot password" (a mailed link) and the one-time link itself."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from server import clock
from server.accounts import mail, resets
from server.accounts.models import User
from server.accounts.passwords import MIN_PASSWORD_LENGTH
from server.audit.operations import AccessContext
from server.exceptions import InvalidInput
from server.extensions import db

bp = Blueprint("password_reset", __name__, template_folder="templates")

#: What the request log writes instead of the path: the token must not end up in logs.
LOGGED_PATH = "/password-reset/<token>"


def lifetime() -> dt.timedelta:
    return dt.timedelta(hours=int(current_app.config["PASSWORD_RESET_HOURS"]))


def reset_link(token: str) -> str:
    """The absolute link: WANGGE_PUBLIC_URL (an origin) if set, else this request's host.

    Mailed links never come here without WANGGE_PUBLIC_URL (`mail_for_resets`): a Host
    header is the requester's choice, and a forged one would mail a victim a link to the
    forger's server. The administrator's page may show a link on the host they are using.
    """
    public = current_app.config.get("PUBLIC_URL")
    if public:
        return str(public).rstrip("/") + url_for("password_reset.reset", token=token)
    return url_for("password_reset.reset", token=token, _external=True)


def mail_for_resets() -> mail.MailSettings | None:
    """SMTP settings when reset links may be mailed: mail configured AND a public URL."""
    if not current_app.config.get("PUBLIC_URL"):
        return None
    return mail.settings_from_config(current_app.config)


def private(response: Response) -> Response:
    """Pages that carry a reset token: never sent on as Referer, never cached."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _context() -> AccessContext:
    return AccessContext(None, request.remote_addr, g.get("request_id"))


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot() -> str:
    """Always the same answer, whether or not the username exists (no enumeration)."""
    settings = mail_for_resets()
    hours = int(current_app.config["PASSWORD_RESET_HOURS"])
    if request.method == "POST" and settings is not None:
        found = resets.request_reset_by_mail(
            db.session,
            request.form.get("username", ""),
            at=clock.now(),
            lifetime=lifetime(),
            max_per_hour=int(current_app.config["PASSWORD_RESET_MAILS_PER_HOUR"]),
            context=_context(),
        )
        db.session.commit()
        if found is not None:
            user, token = found
            locale = user.locale or str(get_locale())
            message = mail.reset_message(
                settings,
                to=str(user.email),
                display_name=user.display_name,
                link=reset_link(token),
                hours=hours,
                locale=locale,
            )
            mail.send_in_background(settings, message)
    sent = request.method == "POST"
    return render_template(
        "accounts/forgot.html", mail_enabled=settings is not None, sent=sent, hours=hours
    )


@bp.before_request
def _keep_tokens_out_of_logs() -> None:
    if request.endpoint == "password_reset.reset":
        request.environ["wangge.log_path"] = LOGGED_PATH


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Response:
    """The link: a form for the new password; used once, then the login page."""
    now = clock.now()
    try:
        user = resets.user_of(db.session, resets.find_reset(db.session, token, at=now))
        if request.method == "POST":
            resets.complete_reset(
                db.session,
                token,
                password=request.form.get("password", ""),
                confirm=request.form.get("confirm", ""),
                at=now,
                context=_context(),
            )
            db.session.commit()
            flash(_("Your password was changed and you were signed out everywhere."), "info")
            return private(redirect(url_for("accounts.login")))
    except resets.ResetLinkInvalid as error:
        db.session.rollback()
        page = render_template("accounts/reset_invalid.html", message=error.message)
        return private(make_response(page, 404 if error.reason == "unknown" else 410))
    except InvalidInput as error:
        db.session.rollback()
        return private(make_response(_form(user, error=str(error.message)), 422))
    return private(make_response(_form(user)))


def _form(user: User, error: str | None = None) -> str:
    return render_template(
        "accounts/reset.html", user=user, error=error, min_length=MIN_PASSWORD_LENGTH
    )
