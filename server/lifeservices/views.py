"""Directory pages at /services/ (public) and the bookings desk at /bookings/ (staff)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from server import clock
from server.auth import page_login_required
from server.enums import Role
from server.exceptions import WanggeError
from server.extensions import db
from server.lifeservices import operations, queries
from server.lifeservices.models import POINT_KINDS, ServicePoint, ServiceSlot
from server.residents.limits import spend
from server.residents.sms import redact
from server.residents.views import DAY, HOUR, _guard_form, form_stamp

bp = Blueprint("lifeservices", __name__, url_prefix="/services", template_folder="templates")


@bp.before_request
def _mask_private_links_in_logs() -> None:
    """The request log gets /services/b/… instead of the booking link's token."""
    request.environ["wangge.log_path"] = redact(request.path)


desk = Blueprint("bookings", __name__, url_prefix="/bookings", template_folder="templates")


@bp.route("/")
def directory() -> str:
    q, kind = request.args.get("q", ""), request.args.get("kind", "")
    return render_template(
        "lifeservices/directory.html",
        points=queries.points(db.session, q, kind if kind in POINT_KINDS else ""),
        ratings=queries.ratings(db.session),
        kinds=POINT_KINDS,
        q=q,
        kind=kind,
    )


@bp.route("/points.geojson")
def points_geojson() -> Response:
    return jsonify(queries.points_geojson(db.session))


def _point(code: str) -> ServicePoint:
    point = db.session.scalar(select(ServicePoint).where(ServicePoint.code == code))
    if point is None or not point.is_active:
        abort(404)
    return point


@bp.route("/p/<code>")
def point(code: str) -> str:
    return _point_page(_point(code))


def _point_page(
    p: ServicePoint,
    *,
    slot_id: int | None = None,
    form: dict[str, str] | None = None,
    error: str = "",
) -> str:
    """The point's page; after a refused booking, that slot's form open with the resident's
    values and the reason (and the form's first time stamp, so a quick retry is accepted)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    slots = queries.upcoming_slots(db.session, p, now=clock.now(), zone=zone)
    days: dict[dt.date, list[ServiceSlot]] = {}
    for s in slots:
        days.setdefault(s.starts_at.astimezone(zone).date(), []).append(s)
    form = form or {}
    return render_template(
        "lifeservices/point.html",
        point=p,
        days=days,
        reviews=queries.reviews(db.session, p.id),
        rating=queries.ratings(db.session).get(p.id),
        form_ts=form_stamp(form.get("form_ts")),
        open_slot=slot_id,
        listed=slot_id is not None and any(s.id == slot_id for s in slots),
        form=form,
        error=error,
    )


@bp.route("/slots/<int:slot_id>/book", methods=["POST"])
def book(slot_id: int) -> Any:
    form = request.form.to_dict()
    try:
        _guard_form(form)
        spend(
            db.session,
            f"book-ip:{request.remote_addr}",
            limit=current_app.config["REPORT_LIMIT_PER_IP_HOUR"],
            window_s=HOUR,
            at=clock.now(),
        )
        phone = operations.clean_phone(form.get("phone", ""))
        spend(
            db.session,
            f"book-phone:{phone}",
            limit=current_app.config["REPORT_LIMIT_PER_PHONE_DAY"],
            window_s=DAY,
            at=clock.now(),
        )
        booking, token = operations.book(
            db.session, slot_id, name=form.get("name", ""), phone=phone, at=clock.now()
        )
    except WanggeError as error:
        db.session.rollback()
        status = {"throttled": 429, "slot_full": 409, "not_found": 404}.get(error.code, 422)
        if request.accept_mimetypes.best == "application/json":
            return jsonify({"code": error.code, "detail": str(error.message)}), status
        slot = db.session.get(ServiceSlot, slot_id)
        if slot is None or not slot.point.is_active:
            return render_template("lifeservices/booked.html", error=str(error.message)), status
        page = _point_page(slot.point, slot_id=slot_id, form=form, error=str(error.message))
        return page, status
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify(
            {"booking": booking.id, "url": url_for("lifeservices.booking", token=token)}
        ), 201
    return redirect(url_for("lifeservices.booking", token=token), code=303)


@bp.route("/b/<token>", methods=["GET", "POST"])
def booking(token: str) -> Any:
    try:
        b = operations.booking_for_token(db.session, token[:64])
    except WanggeError:
        return render_template("lifeservices/booked.html", error=_("This link is not valid.")), 404
    error = None
    if request.method == "POST":
        try:
            score = int(request.form.get("score", "0") or 0)
            operations.review(
                db.session, b, score=score, comment=request.form.get("comment", ""), at=clock.now()
            )
            db.session.commit()
            flash(_("Thank you for your review."), "info")
            return redirect(url_for("lifeservices.booking", token=token), code=303)
        except (WanggeError, ValueError) as e:
            db.session.rollback()
            error = str(e.message) if isinstance(e, WanggeError) else _("A rating is 1 to 5.")
    from server.lifeservices.models import ServiceReview

    reviewed = db.session.scalar(select(ServiceReview).where(ServiceReview.booking_id == b.id))
    can_review = b.status == "confirmed" and b.slot.ends_at <= clock.now() and reviewed is None
    return render_template(
        "lifeservices/booked.html",
        booking=b,
        reviewed=reviewed,
        can_review=can_review,
        error=error,
        token=token[:64],
    )


@desk.route("/")
@page_login_required(Role.DISPATCHER, Role.ADMIN)
def index() -> str:
    status = request.args.get("status", "pending")
    return render_template(
        "lifeservices/desk.html", bookings=queries.bookings(db.session, status), status=status
    )


@desk.route("/<int:booking_id>/<any(confirmed,cancelled):decision>", methods=["POST"])
@page_login_required(Role.DISPATCHER, Role.ADMIN)
def decide(booking_id: int, decision: str) -> Response:
    from server.lifeservices.models import Booking

    b = db.session.get(Booking, booking_id)
    if b is None:
        abort(404)
    try:
        operations.decide(db.session, b, current_user, decision, at=clock.now())
        db.session.commit()
    except WanggeError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    return redirect(url_for("bookings.index", status=request.args.get("status", "pending")))  # type: ignore[return-value]


@desk.route("/reviews/<int:review_id>/reply", methods=["POST"])
@page_login_required(Role.DISPATCHER, Role.ADMIN)
def reply(review_id: int) -> Response:
    try:
        row = operations.reply(
            db.session, review_id, current_user, request.form.get("reply", ""), at=clock.now()
        )
        db.session.commit()
    except WanggeError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("bookings.index"))  # type: ignore[return-value]
    point = db.session.get(ServicePoint, row.point_id)
    return redirect(url_for("lifeservices.point", code=point.code if point else ""))  # type: ignore[return-value]
