"""Residents' pages at /report/: report a matter (no sign-in), follow it, rate it."""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from server import clock
from server.audit.operations import AccessContext
from server.cases import lookups
from server.cases.photo_links import store_upload
from server.catalogue.models import CatalogueCategory
from server.exceptions import InvalidInput, NotFound, Throttled, WanggeError
from server.extensions import db
from server.locations import point_from_text
from server.mapview.queries import cells_geojson
from server.residents import operations
from server.residents.catalogue_pick import catalogue_groups
from server.residents.dates import FILTERS
from server.residents.limits import spend
from server.residents.sms import SmsFailed, SmsSender, redact, sender_from_config

bp = Blueprint(
    "residents",
    __name__,
    url_prefix="/report",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

HOUR, DAY = 3600, 86400
for _name, _filter in FILTERS.items():
    bp.add_app_template_filter(_filter, _name)
log = logging.getLogger(__name__)


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="resident-form")


class TooFast(InvalidInput):
    """Sent sooner after the page was served than a person fills it: wait and send again."""

    code = "too_fast"


def _guard_form(form: dict[str, str]) -> None:
    """The CAPTCHA-free flood guards (docs/residents.md): a honeypot field, a signed time
    the page was served (at least a few seconds before sending, at most a few days: the
    offline queue resends late), then per-IP limits."""
    if form.get("website"):
        raise InvalidInput(_("The form could not be accepted."), field="form")
    issued = _stamp_time(form.get("form_ts", ""))
    if issued is None:
        raise InvalidInput(_("The form has expired; reload the page."), field="form")
    age_s = clock.now().timestamp() - issued
    if age_s > 3 * DAY:
        raise InvalidInput(_("The form has expired; reload the page."), field="form")
    wait_s = current_app.config["REPORT_MIN_FILL_SECONDS"] - age_s
    if wait_s > 0:
        raise TooFast(
            _(
                "That was quicker than we accept from a person. Nothing is lost: wait "
                "%(s)d seconds and press the button again.",
                s=max(1, math.ceil(wait_s)),
            ),
            field="form",
            details={"retry_after_s": max(1, math.ceil(wait_s))},
        )


def _stamp_time(stamp: str) -> int | None:
    try:
        return int(_signer().loads(stamp))
    except (BadSignature, ValueError, TypeError):
        return None


def form_stamp(previous: str | None = None) -> str:
    """The signed time the form was served (the app's clock, so tests can move it).

    A form sent back with an error keeps its first stamp (`previous`, if still good): the
    resident has spent their time on it, and a quick second try is not a bot's.
    """
    issued = _stamp_time(previous or "")
    if issued is not None and 0 <= clock.now().timestamp() - issued < DAY:
        return str(previous)
    return _signer().dumps(int(clock.now().timestamp()))


def _limit(key: str, limit_name: str, window_s: int) -> None:
    spend(db.session, key, limit=current_app.config[limit_name], window_s=window_s, at=clock.now())


def _catalogue() -> list[CatalogueCategory]:
    return list(
        db.session.scalars(
            select(CatalogueCategory)
            .options(joinedload(CatalogueCategory.items))
            .order_by(CatalogueCategory.sort, CatalogueCategory.code)
        ).unique()
    )


def _intake(form: dict[str, str]) -> operations.ResidentIntake:
    item = form.get("catalogue_item_id") or ""
    if item and not item.isdigit():
        raise InvalidInput(_("Not a number."), field="catalogue_item_id")
    point = point_from_text(form.get("lon"), form.get("lat"))
    return operations.ResidentIntake(
        client_id=form.get("client_id", ""),
        description=form.get("description", ""),
        phone=form.get("phone", ""),
        catalogue_item_id=int(item) if item else None,
        address=form.get("address", ""),
        lon=point[0] if point else None,
        lat=point[1] if point else None,
        name=form.get("name", ""),
        phone_code=form.get("phone_code", ""),
        disclosure=operations.parse_disclosure(form.get("disclosure")),
    )


def _photos() -> list[str]:
    """Store the photos sent; one that cannot be read stops the report with its name and
    the reason (the page comes back with everything else kept), never dropped silently."""
    files = [f for f in request.files.getlist("photos") if f.filename or f.mimetype]
    if len(files) > current_app.config["REPORT_MAX_PHOTOS"]:
        raise InvalidInput(
            _("Send at most %(n)d photos.", n=current_app.config["REPORT_MAX_PHOTOS"]),
            field="photos",
        )
    stored = []
    for number, upload in enumerate(files, start=1):
        name = (upload.filename or "").rsplit("/", 1)[-1][:80] or _("photo %(n)d", n=number)
        try:
            stored.append(store_upload(db.session, upload.read()).sha256)
        except InvalidInput as error:
            raise InvalidInput(
                _(
                    "The photo “%(name)s” could not be read: %(why)s Nothing was sent; "
                    "choose another photo or remove it, then send again.",
                    name=name,
                    why=photo_problem(str(error.details.get("reason", ""))),
                ),
                code="photo_unreadable",
                field="photos",
                details={"file": name},
            ) from None
    return stored


def photo_problem(code: str) -> str:
    """Why a photo was refused, in the reader's words."""
    return {
        "too_large": _("the file is too large."),
        "too_many_pixels": _("it has too many pixels."),
        "image_unreadable": _("the file is damaged."),
    }.get(code, _("it is not a JPEG, PNG or WebP picture."))


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _sender() -> SmsSender | None:
    return sender_from_config(current_app.config["SMS_SENDER"], current_app.config)


@bp.before_request
def _mask_private_links_in_logs() -> None:
    """The request log gets /report/f/… instead of the follow link's token."""
    request.environ["wangge.log_path"] = redact(request.path)


def _page(form: dict[str, str], errors: dict[str, list[str]]) -> str:
    return render_template(
        "residents/report.html",
        groups=catalogue_groups(_catalogue()),
        form_ts=form_stamp(form.get("form_ts")),
        sms=_sender() is not None,
        errors=errors,
        form=form,
    )


@bp.route("/", methods=["GET"])
def report_page() -> str:
    return _page({}, {})


@bp.route("/", methods=["POST"])
def report_submit() -> Any:
    form = request.form.to_dict()
    sender = _sender()
    try:
        _guard_form(form)
        intake = _intake(form)
        _limit(f"ip:{request.remote_addr}", "REPORT_LIMIT_PER_IP_HOUR", HOUR)
        _limit(f"phone:{operations.clean_phone(intake.phone)}", "REPORT_LIMIT_PER_PHONE_DAY", DAY)
        case, token, new = operations.submit_report(
            db.session,
            intake,
            at=clock.now(),
            context=AccessContext(None, request.remote_addr, g.get("request_id")),
            prefix=current_app.config["CASE_NUMBER_PREFIX"],
            secret=current_app.config["SECRET_KEY"],
            photos=_photos(),
            sms_configured=sender is not None,
            district_bbox=current_app.config["GRID_DISTRICT_BBOX"],
        )
    except WanggeError as error:
        db.session.rollback()
        return _form_error(error, form)
    db.session.commit()
    follow = url_for("residents.follow", token=token, _external=True)
    texted = new and _text_link(sender, case.caller_phone or "", case.number, follow)
    if _wants_json():
        return jsonify({"number": case.number, "follow_url": follow, "texted": texted}), 201
    return render_template(
        "residents/sent.html", number=case.number, follow_url=follow, texted=texted
    ), 201


#: The text message with the follow link (Chinese, like the codes: operations.send_phone_code).
FOLLOW_TEXT = "【新华路街道】您反映的问题已受理,编号 {number}。查看进度、结案后评价:{url}"


def _text_link(sender: SmsSender | None, phone: str, number: str, follow: str) -> bool:
    """Text the follow link to the (verified) phone; False if no channel or it failed."""
    if sender is None or not phone:
        return False
    try:
        sender.send(phone, FOLLOW_TEXT.format(number=number, url=follow))
    except SmsFailed as error:
        log.warning("follow link for %s not texted: %s", number, error)
        return False
    return True


def _form_error(error: WanggeError, form: dict[str, str]) -> Any:
    status = 429 if isinstance(error, Throttled) else 404 if isinstance(error, NotFound) else 422
    errors = {error.field or "form": [str(error.message)]}
    if _wants_json():
        return jsonify(
            {
                "code": error.code,
                "field": error.field,
                "detail": str(error.message),
                **(
                    {"retry_after_s": error.details["retry_after_s"]}
                    if "retry_after_s" in error.details
                    else {}
                ),
            }
        ), status
    return _page(form, errors), status


@bp.route("/phone-code", methods=["POST"])
def phone_code() -> Any:
    sender = _sender()
    if sender is None:
        return jsonify({"code": "no_sms", "detail": _("No text messages are sent here.")}), 404
    try:
        phone = operations.clean_phone(request.form.get("phone", ""))
        _limit(f"ip-code:{request.remote_addr}", "REPORT_LIMIT_PER_IP_HOUR", HOUR)
        _limit(f"phone-code:{phone}", "PHONE_CODES_PER_HOUR", HOUR)
        operations.send_phone_code(db.session, phone, sender, at=clock.now())
    except WanggeError as error:
        db.session.rollback()
        status = 429 if isinstance(error, Throttled) else 422
        return jsonify(
            {"code": error.code, "field": error.field, "detail": str(error.message)}
        ), status
    db.session.commit()
    return jsonify({"sent": True}), 202


@bp.route("/catalogue.json")
def catalogue_lookup() -> Response:
    q = request.args.get("q", "")[:40]
    return jsonify(lookups.catalogue(db.session, q, limit=12))


@bp.route("/places.json")
def places_lookup() -> Response:
    q = request.args.get("q", "")[:60]
    return jsonify(lookups.places(db.session, q, limit=10))


@bp.route("/cells.geojson")
def cells() -> Response:
    """Published building-group outlines: the map needs no tile server."""
    response = jsonify(cells_geojson(db.session, "building_group"))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/f/<token>")
def follow(token: str) -> Any:
    try:
        case, _report = operations.report_for_token(db.session, token[:64])
    except NotFound:
        return render_template("residents/follow.html", invalid=True), 404
    return render_template(
        "residents/follow.html",
        view=operations.follow_view(db.session, case, str(get_locale())),
        disclosure=case.disclosure,
        token=token,
        timeline=operations.public_timeline(db.session, case),
        just_sent=request.args.get("new") == "1",
        texted=request.args.get("texted") == "1",
        follow_url=url_for("residents.follow", token=token, _external=True),
    )


@bp.route("/f/<token>/rate", methods=["POST"])
def rate(token: str) -> Any:
    try:
        case, _report = operations.report_for_token(db.session, token[:64])
        valid = dt.timedelta(days=float(current_app.config["RATING_LINK_DAYS"]))
        code = operations.rating_code(db.session, case, at=clock.now(), valid=valid)
    except WanggeError:
        db.session.rollback()
        return redirect(url_for("residents.follow", token=token))
    db.session.commit()
    return redirect(url_for("rating.rate", code=code))
