"""The office's form pages (/forms/): the list, a new form, the draft editor with its phone
preview, publishing, versions, XLSForm import and export. Managers and administrators only.

Thin: the decisions are in `server.forms.operations`. The editor (server/static/js/
form-editor.js) posts the definition as JSON and gets back the saved definition or the
problems (422, each naming its question); a refused request stores nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from server.auth import page_login_required
from server.catalogue.models import CatalogueItem
from server.enums import Role
from server.errors import status_of
from server.exceptions import InvalidInput, WanggeError
from server.extensions import db
from server.forms import operations as ops
from server.forms.definition import TYPES
from server.forms.problems import FormError, FormProblem

bp = Blueprint("forms", __name__, url_prefix="/forms", template_folder="templates")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Page = str | tuple[str, int] | Response


def _index(errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    forms = ops.list_forms(db.session)
    return render_template(
        "forms/index.html",
        forms=forms,
        drafts={f.id: ops.draft_of(f) for f in forms},
        latest={f.id: ops.latest_published(f) for f in forms},
        form=request.form if request.method == "POST" else {},
        errors=errors or {},
    ), status


@bp.route("/")
@page_login_required(Role.MANAGER)
def index() -> Page:
    """Every form with its latest published version and its draft; new form; import."""
    return _index()


@bp.route("/", methods=["POST"])
@page_login_required(Role.MANAGER)
def create() -> Page:
    try:
        draft = ops.create_form(
            db.session,
            code=request.form.get("code", ""),
            title_zh=request.form.get("title", ""),
        )
    except WanggeError as error:
        db.session.rollback()
        return _index({error.field or "form": str(error.message)}, status_of(error))
    db.session.commit()
    return redirect(url_for("forms.version", form_id=draft.form_id, number=draft.number))


def _report(problems: list[FormProblem], status: int, **context: Any) -> tuple[str, int]:
    """The import report: errors first, then what was left out, each in file order."""
    ordered = sorted(problems, key=lambda p: p.severity != "error")
    return render_template("forms/import_report.html", problems=ordered, **context), status


def _upload() -> bytes:
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    if not data:
        raise InvalidInput(_("Choose an XLSForm file (.xlsx) to upload."), field="file")
    return data


@bp.route("/import", methods=["POST"])
@page_login_required(Role.MANAGER)
def import_new() -> Page:
    """An XLSForm as a new form (its code given here): the report, and a draft if it came."""
    return _import(None)


@bp.route("/<int:form_id>/import", methods=["POST"])
@page_login_required(Role.MANAGER)
def import_into(form_id: int) -> Page:
    """An XLSForm as the draft of this form (replacing an open draft)."""
    return _import(form_id)


def _import(form_id: int | None) -> Page:
    target = ops.get_form(db.session, form_id) if form_id is not None else None
    try:
        imported = ops.import_xlsform(
            db.session,
            _upload(),
            form=target,
            code=request.form.get("code", ""),
            strict=not request.form.get("lenient"),
        )
    except FormError as error:
        db.session.rollback()
        return _report(error.problems, status_of(error), target=target, version=None)
    except WanggeError as error:
        db.session.rollback()
        if target is not None:
            return _form_page(target, {error.field or "form": str(error.message)}, status_of(error))
        return _index({error.field or "form": str(error.message)}, status_of(error))
    db.session.commit()
    return _report(imported.warnings, 200, target=imported.version.form, version=imported.version)


def _form_page(form: Any, errors: dict[str, str] | None = None, status: int = 200) -> Page:
    return render_template(
        "forms/form.html",
        form_row=form,
        versions=list(reversed(form.versions)),
        draft=ops.draft_of(form),
        errors=errors or {},
    ), status


@bp.route("/<int:form_id>")
@page_login_required(Role.MANAGER)
def form(form_id: int) -> Page:
    """One form: its versions (published ones read-only), import into it, a new draft."""
    return _form_page(ops.get_form(db.session, form_id))


@bp.route("/<int:form_id>/draft", methods=["POST"])
@page_login_required(Role.MANAGER)
def new_draft(form_id: int) -> Page:
    """Open the draft, starting one from the latest published version if there is none."""
    draft = ops.new_draft(db.session, ops.get_form(db.session, form_id))
    db.session.commit()
    return redirect(url_for("forms.version", form_id=form_id, number=draft.number))


@bp.route("/<int:form_id>/versions/<int:number>")
@page_login_required(Role.MANAGER)
def version(form_id: int, number: int) -> Page:
    """The editor with its phone preview (a published version: read-only, same preview)."""
    found = ops.get_version(db.session, form_id, number)
    items = db.session.scalars(
        select(CatalogueItem).where(CatalogueItem.is_active).order_by(CatalogueItem.code)
    )
    return render_template(
        "forms/editor.html",
        version=found,
        form_row=found.form,
        setup={
            "definition": found.definition,
            "readonly": found.is_published,
            "saveUrl": url_for("forms.save", form_id=form_id, number=number),
            "types": list(TYPES),
            "catalogue": [{"code": i.code, "name": i.name_zh} for i in items],
        },
    )


@bp.route("/<int:form_id>/versions/<int:number>/definition.json", methods=["POST"])
@page_login_required(Role.MANAGER)
def save(form_id: int, number: int) -> Response | tuple[Response, int]:
    """Store the draft's definition: 200 with the canonical definition, or 422 with every
    problem (`details.problems`, each naming its question), 409 for a published version."""
    found = ops.get_version(db.session, form_id, number)
    try:
        data = request.get_json(force=True)
    except BadRequest:
        raise InvalidInput(_("The request body is not valid JSON."), field="definition") from None
    try:
        saved = ops.save_draft(db.session, found, data)
    except WanggeError:
        db.session.rollback()
        raise
    db.session.commit()
    return jsonify({"definition": saved.definition, "number": saved.number})


@bp.route("/<int:form_id>/versions/<int:number>/publish", methods=["POST"])
@page_login_required(Role.MANAGER)
def publish(form_id: int, number: int) -> Page:
    found = ops.get_version(db.session, form_id, number)
    try:
        ops.publish(db.session, found)
    except WanggeError:
        db.session.rollback()
        raise
    db.session.commit()
    flash(_("Version %(n)d is published; it can no longer change.", n=found.number), "info")
    return redirect(url_for("forms.form", form_id=form_id))


@bp.route("/<int:form_id>/versions/<int:number>/form.xlsx")
@page_login_required(Role.MANAGER)
def export(form_id: int, number: int) -> Response:
    """Any version as an XLSForm .xlsx (docs/forms.md, the supported subset)."""
    found = ops.get_version(db.session, form_id, number)
    name = f"{found.form.code}-v{found.number}.xlsx"
    return Response(
        ops.export_xlsform(found),
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
