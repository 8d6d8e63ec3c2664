"""Register pages: search, the household card and its forms (every view and change audited)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from server import clock
from server.audit.operations import AccessContext, record
from server.auth import page_login_required
from server.cases import grid_access
from server.cases.coverage import covered_cells
from server.enums import Role
from server.exceptions import Conflict, InvalidInput
from server.extensions import db
from server.population.identity import app_vault
from server.register import operations as ops
from server.register import reading

bp = Blueprint("register", __name__, url_prefix="/register", template_folder="templates")
READERS = (Role.WORKER, Role.DISPATCHER, Role.MANAGER)
EDITORS = (Role.WORKER, Role.MANAGER)


FIELD_LABELS = {
    "name": _l("name"),
    "gender": _l("gender"),
    "birth_year": _l("birth year"),
    "phone": _l("phone"),
    "relation": _l("relation"),
    "notes": _l("notes"),
    "tags": _l("care tags"),
    "id_number": _l("ID number"),
    "household_id": _l("household"),
    "address": _l("address"),
    "road": _l("road"),
    "lane": _l("lane"),
    "building": _l("building"),
    "room": _l("room"),
    "lon": _l("position"),
    "lat": _l("position"),
    "address_id": _l("standard address"),
    "address_match": _l("standard address"),
    "cell_code": _l("building group"),
}


def fields_text(names: list[str]) -> str:
    """The fields an audit entry names, in words, each once ("地址、位置")."""
    labels = [str(FIELD_LABELS.get(n, n)) for n in names]
    return "、".join(dict.fromkeys(labels))


def _context() -> AccessContext:
    return AccessContext(current_user.id, request.remote_addr, g.get("request_id"))


def _cells() -> reading.Cells:
    return covered_cells(db.session, current_user, on=clock.today())


def _actor() -> ops.Actor:
    return ops.Actor(_context(), _cells(), clock.today())


def _building_groups() -> dict[str, grid_access.CellInfo]:
    return {
        code: cell
        for code, cell in grid_access.cell_tree(db.session).items()
        if cell.level == "building_group"
    }


@bp.route("/")
@page_login_required(*READERS)
def index() -> str:
    q = request.args.get("q", "").strip()
    hits = reading.search(db.session, app_vault(current_app), _cells(), q) if q else []
    if hits:  # who looked whom up is attributable
        record(
            db.session,
            _context(),
            action="read",
            subject_type="register_search",
            subject_id="page",
            fields=["name", "address", "phone"],
            detail={"households": [str(h.household.id) for h in hits]},
        )
        db.session.commit()
    return render_template("register/search.html", q=q, hits=hits, shown=reading.SHOWN)


@bp.route("/households/<uuid:household_id>")
@page_login_required(*READERS)
def household(household_id: uuid.UUID) -> str:
    found = reading.card(db.session, app_vault(current_app), _cells(), household_id)
    record(
        db.session,
        _context(),
        action="read",
        subject_type="household",
        subject_id=household_id,
        fields=["address", "residents", "tags", "visits"],
    )
    db.session.commit()
    groups = _building_groups()
    cells = _cells()
    return render_template(
        "register/household.html",
        card=found,
        targets=sorted(c for c in groups if cells is None or c in cells),
        groups=groups,
        may_edit=current_user.role in (*EDITORS, Role.ADMIN),
        open_form=request.args.get("open", ""),
        relations=ops.RELATIONS,
        today=clock.today(),
        fields_text=fields_text,
    )


def _done(household_id: uuid.UUID, action: Any, form_id: str) -> Response:
    """Run a change: commit and say so, or roll back and say why, back on the card with
    the form open."""
    try:
        changed = action()
    except (InvalidInput, Conflict) as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(
            url_for("register.household", household_id=household_id, open=form_id) + f"#{form_id}"
        )
    else:
        db.session.commit()
        flash(_("Saved.") if changed != [] else _("Nothing changed."), "info")
    return redirect(url_for("register.household", household_id=household_id))


@bp.route("/households/<uuid:household_id>/edit", methods=["POST"])
@page_login_required(*EDITORS)
def edit_household(household_id: uuid.UUID) -> Response:
    form = request.form
    return _done(
        household_id,
        lambda: ops.edit_household(
            db.session,
            _actor(),
            household_id,
            notes=form.get("notes", ""),
            reason=form.get("reason", ""),
        ),
        "notes",
    )


@bp.route("/households/<uuid:household_id>/move", methods=["POST"])
@page_login_required(*EDITORS)
def move_household(household_id: uuid.UUID) -> Response:
    form = request.form
    return _done(
        household_id,
        lambda: ops.move_household(
            db.session,
            _actor(),
            household_id,
            address=form.get("address", ""),
            cell_code=form.get("cell_code") or None,
            building_groups=_building_groups(),
            reason=form.get("reason", ""),
        ),
        "move",
    )


@bp.route("/households/<uuid:household_id>/residents", methods=["POST"])
@page_login_required(*EDITORS)
def add_resident(household_id: uuid.UUID) -> Response:
    form = request.form
    return _done(
        household_id,
        lambda: ops.add_resident(
            db.session,
            _actor(),
            app_vault(current_app),
            household_id,
            form,
            form.getlist("tags"),
            arrival=form.get("arrival", ""),
            reason=form.get("reason", ""),
        ),
        "add",
    )


@bp.route("/residents/<uuid:resident_id>/edit", methods=["POST"])
@page_login_required(*EDITORS)
def edit_resident(resident_id: uuid.UUID) -> Response:
    form = request.form
    resident = reading.resident_in_scope(db.session, _cells(), resident_id)
    return _done(
        resident.household_id,
        lambda: ops.edit_resident(
            db.session,
            _actor(),
            resident_id,
            form,
            form.getlist("tags"),
            reason=form.get("reason", ""),
        ),
        f"edit-{resident_id.hex[:8]}",
    )


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


@bp.route("/residents/<uuid:resident_id>/status", methods=["POST"])
@page_login_required(*EDITORS)
def resident_status(resident_id: uuid.UUID) -> Response:
    form = request.form
    resident = reading.resident_in_scope(db.session, _cells(), resident_id)
    return _done(
        resident.household_id,
        lambda: ops.set_status(
            db.session,
            _actor(),
            resident_id,
            form.get("status", ""),
            on=_date(form.get("on", "")),
            reason=form.get("reason", ""),
        ),
        f"status-{resident_id.hex[:8]}",
    )
