"""The audit trail, browsable by administrators."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request
from flask_babel import get_locale
from sqlalchemy import select

from server.accounts.models import User
from server.audit.operations import entries_for
from server.audit.wording import SUBJECTS, describe
from server.auth import page_login_required
from server.enums import Role
from server.extensions import db
from server.params import datetime_arg, int_arg

bp = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")


@bp.route("/")
@page_login_required(Role.ADMIN)
def index() -> str:
    given = datetime_arg("since")
    since = given.replace(tzinfo=dt.UTC) if given else None
    entries = entries_for(
        db.session,
        subject_type=request.args.get("subject_type") or None,
        subject_id=request.args.get("subject_id") or None,
        actor_id=int_arg("actor"),
        since=since,
        limit=500,
    )
    users = db.session.scalars(select(User).order_by(User.username)).all()
    locale = get_locale()
    words = describe(db.session, entries, locale.language if locale else "zh")
    return render_template(
        "audit/index.html",
        rows=list(zip(entries, words, strict=True)),
        subjects=SUBJECTS,
        users=users,
        names={u.id: u.display_name for u in users},
    )
