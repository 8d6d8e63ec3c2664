"""Sync conflicts for review: both values and both authors; resolving records who chose what.

The conflict records and their resolution belong to the sync module
(`server.fieldsync.conflicts`); this page only shows and resolves them.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from server.accounts.models import User
from server.auth import page_login_required
from server.cases.models import Case
from server.enums import Role
from server.exceptions import WanggeError
from server.extensions import db
from server.fieldsync import conflicts as sync_conflicts

bp = Blueprint("conflicts", __name__, url_prefix="/conflicts", template_folder="templates")
CHOICES = ("earlier", "later", "acknowledged")


@bp.route("/")
@page_login_required(Role.DISPATCHER, Role.MANAGER)
def index() -> str:
    only_open = request.args.get("all") != "1"
    items: list[dict[str, Any]] = [
        sync_conflicts.conflict_view(c)
        for c in sync_conflicts.list_conflicts(db.session, only_open=only_open)
    ]
    case_ids = {i["case_id"] for i in items}
    cases = {
        str(c.id): c
        for c in db.session.scalars(
            select(Case).where(Case.id.in_([uuid.UUID(i) for i in case_ids]))
        )
    }
    names = dict(db.session.execute(select(User.id, User.display_name)).all())
    return render_template("cases/conflicts.html", items=items, cases=cases, names=names)


@bp.route("/<int:conflict_id>/resolve", methods=["POST"])
@page_login_required(Role.DISPATCHER, Role.MANAGER)
def resolve(conflict_id: int) -> Response:
    choice = request.form.get("choice", "")
    if choice not in CHOICES:
        flash(_("Some fields are not valid; see the errors."), "error")
        return redirect(url_for("conflicts.index"), 303)
    try:
        sync_conflicts.resolve_conflict(db.session, conflict_id, choice=choice, actor=current_user)
        db.session.commit()
        flash(_("Conflict resolved."), "info")
    except WanggeError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    return redirect(url_for("conflicts.index"), 303)
