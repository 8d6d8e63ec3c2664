"""Back-office pages of the imports: upload and templates, a run with its report, the mapping
step and apply; the category table. Thin: every decision is in ``operations``."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from server.auth import page_login_required
from server.exceptions import WanggeError
from server.extensions import db
from server.imports import access, jobs, operations, pages, templates
from server.imports.wiring import make_context

bp = Blueprint("imports", __name__, url_prefix="/imports", template_folder="templates")
DATUMS = ("wgs84", "gcj02", "bd09")


def _context(options: dict[str, object] | None = None) -> object:
    return make_context(
        db.session,
        current_user.id,
        options=options,
        ip=request.remote_addr,
        request_id=g.get("request_id"),
    )


def _fail_stale() -> None:
    """Runs whose background job died are marked so (jobs.fail_stale) before being shown."""
    if jobs.fail_stale(current_app, db.session):
        db.session.commit()


def _index(error: str | None = None, status: int = 200) -> tuple[str, int]:
    _fail_stale()
    kinds = access.kinds_for(current_user)
    runs = [r for r in operations.list_runs(db.session) if r.kind in kinds]
    page = render_template(
        "imports/index.html",
        unplaced=pages.unplaced(db.session),
        kinds=kinds,
        runs=runs,
        pages=pages,
        datums=DATUMS,
        error=error,
    )
    return page, status


@bp.route("/")
@page_login_required(*access.ANY_IMPORTER)
def index() -> tuple[str, int]:
    return _index()


@bp.route("/template/<kind>.<fmt>")
@page_login_required(*access.ANY_IMPORTER)
def template(kind: str, fmt: str) -> Response:
    if kind not in access.IMPORTERS or fmt not in ("xlsx", "csv"):
        abort(404)
    access.require_import(current_user, kind)
    mimetype = (
        "text/csv"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"{kind}-template.{fmt}"
    return Response(
        templates.template(kind, fmt),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/<kind>/upload", methods=["POST"])
@page_login_required(*access.ANY_IMPORTER)
def upload(kind: str) -> Response | tuple[str, int]:
    """Check the file (dry run) and show its report; nothing is applied yet."""
    upload = request.files.get("file")
    options = {
        "full": bool(request.form.get("full")),
        "datum": request.form.get("datum"),
        "sheet": (request.form.get("sheet") or "").strip()[:100] or None,
    }
    data = upload.read() if upload else b""
    try:
        access.require_import(current_user, kind)
        ctx = _context(options)
        run = operations.create_run(
            ctx, kind, data, filename=(upload.filename or "") if upload else ""
        )
        if not _in_background(len(data)):
            operations.check_run(ctx, run.id)
    except WanggeError as error:
        db.session.rollback()
        return _index(str(error.message), 422 if error.code != "permission_denied" else 403)
    db.session.commit()
    if run.state == "checking":  # a large file: read in the background, the page polls
        jobs.start_check(current_app._get_current_object(), run.id, current_user.id)  # type: ignore[attr-defined]
    return redirect(url_for("imports.run", run_id=run.id))


def _in_background(size: int) -> bool:
    return size > int(current_app.config["IMPORT_INLINE_MAX_BYTES"])


@bp.route("/runs/<uuid:run_id>")
@page_login_required(*access.ANY_IMPORTER)
def run(run_id: uuid.UUID) -> str:
    _fail_stale()
    found = operations.get_run(db.session, run_id)
    access.require_import(current_user, found.kind)
    kind = operations.get_kind(found.kind)
    return render_template(
        "imports/run.html",
        run=found,
        specs=kind.specs,
        pages=pages,
        lang=str(get_locale()),
        who=pages.who(db.session, found.created_by_id),
        has_file=operations.run_file(db.session, found) is not None,
    )


@bp.route("/runs/<uuid:run_id>/remap", methods=["POST"])
@page_login_required(*access.ANY_IMPORTER)
def remap(run_id: uuid.UUID) -> Response:
    """The mapping step: check the same file again with the columns the person chose."""
    old = operations.get_run(db.session, run_id)
    access.require_import(current_user, old.kind)
    data = operations.run_file(db.session, old)
    if data is None:
        abort(404)
    names = {spec.name for spec in operations.get_kind(old.kind).specs}
    mapping = {
        k[4:]: v[:100] for k, v in request.form.items() if k.startswith("map_") and k[4:] in names
    }
    new, _ = operations.check_file(
        _context(old.options), old.kind, data, filename=old.filename, mapping=mapping
    )
    operations.withdraw_run(_context(), old.id)
    db.session.commit()
    return redirect(url_for("imports.run", run_id=new.id))


@bp.route("/runs/<uuid:run_id>/apply", methods=["POST"])
@page_login_required(*access.ANY_IMPORTER)
def apply(run_id: uuid.UUID) -> Response:
    found = operations.get_run(db.session, run_id)
    access.require_import(current_user, found.kind)
    try:
        if _in_background(found.size_bytes):
            operations.claim(db.session, run_id)
        else:
            found = operations.apply_run(_context(), run_id)
    except WanggeError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("imports.run", run_id=run_id))
    db.session.commit()
    if found.state == "applying":
        jobs.start_apply(current_app._get_current_object(), run_id, current_user.id)  # type: ignore[attr-defined]
    else:
        flash(_("Applied: %(n)d rows.", n=found.counts.get("rows", 0)), "info")
    return redirect(url_for("imports.run", run_id=run_id))


@bp.route("/runs/<uuid:run_id>/withdraw", methods=["POST"])
@page_login_required(*access.ANY_IMPORTER)
def withdraw(run_id: uuid.UUID) -> Response:
    access.require_import(current_user, operations.get_run(db.session, run_id).kind)
    try:
        operations.withdraw_run(_context(), run_id)
    except WanggeError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("imports.run", run_id=run_id))
    db.session.commit()
    return redirect(url_for("imports.index"))


@bp.route("/runs/<uuid:run_id>/report.csv")
@page_login_required(*access.ANY_IMPORTER)
def report_csv(run_id: uuid.UUID) -> Response:
    found = operations.get_run(db.session, run_id)
    access.require_import(current_user, found.kind)
    return Response(
        pages.report_csv(found, str(get_locale())),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{run_id}.csv"'},
    )


@bp.route("/categories", methods=["GET", "POST"])
@page_login_required(*access.IMPORTERS["register"])
def categories() -> Response | tuple[str, int]:
    """The category table: free-text 人员类别 → care tag, edited by the office."""
    from server.imports import categories as table
    from server.imports.models import CategoryMapping
    from server.population.models import CareTag

    if request.method == "POST":
        text, tag = request.form.get("text", ""), request.form.get("tag_code") or None
        try:
            table.set_mapping(db.session, text, tag, actor_id=current_user.id)
        except WanggeError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return redirect(url_for("imports.categories"))
        db.session.commit()
        flash(_("Saved."), "info")
        return redirect(url_for("imports.categories"))
    rows = db.session.scalars(select(CategoryMapping).order_by(CategoryMapping.text)).all()
    tags = db.session.scalars(select(CareTag).order_by(CareTag.priority, CareTag.code)).all()
    unknown = pages.unknown_categories(db.session)
    return render_template("imports/categories.html", rows=rows, tags=tags, unknown=unknown), 200
