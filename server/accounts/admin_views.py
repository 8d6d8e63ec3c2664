"""Administrators' user list, with a one-time password-reset link per account."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from server import clock
from server.accounts import operations as accounts
from server.accounts import resets
from server.accounts.models import User
from server.accounts.reset_views import lifetime, private, reset_link
from server.audit.operations import AccessContext
from server.auth import page_login_required
from server.enums import Role
from server.exceptions import Conflict
from server.extensions import db

bp = Blueprint("users", __name__, url_prefix="/admin/users", template_folder="templates")


@bp.route("/")
@page_login_required(Role.ADMIN)
def index() -> str:
    return render_template(
        "accounts/users.html",
        users=accounts.list_users(db.session),
        live=resets.live_links(db.session, at=clock.now()),
    )


@bp.route("/<int:user_id>/reset-link", methods=["POST"])
@page_login_required(Role.ADMIN)
def reset_link_for(user_id: int) -> Response:
    """Issue a link and show it once (in this answer only: never in a flash or a URL)."""
    user = db.session.get(User, user_id) or abort(404)
    context = AccessContext(current_user.id, request.remote_addr, g.get("request_id"))
    now = clock.now()
    try:
        token = resets.issue_reset_link(
            db.session, user, at=now, lifetime=lifetime(), channel="admin", context=context
        )
    except Conflict as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("users.index"))
    db.session.commit()
    page = render_template(
        "accounts/link_issued.html",
        user=user,
        link=reset_link(token),
        expires_at=now + lifetime(),
    )
    return private(make_response(page))
