"""The performance dashboard with charts and exports, staff evaluations, the resident's rating."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from server import clock
from server.accounts.models import User
from server.auth import page_login_required
from server.cases import grid_access
from server.cases.schemas import RatingForm
from server.enums import Role
from server.errors import status_of
from server.evaluation import charts, export, metrics, rollup
from server.evaluation import operations as evaluation
from server.evaluation.models import StaffEvaluation
from server.exceptions import InvalidInput, WanggeError
from server.extensions import db
from server.labels import label
from server.params import date_arg, parse_date, parse_id
from server.units.models import Unit

bp = Blueprint("evaluation", __name__, url_prefix="/dashboard", template_folder="templates")
rating_bp = Blueprint("rating", __name__, url_prefix="/rate", template_folder="templates")
#: What the rating page names of the case.
RATE_FIELDS = ("number", "service_name", "address")
VIEWERS = (Role.MANAGER, Role.DISPATCHER)


def _window(*, strict: bool = True) -> tuple[dt.date, dt.date, metrics.Window]:
    """The period asked for (the last 30 days by default); a reversed range is refused."""
    last = (date_arg("to") if strict else None) or clock.today()
    first = (date_arg("from") if strict else None) or last - dt.timedelta(days=29)
    if first > last:
        raise InvalidInput(
            _("The start date is after the end date."), code="reversed_range", field="from"
        )
    return first, last, metrics.Window.days(first, last)


def _names(session: Session, group: str, keys: list[Any]) -> dict[Any, str]:
    if group == "worker":
        users = session.execute(
            select(User.id, User.display_name).where(
                User.id.in_([k for k in keys if k is not None])
            )
        )
        return {i: n for i, n in users}
    if group == "unit":
        units = session.execute(
            select(Unit.id, Unit.name_zh).where(Unit.id.in_([k for k in keys if k is not None]))
        )
        return {i: n for i, n in units}
    if group == "street":
        return {"street": current_app.config["DISTRICT_NAME"]}
    cells = grid_access.cell_tree(session)
    return {k: cells[k].name for k in keys if k in cells}


def _catch_up(now: dt.datetime) -> None:
    """Roll up a few missing or dirty days (bounded; the nightly CLI run does the rest)."""
    limit = int(current_app.config["DASHBOARD_ROLLUP_CATCHUP_DAYS"])
    if limit <= 0:
        return
    db.session.commit()  # end the sign-in's read: the builder's first statement is a write
    try:
        rollup.catch_up(db.session, now=now, limit=limit)
        db.session.commit()
    except OperationalError as error:  # busy database: this page computes those days live
        db.session.rollback()
        current_app.logger.warning("dashboard roll-up catch-up skipped: %s", error)


def _figures(group: str, *, strict: bool = True) -> dict[str, Any]:
    first, last, window = _window(strict=strict)
    now = clock.now()
    _catch_up(now)
    memo: dict[Any, Any] = {}
    groups, total = metrics.dashboard(db.session, window, group, now=now, memo=memo)
    names = _names(db.session, group, list(groups))
    nobody = _("unplaced") if group in ("area", "cell") else _("(none)")
    rows = sorted(
        ((names.get(k) or (nobody if k is None else str(k)), f) for k, f in groups.items()),
        key=lambda r: r[0],
    )
    return {
        "first": first,
        "last": last,
        "window": window,
        "rows": rows,
        "total": total,
        "group": group,
        "weights": current_app.config["SCORE_WEIGHTS"],
        "weights_shown": {**metrics.DEFAULT_WEIGHTS, **current_app.config["SCORE_WEIGHTS"]},
        "now": now,
        "memo": memo,
    }


def _charts(data: dict[str, Any]) -> dict[str, str]:
    days = rollup.trend(db.session, data["window"], now=data["now"])
    trend = charts.line_chart(
        [d for d, _, _ in days],
        [(_("Received"), [r for _, r, _ in days]), (_("Closed"), [c for _, _, c in days])],
        title=_("Cases received and closed per day"),
    )
    unit_groups, _total = metrics.dashboard(
        db.session, data["window"], "unit", now=data["now"], memo=data["memo"]
    )
    unit_names = _names(db.session, "unit", list(unit_groups))
    units = sorted(
        ((unit_names.get(k, _("(none)")), f.on_time_rate) for k, f in unit_groups.items() if f.due),
        key=lambda r: r[0],
    )
    bars = charts.bar_chart(units, title=_("On-time closure rate by unit"))
    unit_due = sum(f.due for f in unit_groups.values())
    cell_groups, _total = metrics.dashboard(
        db.session, data["window"], "cell", now=data["now"], memo=data["memo"]
    )
    cells, wkb = grid_access.cell_tree(db.session), grid_access.cell_geometries(db.session)
    shapes = [
        (
            code,
            info.name,
            wkb[code],
            cell_groups[code].on_time_rate if code in cell_groups else None,
        )
        for code, info in sorted(cells.items())
        if info.level == "building_group"
    ]
    choropleth = charts.choropleth(
        shapes, title=_("On-time closure rate by building group"), legend=_("On-time closure rate")
    )
    map_due = sum(
        f.due
        for code, f in cell_groups.items()
        if code in cells and cells[code].level == "building_group"
    )
    return {
        "trend": trend,
        "bars": bars,
        "choropleth": choropleth,
        "trend_n": sum(r for _, r, _ in days),
        "bars_n": unit_due,
        "map_n": map_due,
    }


@bp.route("/")
@page_login_required(*VIEWERS)
def index() -> str | tuple[str, int]:
    group = request.args.get("group", "area")
    if group not in metrics.GROUPS:
        group = "area"
    try:
        data, refused = _figures(group), None
    except InvalidInput as error:  # the default period's figures, and the reason
        data, refused = _figures(group, strict=False), str(error.message)
    page = render_template(
        "evaluation/dashboard.html",
        **data,
        svg=_charts(data),
        groups=metrics.GROUPS,
        refused=refused,
        asked={"from": request.args.get("from", ""), "to": request.args.get("to", "")},
    )
    return (page, 422) if refused else page


def _export_rows(group: str) -> tuple[list[list[Any]], str]:
    data = _figures(group)
    headers = {h: label(h) for h, _g in export.COLUMNS}
    headers.update({"group": label(group), "score": label("score"), "total": label("total")})
    rows = export.table(data["rows"], data["total"], data["weights"], headers)
    return rows, f"wangge-{group}-{data['first']}-{data['last']}"


@bp.route("/export.csv")
@page_login_required(*VIEWERS)
def export_csv() -> Response:
    rows, name = _export_rows(request.args.get("group", "area"))
    return Response(
        export.to_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}.csv"},
    )


@bp.route("/export.xlsx")
@page_login_required(*VIEWERS)
def export_xlsx() -> Response:
    rows, name = _export_rows(request.args.get("group", "area"))
    return Response(
        export.to_xlsx(rows, sheet=name[:31]),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename={name}.xlsx"},
    )


def _subject(raw: str) -> tuple[str, int]:
    """`user:<id>` or `unit:<id>` as (kind, id); InvalidInput for anything else (an id no
    column holds included)."""
    kind, _sep, ident = raw.partition(":")
    number = parse_id(ident)
    if kind in ("user", "unit") and number is not None:
        return kind, number
    raise InvalidInput(_("Choose who is evaluated."), field="subject")


def _form_date(name: str) -> dt.date:
    day = parse_date(request.form.get(name))
    if day is None:
        raise InvalidInput(_("Dates are YYYY-MM-DD, between 1900 and 2100."), field=name)
    return day


@bp.route("/evaluations", methods=["GET", "POST"])
@page_login_required(Role.MANAGER)
def evaluations() -> str | Response | tuple[str, int]:
    status = 200
    if request.method == "POST":
        try:
            kind, ident = _subject(request.form.get("subject", ""))
            evaluation.add_staff_evaluation(
                db.session,
                current_user,
                subject_user_id=ident if kind == "user" else None,
                subject_unit_id=ident if kind == "unit" else None,
                period_start=_form_date("period_start"),
                period_end=_form_date("period_end"),
                level=request.form.get("level", "street"),
                score=float(request.form["score"]),
                comment=request.form.get("comment", ""),
                at=clock.now(),
            )
            db.session.commit()
            flash(_("Evaluation saved."), "info")
            return redirect(url_for("evaluation.evaluations"), 303)
        except (KeyError, ValueError, WanggeError) as error:
            db.session.rollback()
            flash(
                str(getattr(error, "message", _("Some fields are not valid; see the errors."))),
                "error",
            )
            status = 422
    recent = db.session.scalars(
        select(StaffEvaluation)
        .order_by(StaffEvaluation.period_end.desc(), StaffEvaluation.id.desc())
        .limit(100)
    ).all()
    users = db.session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.username))
    units = db.session.scalars(select(Unit).order_by(Unit.code))
    people = {u.id: u.display_name for u in db.session.scalars(select(User))}
    unit_names = {u.id: u.name_zh for u in db.session.scalars(select(Unit))}
    return render_template(
        "evaluation/evaluations.html",
        recent=recent,
        users=list(users),
        units=list(units),
        people=people,
        unit_names=unit_names,
        today=clock.today(),
    ), status


@rating_bp.route("/<code>", methods=["GET", "POST"])
def rate(code: str) -> str | tuple[str, int]:
    """The resident's page: no sign-in, the one-time code is the key."""
    now = clock.now()
    try:
        request_row = evaluation.find_request(db.session, code, at=now)
    except WanggeError as error:
        return _refusal(error)
    from server.cases.models import Case
    from server.privacy import Audience, render_case

    case = db.session.get(Case, request_row.case_id)
    # A rating link can be forwarded: the case's public side only (server/privacy/).
    view = render_case(case, Audience.LINK_HOLDER, fields=RATE_FIELDS, locale=str(get_locale()))
    if request.method == "POST":
        try:
            form = RatingForm().load(request.form)
            evaluation.rate_with_code(
                db.session, code, score=form["score"], comment=form["comment"], at=now
            )
        except (ValidationError, InvalidInput):
            db.session.rollback()
            return render_template("evaluation/rate.html", view=view, code=code, error=True), 422
        except WanggeError as error:  # used or rated meanwhile (e.g. a second tap): say so
            db.session.rollback()
            return _refusal(error)
        db.session.commit()
        return render_template("evaluation/rate.html", done=True)
    return render_template("evaluation/rate.html", view=view, code=code)


def _refusal(error: WanggeError) -> tuple[str, int]:
    """A used code says the rating is in (a second tap is no error); others say why not."""
    key = "rated" if error.code == "already_rated" else "invalid"
    return render_template("evaluation/rate.html", **{key: str(error.message)}), status_of(error)
