"""The address check page: place households whose address matched no single door."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from server.addresses import review
from server.audit.operations import AccessContext
from server.auth import page_login_required
from server.exceptions import WanggeError
from server.extensions import db
from server.grid.index import index_cache
from server.imports.access import ANY_IMPORTER
from server.locations import point_from_text

bp = Blueprint("addresses", __name__, url_prefix="/addresses", template_folder="templates")


@bp.route("/check")
@page_login_required(*ANY_IMPORTER)
def check() -> str:
    items, total = review.open_items(db.session)
    return render_template(
        "addresses/check.html",
        items=items,
        total=total,
    )


@bp.route("/doors.geojson")
@page_login_required(*ANY_IMPORTER)
def doors() -> Response:
    return jsonify(review.doors_geojson(db.session))


def _point() -> tuple[float, float] | None:
    """The picked point, whole or none (raises InvalidInput for half a point)."""
    return point_from_text(request.form.get("lon"), request.form.get("lat"))


@bp.route("/check/<int:review_id>", methods=["POST"])
@page_login_required(*ANY_IMPORTER)
def resolve(review_id: int) -> Response:
    door = request.form.get("door_id", "")
    grid = index_cache(current_app).current(db.session)
    try:
        review.resolve(
            db.session,
            AccessContext(current_user.id, request.remote_addr, g.get("request_id")),
            review_id,
            door_id=int(door) if door.isdigit() else None,
            point=None if door.isdigit() else _point(),
            grid=grid.index if grid else None,
        )
    except WanggeError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("addresses.check"))
    db.session.commit()
    flash(_("Placed."), "info")
    return redirect(url_for("addresses.check"))
