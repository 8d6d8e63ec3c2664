"""Back-office pages of the grid: upload with progress, versions with report/diff/map, people."""

from __future__ import annotations

import datetime as dt
import uuid

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from geo.datums import parse_datum
from geo.errors import GeoError
from server.audit.operations import AccessContext
from server.auth import page_login_required
from server.enums import DutyRole, Role
from server.exceptions import InvalidInput, WanggeError
from server.extensions import db
from server.grid import displacement, jobs, operations, people, queries, uploads
from server.grid import schemas as s
from server.grid.api import (
    EDITORS,
    import_checks,
    import_options,
    publish_now,
    publish_preview,
    start_import,
    today,
)

bp = Blueprint("grid", __name__, url_prefix="/grids", template_folder="templates")
DATUMS = ("wgs84", "gcj02", "bd09", "EPSG:4490", "EPSG:4549")


@bp.app_template_filter("datum_label")
def datum_label(name: str) -> str:
    """WGS-84, GCJ-02, BD-09 or EPSG:NNNN, as people write them."""
    try:
        return parse_datum(name).label
    except GeoError:
        return name


@bp.route("/vendor/leaflet/<path:filename>")
def leaflet(filename: str) -> Response:
    """Leaflet from the xstatic-leaflet package: the preview map works with no internet."""
    import xstatic.pkg.leaflet as leaflet_pkg

    response = send_from_directory(leaflet_pkg.BASE_DIR, filename, max_age=86400)
    return response


@bp.route("/vendor/leaflet.markercluster/<path:filename>")
def markercluster(filename: str) -> Response:
    """Leaflet.markercluster from its xstatic package: case pins at one place, grouped."""
    import xstatic.pkg.leaflet_markercluster as markercluster_pkg

    return send_from_directory(markercluster_pkg.BASE_DIR, filename, max_age=86400)


@bp.route("/")
@page_login_required(Role.GIS)
def versions() -> str:
    return render_template(
        "grid/versions.html", versions=queries.list_versions(db.session), datums=DATUMS
    )


def _form_options() -> operations.ImportOptions:
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if form.get("datum") == "epsg":
        form["datum"] = f"EPSG:{form.get('epsg', '').strip()}"
    form.pop("epsg", None)
    for flag in ("repair", "attach_to_published", "swap_axes", "level_from_code"):
        form[flag] = "true" if form.get(flag) else "false"
    try:
        parsed = s.ImportFormSchema().load(form, unknown="exclude")
    except ValidationError as error:
        field = next(iter(error.messages_dict), None)
        raise InvalidInput(_("Some fields are not valid; see the errors."), field=field) from None
    upload = request.files.get("file")
    return import_options(parsed, upload.filename if upload else None)


def _start(data: bytes, filename: str | None, upload_id: int | None) -> Response | tuple[str, int]:
    """Start a background import and show its progress page (never a long request)."""
    try:
        options = _form_options()
        if filename is not None:
            options = operations.ImportOptions(**{**options.__dict__, "filename": filename})
        job, _ = start_import(data, options, upload_id, background=True)
    except WanggeError as error:
        page = render_template(
            "grid/versions.html",
            versions=queries.list_versions(db.session),
            datums=DATUMS,
            error=str(error.message),
            error_field=error.field,
        )
        return page, 422
    assert job is not None
    return redirect(url_for("grid.import_progress", job_id=job.id))


@bp.route("/upload", methods=["POST"])
@page_login_required(Role.GIS)
def upload() -> Response | tuple[str, int]:
    upload = request.files.get("file")
    return _start(upload.read() if upload else b"", None, None)


@bp.route("/reimport", methods=["POST"])
@page_login_required(Role.GIS)
def reimport() -> Response | tuple[str, int]:
    """Read a stored upload again with the options of a suggested fix (no new upload)."""
    try:
        stored = uploads.get_upload(db.session, int(request.form.get("upload_id", "")))
    except (ValueError, WanggeError):
        abort(404)
    return _start(stored.data, stored.filename, stored.id)


@bp.route("/imports/<uuid:job_id>")
@page_login_required(Role.GIS)
def import_progress(job_id: uuid.UUID) -> str | Response:
    job = jobs.get_job(db.session, job_id)
    if job.state == "done" and job.grid_version_id:
        return redirect(url_for("grid.version", version_id=job.grid_version_id))
    return render_template("grid/progress.html", job=job, report=job.report, lang=str(get_locale()))


@bp.route("/<int:version_id>")
@page_login_required(Role.GIS)
def version(version_id: int) -> str:
    found = operations.get_version(db.session, version_id)
    measured = displacement.current(db.session, found, import_checks().displacement_threshold_m)
    return render_template(
        "grid/version.html",
        version=queries.version_summary(db.session, found),
        diff=operations.diff_against_published(db.session, version_id),
        displaced=displacement.finding(measured),
        published_id=people.published_version_id(db.session),
        lang=str(get_locale()),
    )


def _confirmation(version_id: int, error: str | None = None, reason: str = "") -> str:
    preview = publish_preview(version_id)
    found = operations.get_version(db.session, version_id)
    return render_template(
        "grid/publish.html",
        version=queries.version_summary(db.session, found),
        preview=preview,
        displaced=displacement.finding(preview["displacement"]),
        error=error,
        reason=reason,
        lang=str(get_locale()),
    )


@bp.route("/<int:version_id>/publish", methods=["GET"])
@page_login_required(Role.GIS)
def confirm_publish(version_id: int) -> str:
    """The confirmation step: what publishing would move, and the acknowledgement if needed."""
    return _confirmation(version_id)


@bp.route("/<int:version_id>/publish", methods=["POST"])
@page_login_required(Role.GIS)
def publish(version_id: int) -> Response | tuple[str, int]:
    reason = request.form.get("reason", "").strip()[:500]
    acknowledged = bool(request.form.get("acknowledge_displacement")) and bool(reason)
    try:
        result = publish_now(
            current_user,
            version_id,
            reason if acknowledged else None,
            AccessContext(current_user.id, request.remote_addr, g.get("request_id")),
        )
    except WanggeError as error:
        db.session.rollback()
        if error.code == "grid_displaced":
            return _confirmation(version_id, str(error.message), reason), 422
        flash(str(error.message), "error")
        return redirect(url_for("grid.version", version_id=version_id))
    db.session.commit()
    flash(_("Published. %(n)d open cases moved to another cell.", n=result.moved_cases), "info")
    return redirect(url_for("grid.version", version_id=version_id))


def _date(value: str | None, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("Dates are written YYYY-MM-DD."), field=field) from None


@bp.route("/people")
@page_login_required(Role.GIS, Role.MANAGER, Role.DISPATCHER)
def cell_people() -> str | tuple[str, int]:
    code = request.args.get("code", "").strip()
    answer, duties, error = None, [], None
    if code:
        try:
            answer = people.responsible_people(db.session, code, on=today())
            duties = queries.list_duties(db.session, cell_code=code)
        except WanggeError as found:
            error = str(found.message)
    return render_template(
        "grid/people.html",
        code=code,
        answer=answer,
        duties=duties,
        error=error,
        roles=[r.value for r in DutyRole],
        today=today(),
        can_edit=current_user.role in (*EDITORS, Role.ADMIN),
    ), (404 if error else 200)


@bp.route("/people/assign", methods=["POST"])
@page_login_required(*EDITORS)
def assign() -> Response:
    form = request.form
    code = form.get("cell_code", "").strip()
    try:
        operations.assign_duty(
            db.session,
            current_user,
            cell_code=code,
            username=form.get("username", "").strip(),
            role=form.get("role", ""),
            deputy=form.get("rank") == "deputy",
            starts_on=_date(form.get("starts_on"), "starts_on") or today(),
            ends_on=_date(form.get("ends_on"), "ends_on"),
        )
    except WanggeError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("grid.cell_people", code=code))
    db.session.commit()
    flash(_("Duty assigned."), "info")
    return redirect(url_for("grid.cell_people", code=code))


@bp.route("/duties/<int:duty_id>/end", methods=["POST"])
@page_login_required(*EDITORS)
def end_duty(duty_id: int) -> Response:
    code = request.form.get("cell_code", "")
    try:
        operations.end_duty(db.session, current_user, duty_id, last_day=None, today=today())
    except WanggeError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("grid.cell_people", code=code))
    db.session.commit()
    flash(_("Duty ended."), "info")
    return redirect(url_for("grid.cell_people", code=code))


@bp.route("/gaps")
@page_login_required(Role.GIS, Role.MANAGER, Role.DISPATCHER)
def gaps() -> str:
    role = request.args.get("role") or None
    if role is not None and role not in [r.value for r in DutyRole]:
        abort(404)
    found = people.responsibility_gaps(
        db.session, on=today(), role=DutyRole(role) if role else None
    )
    return render_template(
        "grid/gaps.html", gaps=found, role=role, roles=[r.value for r in DutyRole]
    )
