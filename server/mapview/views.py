"""The map page and its GeoJSON feeds (SEAM: the grid branch's /api/v1/grid/cells at merge)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from server import clock
from server.auth import page_login_required
from server.cases.coverage import covered_cells
from server.catalogue.models import CatalogueCategory
from server.enums import CaseStatus, CellLevel, Role
from server.extensions import db
from server.mapview import markers, queries
from server.params import date_arg, int_arg
from server.privacy import audience_for_role

bp = Blueprint("mapview", __name__, url_prefix="/map", template_folder="templates")
STAFF = (Role.DISPATCHER, Role.MANAGER, Role.WORKER, Role.GIS)


def _date(name: str) -> dt.datetime | None:
    day = date_arg(name)
    if day is None:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - dt.timedelta(hours=8)


@bp.route("/")
@page_login_required(*STAFF)
def index() -> str:
    categories = db.session.scalars(select(CatalogueCategory).order_by(CatalogueCategory.code))
    return render_template(
        "mapview/index.html",
        levels=list(CellLevel),
        statuses=list(CaseStatus),
        categories=list(categories),
        pins=markers.pin_settings(),
    )


@bp.route("/cells.geojson")
@page_login_required(*STAFF)
def cells_geojson() -> Response:
    response = jsonify(queries.cells_geojson(db.session, request.args.get("level")))
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.route("/cases.geojson")
@page_login_required(*STAFF)
def cases_geojson() -> Response:
    until = _date("until")
    f = queries.CaseFilter(
        category_id=int_arg("category"),
        status=request.args.get("status") or "open",
        since=_date("since"),
        until=until + dt.timedelta(days=1) if until else None,
        cell_code=request.args.get("cell") or None,
    )
    if f.status not in {"open", "all", *(s.value for s in CaseStatus)}:
        abort(400)
    cells = covered_cells(db.session, current_user, on=clock.today())
    audience = audience_for_role(current_user.role)
    return jsonify(queries.cases_geojson(db.session, f, cells, audience))


@bp.route("/cells/<code>")
@page_login_required(*STAFF)
def cell(code: str) -> Response:
    today = clock.today()
    card = queries.cell_card(
        db.session,
        code,
        on=today,
        cells_allowed=covered_cells(db.session, current_user, on=today),
        audience=audience_for_role(current_user.role),
    )
    if card is None:
        abort(404)
    return jsonify(card)
