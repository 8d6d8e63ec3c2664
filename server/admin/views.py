"""Administrators' pages: /admin/staff, /admin/units, /admin/catalogue. Thin: the decisions
are in ``server.admin.operations``; a refused change re-renders the form with its error and
a 4xx status, and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from server import clock
from server.accounts import operations as accounts
from server.accounts import resets
from server.accounts.models import User
from server.accounts.reset_views import lifetime, private, reset_link
from server.admin import cells
from server.admin import operations as ops
from server.audit.operations import AccessContext
from server.auth import page_login_required
from server.catalogue.models import CatalogueCategory, CatalogueItem
from server.enums import DutyRole, Role, UnitKind
from server.errors import status_of
from server.exceptions import InvalidInput, WanggeError
from server.extensions import db
from server.grid import queries
from server.grid.api import today
from server.labels import label
from server.units.models import Unit

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

#: How the audited fields are named in the change history.
FIELD_NAMES = {
    "limit_urgent_hours": _l("Urgent limit"),
    "limit_high_hours": _l("High limit"),
    "limit_normal_hours": _l("Normal limit"),
    "default_unit_id": _l("Default unit"),
    "is_active": _l("Active"),
    "name_zh": _l("Name"),
    "kind": _l("Kind"),
    "phone": _l("Phone"),
    "address": _l("Address"),
    "cell_code": _l("Cell"),
}


@bp.app_template_filter("hours")
def hours(value: float | str | None) -> str:
    """24.0 → "24", 0.5 → "0.5" (a number of hours as people write it)."""
    if value is None or value == "":
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def describe(entry: Any, unit_names: dict[int, str]) -> list[str]:
    """The lines of one audited change: "field: old → new", items added and removed."""

    def shown(field: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if field == "default_unit_id":
            return unit_names.get(value, str(value))
        if field == "is_active":
            return _("yes") if value else _("no")
        if field.startswith("limit_"):
            return hours(value)
        if field == "kind":
            return label(value)
        return str(value)

    lines = [
        f"{FIELD_NAMES.get(field, field)}: {shown(field, old)} → {shown(field, new)}"
        for field, (old, new) in (entry.detail.get("changes") or {}).items()
    ]
    if entry.detail.get("items_added"):
        lines.append(_("Items added: %(codes)s", codes="、".join(entry.detail["items_added"])))
    if entry.detail.get("items_removed"):
        lines.append(_("Items removed: %(codes)s", codes="、".join(entry.detail["items_removed"])))
    return lines


Page = str | tuple[str, int] | Response


def _context() -> AccessContext:
    return AccessContext(current_user.id, request.remote_addr, g.get("request_id"))


def _refused(error: WanggeError) -> tuple[int, dict[str, str]]:
    """Undo the transaction; the status and {field: message} for the form."""
    db.session.rollback()
    return status_of(error), {error.field or "form": str(error.message)}


def _date(value: str | None, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("Dates are written YYYY-MM-DD."), field=field) from None


def _units() -> list[Unit]:
    return list(db.session.scalars(select(Unit).order_by(Unit.kind, Unit.code)))


# --- staff ---------------------------------------------------------------------------------


@bp.route("/staff/", methods=["GET", "POST"])
@page_login_required(Role.ADMIN)
def staff() -> Page:
    """The staff list with its filter, and the form for a new account."""
    errors: dict[str, str] = {}
    form: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            user = ops.create_staff(
                db.session,
                _context(),
                username=form.get("username", ""),
                display_name=form.get("display_name", ""),
                role=form.get("role", ""),
                phone=form.get("phone"),
                email=form.get("email"),
                unit_id=form.get("unit_id"),
                password=form.get("password") or None,
            )
            token = None
            if not form.get("password"):
                token = resets.issue_reset_link(
                    db.session,
                    user,
                    at=clock.now(),
                    lifetime=lifetime(),
                    channel="admin",
                    context=_context(),
                )
        except WanggeError as error:
            status, errors = _refused(error)
        else:
            db.session.commit()
            if token is None:
                flash(_("Account %(name)s created.", name=user.username), "info")
                return redirect(url_for("admin.person", user_id=user.id))
            return _link_page(user, token, created=True)
    query = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    shown = [
        u
        for u in accounts.list_users(db.session)
        if (not role or u.role == role)
        and (not query or query in u.username or query in u.display_name)
    ]
    return render_template(
        "admin/staff.html",
        users=shown,
        units={u.id: u for u in _units()},
        unit_choices=_units(),
        roles=[r.value for r in Role],
        q=query,
        role=role,
        form=form,
        errors=errors,
    ), status


def _link_page(user: User, token: str, *, created: bool = False) -> Response:
    page = render_template(
        "admin/link_issued.html",
        user=user,
        link=reset_link(token),
        expires_at=clock.now() + lifetime(),
        created=created,
    )
    return private(make_response(page))


def _person_page(user_id: int, errors: dict[str, str] | None = None, status: int = 200) -> Page:
    user = ops.get_user(db.session, user_id)
    duties = queries.list_duties(db.session, username=user.username)
    under = request.args.get("under", "").strip() or None
    q = request.args.get("q", "").strip()
    found = cells.search(db.session, q) if q else cells.children(db.session, under)
    paths = cells.path_names(db.session, [d.cell_code for d in duties])
    return render_template(
        "admin/person.html",
        user=user,
        unit=db.session.get(Unit, user.unit_id) if user.unit_id else None,
        duties=duties,
        paths=paths,
        found=found,
        trail=cells.breadcrumbs(db.session, under) if not q else [],
        under=under,
        q=q,
        today=today(),
        roles=[r.value for r in DutyRole],
        account_roles=[r.value for r in Role],
        unit_choices=_units(),
        live=resets.live_links(db.session, at=clock.now()).get(user.id),
        errors=errors or {},
        form=request.form if request.method == "POST" else {},
    ), status


@bp.route("/staff/<int:user_id>")
@page_login_required(Role.ADMIN)
def person(user_id: int) -> Page:
    """One person: state, password reset, and duties picked from the tree of cells."""
    return _person_page(user_id)


@bp.route("/staff/<int:user_id>/active", methods=["POST"])
@page_login_required(Role.ADMIN)
def set_active(user_id: int) -> Page:
    active = request.form.get("active") == "1"
    try:
        user = ops.set_staff_active(db.session, _context(), user_id, active)
    except WanggeError as error:
        status, errors = _refused(error)
        return _error_or_person(user_id, errors, status)
    db.session.commit()
    message = _("%(name)s can sign in again.") if active else _("%(name)s is disabled.")
    flash(message % {"name": user.username}, "info")
    return redirect(url_for("admin.person", user_id=user_id))


def _error_or_person(user_id: int, errors: dict[str, str], status: int) -> Page:
    """The person's page again with the refusal (a NotFound person: the error page)."""
    return _person_page(user_id, errors, status)


@bp.route("/staff/<int:user_id>/details", methods=["POST"])
@page_login_required(Role.ADMIN)
def update_person(user_id: int) -> Page:
    form = request.form
    try:
        ops.update_staff(
            db.session,
            _context(),
            user_id,
            display_name=form.get("display_name", ""),
            role=form.get("role", ""),
            phone=form.get("phone"),
            email=form.get("email"),
            unit_id=form.get("unit_id"),
        )
    except WanggeError as error:
        status, errors = _refused(error)
        return _error_or_person(user_id, errors, status)
    db.session.commit()
    flash(_("Saved."), "info")
    return redirect(url_for("admin.person", user_id=user_id))


@bp.route("/staff/<int:user_id>/reset-link", methods=["POST"])
@page_login_required(Role.ADMIN)
def reset_link_for(user_id: int) -> Page:
    """A one-time password-reset link, shown once on this answer (audited by ``resets``)."""
    try:
        user = ops.get_user(db.session, user_id)
        token = resets.issue_reset_link(
            db.session,
            user,
            at=clock.now(),
            lifetime=lifetime(),
            channel="admin",
            context=_context(),
        )
    except WanggeError as error:
        status, errors = _refused(error)
        return _error_or_person(user_id, errors, status)
    db.session.commit()
    return _link_page(user, token)


@bp.route("/staff/<int:user_id>/duties", methods=["POST"])
@page_login_required(Role.ADMIN)
def assign_duty(user_id: int) -> Page:
    form = request.form
    try:
        ops.assign_duty(
            db.session,
            _context(),
            user_id,
            cell_code=form.get("cell_code", "").strip(),
            role=form.get("role", ""),
            deputy=form.get("rank") == "deputy",
            starts_on=_date(form.get("starts_on"), "starts_on") or today(),
            ends_on=_date(form.get("ends_on"), "ends_on"),
        )
    except WanggeError as error:
        status, errors = _refused(error)
        return _error_or_person(user_id, errors, status)
    db.session.commit()
    flash(_("Duty assigned."), "info")
    return redirect(url_for("admin.person", user_id=user_id))


@bp.route("/staff/<int:user_id>/duties/<int:duty_id>/end", methods=["POST"])
@page_login_required(Role.ADMIN)
def end_duty(user_id: int, duty_id: int) -> Page:
    try:
        ops.end_duty(db.session, _context(), user_id, duty_id, today=today())
    except WanggeError as error:
        status, errors = _refused(error)
        return _error_or_person(user_id, errors, status)
    db.session.commit()
    flash(_("Duty ended."), "info")
    return redirect(url_for("admin.person", user_id=user_id))


# --- units ---------------------------------------------------------------------------------


@bp.route("/units/")
@page_login_required(Role.ADMIN)
def units() -> Page:
    rows = _units()
    counts: dict[int, int] = {}
    for unit_id in db.session.scalars(select(CatalogueItem.default_unit_id)):
        if unit_id is not None:
            counts[unit_id] = counts.get(unit_id, 0) + 1
    paths = cells.path_names(db.session, [u.cell_code for u in rows if u.cell_code])
    return render_template("admin/units.html", units=rows, counts=counts, paths=paths)


def _categories() -> list[CatalogueCategory]:
    return list(
        db.session.scalars(
            select(CatalogueCategory)
            .options(joinedload(CatalogueCategory.items))
            .order_by(CatalogueCategory.sort, CatalogueCategory.code)
        ).unique()
    )


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@page_login_required(Role.ADMIN)
def unit(unit_id: int) -> Page:
    errors: dict[str, str] = {}
    status = 200
    found = ops.get_unit(db.session, unit_id)
    if request.method == "POST":
        form = request.form
        try:
            ops.update_unit(
                db.session,
                _context(),
                unit_id,
                ops.UnitForm(
                    name_zh=form.get("name_zh", ""),
                    kind=form.get("kind", ""),
                    phone=form.get("phone"),
                    address=form.get("address"),
                    cell_code=form.get("cell_code"),
                    is_active=form.get("is_active") == "1",
                    item_ids=form.getlist("items"),
                ),
            )
        except WanggeError as error:
            status, errors = _refused(error)
            found = ops.get_unit(db.session, unit_id)
        else:
            db.session.commit()
            flash(_("Saved."), "info")
            return redirect(url_for("admin.unit", unit_id=unit_id))
    handled = {i.id for i in ops.handled_items(db.session, unit_id)}
    unit_history = ops.history(db.session, "unit", unit_id)
    if request.method == "POST" and errors:
        handled = {int(v) for v in request.form.getlist("items") if v.isdigit()}
    return render_template(
        "admin/unit.html",
        unit=found,
        kinds=[k.value for k in UnitKind],
        places=cells.top_cells(db.session),
        place=cells.path_names(db.session, [found.cell_code])[found.cell_code]
        if found.cell_code
        else None,
        categories=_categories(),
        handled=handled,
        units={u.id: u for u in _units()},
        history=unit_history,
        actors=_actors(unit_history),
        describe=describe,
        unit_names={u.id: u.name_zh for u in _units()},
        form=request.form if errors else {},
        errors=errors,
    ), status


# --- catalogue -----------------------------------------------------------------------------


@bp.route("/catalogue/")
@page_login_required(Role.ADMIN)
def catalogue() -> Page:
    return render_template(
        "admin/catalogue.html", categories=_categories(), units={u.id: u for u in _units()}
    )


@bp.route("/catalogue/<int:item_id>", methods=["GET", "POST"])
@page_login_required(Role.ADMIN)
def item(item_id: int) -> Page:
    errors: dict[str, str] = {}
    status = 200
    found = ops.get_item(db.session, item_id)
    if request.method == "POST":
        form = request.form
        try:
            ops.update_item(
                db.session,
                _context(),
                item_id,
                limits={k: form.get(k, "") for k in ops.LIMIT_FIELDS},
                default_unit_id=form.get("default_unit_id") or None,
                is_active=form.get("is_active") == "1",
            )
        except WanggeError as error:
            status, errors = _refused(error)
            found = ops.get_item(db.session, item_id)
        else:
            db.session.commit()
            flash(_("Saved."), "info")
            return redirect(url_for("admin.item", item_id=item_id))
    entries = ops.history(db.session, "catalogue_item", item_id)
    actors = _actors(entries)
    return render_template(
        "admin/item.html",
        item=found,
        units=_units(),
        unit_names={u.id: u.name_zh for u in _units()},
        history=entries,
        actors=actors,
        describe=describe,
        form=request.form if errors else {},
        errors=errors,
        limit_fields=ops.LIMIT_FIELDS,
    ), status


def _actors(entries: list[Any]) -> dict[int, str]:
    ids = {e.actor_id for e in entries if e.actor_id}
    if not ids:
        return {}
    query = select(User.id, User.display_name).where(User.id.in_(ids))
    return {user_id: name for user_id, name in db.session.execute(query).all()}


# --- care tags' visit forms (issue 18) ------------------------------------------------------


@bp.route("/care-tags/", methods=["GET", "POST"])
@page_login_required(Role.MANAGER, Role.ADMIN)
def care_tags() -> Page:
    """Which form a visit to each care group asks (its latest published version)."""
    from server.forms import care_tags as visit_forms
    from server.population.models import CareTag

    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        code = request.form.get("code", "")
        wanted = request.form.get("visit_form_id", "")
        try:
            if wanted and not (wanted.isdecimal() and len(wanted) < 10):
                raise InvalidInput(_("Choose a form from the list."), field="visit_form_id")
            visit_forms.set_visit_form(
                db.session, _context(), code, int(wanted) if wanted else None
            )
        except WanggeError as error:
            status, errors = _refused(error)
        else:
            db.session.commit()
            flash(_("Saved."), "info")
            return redirect(url_for("admin.care_tags"))
    tags = db.session.scalars(select(CareTag).order_by(CareTag.priority, CareTag.code)).all()
    forms = visit_forms.forms_with_a_published_version(db.session)
    return render_template("admin/care_tags.html", tags=tags, forms=forms, errors=errors), status
