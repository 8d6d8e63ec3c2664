"""Visits oversight pages: schedule by cell and worker, coverage, the visit log (audited)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, g, render_template, request
from flask_login import current_user
from sqlalchemy import select

from server import clock
from server.accounts.models import User
from server.audit.operations import AccessContext, record
from server.auth import page_login_required
from server.cases.coverage import covered_cells
from server.enums import Role
from server.extensions import db
from server.params import MAX_PAGE, date_arg, int_arg
from server.population import oversight

bp = Blueprint("visits", __name__, url_prefix="/visits", template_folder="templates")
STAFF = (Role.MANAGER, Role.DISPATCHER, Role.WORKER)


def _day(name: str) -> dt.datetime | None:
    day = date_arg(name)
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(), dt.UTC) - dt.timedelta(hours=8)


@bp.route("/")
@page_login_required(*STAFF)
def index() -> str:
    now, today = clock.now(), clock.today()
    cells = covered_cells(db.session, current_user, on=today)
    by_cell, by_worker = oversight.schedule(db.session, as_of=now, on=today, cells=cells)
    overdue = oversight.overdue_by_cell(by_cell)
    ids = [h.household_id for hs in overdue.values() for h in hs[:10]]
    names = dict(db.session.execute(select(User.id, User.display_name)).all())
    total = oversight.total(by_cell.values())
    return render_template(
        "population/visits.html",
        by_cell=sorted(by_cell.values(), key=lambda r: r.key),
        by_worker=sorted(by_worker.values(), key=lambda r: names.get(r.key, "")),
        overdue=overdue,
        addresses=oversight.addresses(db.session, ids),
        names=names,
        now=now,
        total=total,
    )


@bp.route("/log")
@page_login_required(*STAFF)
def log() -> str:
    cells = covered_cells(db.session, current_user, on=clock.today())
    until = _day("until")
    f = oversight.LogFilter(
        cells,
        request.args.get("cell") or None,
        int_arg("worker"),
        _day("since"),
        until + dt.timedelta(days=1) if until else None,
        int_arg("page", 1, low=1, high=MAX_PAGE) or 1,
    )
    visits, total = oversight.visit_log(db.session, f)
    if visits:  # what a visit found is personal data: the page view is attributable
        record(
            db.session,
            AccessContext(current_user.id, request.remote_addr, g.get("request_id")),
            action="read",
            subject_type="visit_log",
            subject_id="page",
            fields=["situation", "needs", "follow_up"],
            detail={"visits": [str(v.id) for v in visits]},
        )
        db.session.commit()
    workers = db.session.scalars(
        select(User).where(User.role == Role.WORKER).order_by(User.username)
    ).all()
    return render_template("population/log.html", visits=visits, total=total, f=f, workers=workers)
