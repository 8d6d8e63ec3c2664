"""Export pages at /exports/: dispatcher, manager and admin; personal data only for the
office roles that tick the box (server/privacy/classes.py), and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from server import clock
from server.audit.operations import AccessContext, record
from server.auth import page_login_required
from server.enums import Role
from server.exceptions import InvalidInput
from server.exports import queries
from server.extensions import db
from server.grid.people import published_version_id
from server.params import date_arg
from server.privacy import Audience, export_audience
from server.privacy.classes import PERSONAL_EXPORT_ROLES

bp = Blueprint("exports", __name__, url_prefix="/exports", template_folder="templates")
READERS = (Role.DISPATCHER, Role.MANAGER, Role.ADMIN)
MAX_ROWS = 50_000


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _window() -> tuple[dt.datetime, dt.datetime]:
    """`since`/`until` as dates in local time (until inclusive); default the last 30 days."""
    zone, today = _zone(), clock.now().astimezone(_zone()).date()
    since = date_arg("since", today - dt.timedelta(days=30), strict=True)
    until = date_arg("until", today, strict=True)
    assert since is not None and until is not None
    if until < since or (until - since).days > 366:
        raise InvalidInput(_("Choose up to a year, ending after it starts."), field="until")
    start = dt.datetime.combine(since, dt.time(), zone)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _rows() -> tuple[list[dict[str, Any]], bool]:
    since, until = _window()
    personal = request.args.get("include_caller") == "1"
    audience = export_audience(current_user.role, personal=personal)
    rows = queries.cases(
        db.session, since=since, until=until, audience=audience, zone=_zone(), limit=MAX_ROWS
    )
    with_personal = audience is Audience.OFFICE
    if with_personal:
        record(
            db.session,
            AccessContext(current_user.id, request.remote_addr, g.get("request_id")),
            action="export",
            subject_type="case_caller",
            subject_id="export",
            fields=[*queries.CALLER_COLUMNS, "title", "address", "lon", "lat"],
            detail={"since": since.isoformat(), "until": until.isoformat(), "rows": len(rows)},
        )
        db.session.commit()
    return rows, with_personal


@bp.route("/")
@page_login_required(*READERS)
def index() -> str:
    return render_template(
        "exports/index.html",
        grid_version=published_version_id(db.session),
        may_export_callers=current_user.role in PERSONAL_EXPORT_ROLES,
    )


@bp.route("/cases.geojson")
@page_login_required(*READERS)
def cases_geojson() -> Response:
    rows, _with_caller = _rows()
    response = jsonify(queries.as_geojson(rows))
    response.mimetype = "application/geo+json"
    response.headers["Content-Disposition"] = "attachment; filename=cases.geojson"
    return response


@bp.route("/cases.csv")
@page_login_required(*READERS)
def cases_csv() -> Response:
    rows, with_caller = _rows()
    return Response(
        queries.as_csv(rows, with_caller),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=cases.csv"},
    )
