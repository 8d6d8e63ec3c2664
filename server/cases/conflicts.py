"""Sync conflicts for review: both values and both authors; resolving records who chose what.

SEAM: the sync branch (issue 4) owns the conflict table and its functions
(`server.fieldsync.conflicts.list_conflicts / resolve_conflict / conflict_view`). Until it is
merged the page says the sync module is not installed; after the merge it works unchanged.
"""

from __future__ import annotations

import importlib
import uuid
from types import ModuleType
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

bp = Blueprint("conflicts", __name__, url_prefix="/conflicts", template_folder="templates")
CHOICES = ("earlier", "later", "acknowledged")


def sync_conflicts() -> ModuleType | None:
    """The sync branch's conflicts module, or None before it is merged."""
    try:
        return importlib.import_module("server.fieldsync.conflicts")
    except ImportError:
        return None


@bp.route("/")
@page_login_required(Role.DISPATCHER, Role.MANAGER)
def index() -> str:
    module = sync_conflicts()
    items: list[dict[str, Any]] = []
    if module is not None:
        only_open = request.args.get("all") != "1"
        items = [
            module.conflict_view(c) for c in module.list_conflicts(db.session, only_open=only_open)
        ]
    case_ids = {i["case_id"] for i in items}
    cases = {
        str(c.id): c
        for c in db.session.scalars(
            select(Case).where(Case.id.in_([uuid.UUID(i) for i in case_ids]))
        )
    }
    names = dict(db.session.execute(select(User.id, User.display_name)).all())
    return render_template(
        "cases/conflicts.html", items=items, cases=cases, names=names, installed=module is not None
    )


@bp.route("/<int:conflict_id>/resolve", methods=["POST"])
@page_login_required(Role.DISPATCHER, Role.MANAGER)
def resolve(conflict_id: int) -> Response:
    module = sync_conflicts()
    choice = request.form.get("choice", "")
    if module is None or choice not in CHOICES:
        flash(_("Some fields are not valid; see the errors."), "error")
        return redirect(url_for("conflicts.index"), 303)
    try:
        module.resolve_conflict(db.session, conflict_id, choice=choice, actor=current_user)
        db.session.commit()
        flash(_("Conflict resolved."), "info")
    except WanggeError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    return redirect(url_for("conflicts.index"), 303)
