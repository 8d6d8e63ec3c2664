"""The GeoReport v2 endpoints under /open311/v2/ (adapters: parse, call, render)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, request, url_for
from flask_babel import get_locale
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from server import clock
from server.audit.operations import AccessContext
from server.exceptions import (
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
    WanggeError,
)
from server.extensions import db
from server.open311 import inputs, operations, queries
from server.open311.encoding import errors, respond

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FMT = "<any(json,xml):fmt>"

#: Open311 knows 400, 403 and 404 (domain-anchors §c); our family maps onto them here.
STATUS = {NotFound: 404, PermissionDenied: 403, AuthenticationFailed: 403}


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _channels() -> list[str]:
    return list(current_app.config["OPEN311_PUBLIC_CHANNELS"])


def _error_response(fmt: str, error: WanggeError) -> Response:
    status = next((s for cls, s in STATUS.items() if isinstance(error, cls)), 400)
    where = f"{error.field}: " if error.field else ""
    return errors(fmt, status, [(status, f"{where}{error.message}")])


def open311(view: Callable[..., Response]) -> Callable[..., Response]:
    """Check `jurisdiction_id`, render domain errors as the spec's error arrays."""

    @functools.wraps(view)
    def wrapper(*args: Any, fmt: str, **kwargs: Any) -> Response:
        try:
            values = _values()
            texts = [str(v) for v in kwargs.values()] + [v for vs in values.values() for v in vs]
            if any("\x00" in t for t in texts + list(values)):
                # PostgreSQL cannot hold or compare NUL in text: refuse it up front.
                raise InvalidInput("NUL characters are not accepted", field="request")
            wanted = inputs.single(values, "jurisdiction_id")
            if wanted and wanted != current_app.config["OPEN311_JURISDICTION_ID"]:
                raise NotFound("unknown jurisdiction_id", field="jurisdiction_id")
            return view(*args, fmt=fmt, **kwargs)
        except (InvalidInput, NotFound, PermissionDenied, AuthenticationFailed) as error:
            db.session.rollback()
            return _error_response(fmt, error)

    return wrapper


def _values() -> dict[str, list[str]]:
    source = request.form if request.method == "POST" else request.args
    return source.to_dict(flat=False)


@bp.route("/openapi.json")
def openapi() -> Response:
    """OpenAPI 3 of the JSON endpoints, for partners' tooling (and our fuzz test)."""
    from server.open311.openapi import document

    return respond("json", "openapi", document())


@bp.route(f"/discovery.{FMT}")
@open311
def discovery(fmt: str) -> Response:
    config = current_app.config
    body = {
        "changeset": config["OPEN311_CHANGESET"],
        "contact": config["OPEN311_CONTACT"],
        "key_service": config["OPEN311_KEY_SERVICE"],
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": url_for("open311.services", fmt="json", _external=True).rsplit("/", 1)[0],
                "changeset": config["OPEN311_CHANGESET"],
                "type": config["OPEN311_ENDPOINT_TYPE"],
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", body)


@bp.route(f"/services.{FMT}")
@open311
def services(fmt: str) -> Response:
    return respond(fmt, "services", queries.services(db.session, str(get_locale())))


@bp.route(f"/services/<code>.{FMT}")
@open311
def service_definition(code: str, fmt: str) -> Response:
    item = operations.active_item(db.session, code)
    body = queries.service_definition(item, str(get_locale()))
    return respond(fmt, "service_definition", body)


@bp.route(f"/requests.{FMT}", methods=["POST"])
@open311
def create_request(fmt: str) -> Response:
    form = _values()
    now = clock.now()
    partner = operations.authenticate(db.session, inputs.single(form, "api_key"), at=now)
    new = inputs.parse_new_request(form)
    case, submission = operations.submit_request(
        db.session,
        partner,
        new,
        at=now,
        context=AccessContext(None, request.remote_addr, g.get("request_id")),
        prefix=current_app.config["CASE_NUMBER_PREFIX"],
        district_bbox=current_app.config["GRID_DISTRICT_BBOX"],
    )
    db.session.commit()
    if current_app.config["OPEN311_DEFERRED_TOKENS"]:
        row: dict[str, Any] = {"token": submission.token}
    else:
        row = {"service_request_id": case.number}
    row["service_notice"] = None
    row["account_id"] = submission.account_id
    return respond(fmt, "service_requests", [row], 201)


@bp.route(f"/requests.{FMT}", methods=["GET"])
@open311
def list_requests(fmt: str) -> Response:
    f = inputs.parse_filter(_values(), now=clock.now(), zone=_zone())
    rows = queries.find_requests(db.session, f, channels=_channels(), zone=_zone())
    return respond(fmt, "service_requests", rows)


@bp.route(f"/requests/<rid>.{FMT}")
@open311
def one_request(rid: str, fmt: str) -> Response:
    row = queries.request_by_number(db.session, rid, channels=_channels(), zone=_zone())
    if row is None:
        raise NotFound("unknown service_request_id", field="service_request_id")
    return respond(fmt, "service_requests", [row])


@bp.route(f"/tokens/<token>.{FMT}")
@open311
def token(token: str, fmt: str) -> Response:
    row = queries.request_by_token(db.session, token, channels=_channels())
    if row is None:
        raise NotFound("unknown token", field="token")
    return respond(fmt, "service_requests", [row])


@bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str) -> Response:
    """Anything else under the root (also a POST to a read-only resource) as an error array."""
    fmt = "xml" if rest.endswith(".xml") else "json"
    if request.method == "POST" and _readable(request.path):
        return errors(fmt, 400, [(405, "this resource is read-only: use GET")])
    return errors(fmt, 404, [(404, "no such Open311 resource")])


def _readable(path: str) -> bool:
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return False
    return endpoint != "open311.unknown"


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    """405, 413 and friends still answer as Open311 error arrays (400 for the spec's sake)."""
    fmt = "xml" if request.path.endswith(".xml") else "json"
    status = error.code if error.code in (403, 404) else 400
    return errors(fmt, status, [(error.code or 400, error.description or error.name)])


@bp.before_request
def _body_cap() -> Response | None:
    """Forms here are small; refuse a large body before parsing it (before the 64 MB app cap)."""
    if (request.content_length or 0) > current_app.config["OPEN311_MAX_BODY_BYTES"]:
        fmt = "xml" if request.path.endswith(".xml") else "json"
        return errors(fmt, 400, [(413, "request body too large")])
    request.max_form_memory_size = current_app.config["OPEN311_MAX_BODY_BYTES"]
    return None


def init_app(app: Any) -> None:
    from server import input_guard
    from server.extensions import csrf
    from server.open311.cli import open311_cli

    app.register_blueprint(bp)
    csrf.exempt(bp)  # partners authenticate with api_key, not sessions
    # NUL is refused in `open311` above, as the spec's error array rather than problem+json.
    input_guard.exempt(app, bp.name)
    app.cli.add_command(open311_cli)
