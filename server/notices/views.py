"""The notices page and the header badge."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from server import clock
from server.auth import page_login_required
from server.extensions import db
from server.notices import operations as notices

bp = Blueprint("notices", __name__, url_prefix="/notices", template_folder="templates")


@bp.route("/")
@page_login_required()
def index() -> str:
    return render_template(
        "notices/index.html", notices=notices.notices_for(db.session, current_user.id)
    )


@bp.route("/read", methods=["POST"])
@page_login_required()
def read() -> Response:
    raw = request.form.get("notice_id", "")
    notices.mark_read(
        db.session, current_user.id, int(raw) if raw.isdigit() else None, at=clock.now()
    )
    db.session.commit()
    return redirect(url_for("notices.index"), 303)


def init_app(app: Flask) -> None:
    @app.context_processor
    def _badge() -> dict[str, Any]:
        if current_user and current_user.is_authenticated:
            return {"unread_notices": notices.unread_count(db.session, current_user.id)}
        return {"unread_notices": 0}
