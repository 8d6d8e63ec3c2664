"""API of the grid: uploads and versions (GIS), locate and cells (everyone), duties, overrides."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, request, send_file, url_for
from flask_babel import lazy_gettext as _l

from geo.reading import PropertyNames
from server.api.base import Blueprint
from server.audit.operations import AccessContext
from server.auth import api_login_required, current_caller
from server.enums import DutyRole, GridStatus, Role
from server.exceptions import InvalidInput, PermissionDenied
from server.extensions import db
from server.grid import assignment, jobs, operations, people, queries, uploads
from server.grid import schemas as s
from server.grid.index import index_cache
from server.grid.models import GridImportJob

blp = Blueprint("grid_api", __name__, url_prefix="/api/v1", description="Grid, locate and duties")
EDITORS = (Role.GIS, Role.MANAGER)  # who may assign people to cells (admin always may)


def today() -> dt.date:
    """The street office's date (a duty 'on' a day means a day in Shanghai)."""
    return dt.datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def actor() -> Any:
    caller = current_caller()
    assert caller is not None  # guaranteed by api_login_required
    return caller.user


def import_checks() -> operations.ImportChecks:
    """The deployment's district and displacement threshold, from configuration."""
    bbox = current_app.config.get("GRID_DISTRICT_BBOX")
    return operations.ImportChecks(
        tuple(bbox) if bbox else None,  # type: ignore[arg-type]
        float(current_app.config["GRID_DISPLACEMENT_THRESHOLD_M"]),
    )


def access_context() -> AccessContext:
    """Who publishes from where, for the audit log."""
    caller = current_caller()
    user_id = caller.user.id if caller else None
    return AccessContext(user_id, request.remote_addr, g.get("request_id"))


def import_options(form: dict[str, Any], filename: str | None) -> operations.ImportOptions:
    names = PropertyNames(
        code=form["code_property"],
        name=form["name_property"],
        level=form["level_property"] or None,
        parent_code=form["parent_property"] or None,
    )
    return operations.ImportOptions(
        datum=form["datum"],
        property_names=names,
        repair=form["repair"],
        attach_to_published=form["attach_to_published"],
        name=form["name"],
        filename=filename,
        swap_axes=form.get("swap_axes", False),
        default_level=form.get("default_level") or None,
        level_from_code=form.get("level_from_code", False),
    )


def publish_preview(version_id: int) -> dict[str, Any]:
    """The dry run of publishing ``version_id`` with this deployment's settings (all doors)."""
    return queries.publish_preview(
        db.session,
        version_id,
        near_m=current_app.config["NEAR_DISTANCE_M"],
        on=today(),
        published=index_cache(current_app).current(db.session),
        threshold_m=import_checks().displacement_threshold_m,
    )


def publish_now(
    user: Any, version_id: int, acknowledgement: str | None, context: AccessContext | None
) -> operations.PublishResult:
    """Publish with this deployment's settings (all doors); the caller commits."""
    return operations.publish_grid(
        db.session,
        user,
        version_id,
        near_m=current_app.config["NEAR_DISTANCE_M"],
        today=today(),
        threshold_m=import_checks().displacement_threshold_m,
        acknowledgement=acknowledgement,
        context=context,
    )


def upload_source(file: Any, upload_id: int | None) -> tuple[bytes, str | None, int | None]:
    """The bytes to read: the posted file, or a stored upload (a re-import); not both."""
    if file is not None and upload_id is not None:
        raise InvalidInput(_l("Send a file or an upload id, not both."), field="upload_id")
    if upload_id is not None:
        stored = uploads.get_upload(db.session, upload_id)
        return stored.data, stored.filename, stored.id
    return (file.read() if file is not None else b""), (file.filename if file else None), None


def start_import(
    data: bytes, options: operations.ImportOptions, upload_id: int | None, background: bool
) -> tuple[GridImportJob | None, operations.ImportOutcome | None]:
    """Import within the request, or start a background job; one path for page and API."""
    operations.check_import(data, options)
    if background or len(data) > current_app.config["GRID_IMPORT_INLINE_MAX_BYTES"]:
        job = jobs.create_job(db.session, actor(), len(data), options, upload_id)
        db.session.commit()
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        jobs.start_thread(app, job.id, data, options, import_checks())
        return job, None
    outcome = operations.import_grid(
        db.session, actor(), data, options, checks=import_checks(), upload_id=upload_id
    )
    db.session.commit()  # a draft, or the file alone when its report offers a fix
    return None, outcome


def job_view(job: GridImportJob) -> dict[str, Any]:
    version = (
        db.session.get(operations.GridVersion, job.grid_version_id) if job.grid_version_id else None
    )
    return {
        "id": job.grid_version_id,
        "job_id": job.id,
        "job_url": url_for("grid_api.import_job", job_id=job.id),
        "state": job.state,
        "stage": job.stage,
        "done": job.done,
        "total": job.total,
        "report": version.report if version else job.report,
        "error": job.error,
    }


@blp.route("/grids/imports", methods=["POST"])
@blp.arguments(s.ImportFormSchema, location="form")
@blp.arguments(s.FileSchema, location="files")
@blp.response(201, s.ImportResultSchema)
@api_login_required(Role.GIS)
def create_import(form: dict[str, Any], files: dict[str, Any]) -> Any:
    """Upload a grid file (or read a stored upload again with ``upload_id`` and new options):
    validated within the request when small (201), else a job (202)."""
    data, filename, upload_id = upload_source(files["file"], form["upload_id"])
    options = import_options(form, filename)
    job, outcome = start_import(data, options, upload_id, form["background"])
    if job is not None:
        return job_view(job), 202, {"Location": url_for("grid_api.import_job", job_id=job.id)}
    assert outcome is not None
    if outcome.version is None:
        raise InvalidInput(
            _l("Nothing in this file could be read as a grid cell; see the report."),
            code="grid_unreadable",
            field="file",
            details={"report": outcome.report, "upload_id": outcome.upload_id},
        )
    return {"id": outcome.version.id, "state": "done", "stage": "done", "report": outcome.report}


@blp.route("/grids/imports/<uuid:job_id>", methods=["GET"])
@blp.response(200, s.ImportResultSchema)
@api_login_required(Role.GIS)
def import_job(job_id: uuid.UUID) -> Any:
    """Progress of a background import; ``id`` is the draft when it is done."""
    return job_view(jobs.get_job(db.session, job_id))


@blp.route("/grids", methods=["GET"])
@blp.response(200, s.VersionSchema(many=True))
@api_login_required(Role.GIS)
def list_versions() -> Any:
    """Every grid version, newest first."""
    return queries.list_versions(db.session)


@blp.route("/grids/<int:version_id>", methods=["GET"])
@blp.response(200, s.VersionDetailSchema)
@api_login_required(Role.GIS)
def get_version(version_id: int) -> Any:
    """One version with its validation report."""
    return queries.version_summary(db.session, operations.get_version(db.session, version_id))


@blp.route("/grids/<int:version_id>/diff", methods=["GET"])
@blp.response(200)
@api_login_required(Role.GIS)
def version_diff(version_id: int) -> Any:
    """What publishing this version would change against the published one."""
    diff = operations.diff_against_published(db.session, version_id)
    return {
        "against": people.published_version_id(db.session),
        "diff": diff.to_dict() if diff else None,
    }


@blp.route("/grids/<int:version_id>/impact", methods=["GET"])
@blp.response(200, s.ImpactSchema)
@api_login_required(Role.GIS)
def impact(version_id: int) -> Any:
    """What publishing would move (a dry run): cases, duties, households; and displacement."""
    return publish_preview(version_id)


@blp.route("/grids/<int:version_id>/publish", methods=["POST"])
@blp.arguments(s.PublishSchema(), location="json", required=False)
@blp.response(200, s.PublishResultSchema)
@api_login_required(Role.GIS)
def publish(args: dict[str, Any], version_id: int) -> Any:
    """Publish a draft, or republish a retired version (rollback); reports moved cases.

    A grid displaced as a whole (``grid_displaced``, 422) is published only with
    ``acknowledge_displacement: true`` and a ``reason``; both go to the audit log."""
    result = publish_now(actor(), version_id, acknowledgement(args), access_context())
    db.session.commit()
    return {
        "id": result.version.id,
        "status": str(result.version.status),
        "retired_id": result.retired_id,
        "moved_cases": result.moved_cases,
        "diff": result.diff.to_dict() if result.diff else None,
        "displacement": result.displacement,
    }


def acknowledgement(args: dict[str, Any]) -> str | None:
    """The reason given with ``acknowledge_displacement`` (None when not acknowledged)."""
    if not args.get("acknowledge_displacement"):
        return None
    reason = (args.get("reason") or "").strip()
    if not reason:
        raise InvalidInput(_l("Say why the grid really moved."), field="reason")
    return reason


@blp.route("/grids/uploads/<int:upload_id>", methods=["GET"])
@api_login_required(Role.GIS)
def upload_file(upload_id: int) -> Response:
    """The file a version was read from, as uploaded."""
    stored = uploads.get_upload(db.session, upload_id)
    return send_file(
        io.BytesIO(stored.data),
        mimetype="application/geo+json",
        as_attachment=True,
        download_name=stored.filename or f"grid-upload-{stored.id}.geojson",
    )


@blp.route("/grids/<int:version_id>/export", methods=["GET"])
@blp.arguments(s.DatumArgs, location="query")
@api_login_required(Role.GIS)
def export(args: dict[str, Any], version_id: int) -> Response:
    """A version as GeoJSON (RFC 7946 in WGS-84; other datums say so in a ``datum`` member)."""
    body = queries.export_version(db.session, version_id, args["datum"])
    name = f"grid-{version_id}-{args['datum'].replace(':', '')}.geojson"
    return Response(
        body,
        mimetype="application/geo+json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@blp.route("/grid/locate", methods=["GET"])
@blp.arguments(s.LocateArgs, location="query")
@blp.response(200, s.LocateResultSchema)
@api_login_required()
def locate(args: dict[str, Any]) -> Any:
    """The cell path of a point (building group → street), its status and its people."""
    grid = index_cache(current_app).current(db.session)
    return queries.locate_point(
        db.session, grid, args["lon"], args["lat"], args["datum"], on=today()
    )


@blp.route("/grid/cells", methods=["GET"])
@blp.arguments(s.CellsArgs, location="query")
@api_login_required()
def cells(args: dict[str, Any]) -> Response:
    """Cells as RFC 7946 GeoJSON in the requested datum (default: the published version)."""
    version_id = args["version"]
    if (
        version_id is not None
        and actor().role not in (Role.GIS, Role.ADMIN)
        and operations.get_version(db.session, version_id).status != GridStatus.PUBLISHED
    ):
        raise PermissionDenied(_l("Only GIS staff see unpublished versions."), field="version")
    collection = queries.cells_geojson(
        db.session,
        datum=args["datum"],
        bbox=args["bbox"],
        level=args["level"],
        version_id=args["version"],
    )
    return Response(current_app.json.dumps(collection), mimetype="application/geo+json")


@blp.route("/grid/cells/<code>/people", methods=["GET"])
@blp.arguments(s.PeopleArgs, location="query")
@blp.response(200, s.ResponsibilitySchema)
@api_login_required()
def cell_people(args: dict[str, Any], code: str) -> Any:
    """Who answers for a cell on a date (属地兜底: the parent's people when it has none)."""
    role = DutyRole(args["role"]) if args["role"] else None
    return people.responsible_people(db.session, code, on=args["on"] or today(), role=role)


@blp.route("/grid/gaps", methods=["GET"])
@blp.arguments(s.PeopleArgs, location="query")
@blp.response(200, s.GapSchema(many=True))
@api_login_required(Role.GIS, Role.MANAGER, Role.DISPATCHER)
def gaps(args: dict[str, Any]) -> Any:
    """Cells where nobody (of the role, if given) holds a current duty."""
    role = DutyRole(args["role"]) if args["role"] else None
    return people.responsibility_gaps(db.session, on=args["on"] or today(), role=role)


@blp.route("/duties", methods=["GET"])
@blp.arguments(s.DutyListArgs, location="query")
@blp.response(200, s.DutySchema(many=True))
@api_login_required()
def list_duties(args: dict[str, Any]) -> Any:
    """Duties, by cell or person, optionally only those current on a date."""
    return queries.list_duties(db.session, **args)


@blp.route("/duties", methods=["POST"])
@blp.arguments(s.DutyCreateSchema)
@blp.response(201, s.DutySchema)
@api_login_required(*EDITORS)
def create_duty(args: dict[str, Any]) -> Any:
    """Give a person a duty for a cell, as principal (A角) or deputy (B角)."""
    args["starts_on"] = args["starts_on"] or today()
    duty = operations.assign_duty(db.session, actor(), **args)
    db.session.commit()
    return duty


@blp.route("/duties/<int:duty_id>", methods=["DELETE"])
@blp.arguments(s.DutyEndArgs, location="query")
@blp.response(204)
@api_login_required(*EDITORS)
def end_duty(args: dict[str, Any], duty_id: int) -> None:
    """End a duty after ``last_day`` (default yesterday: it ends now); history is kept."""
    operations.end_duty(db.session, actor(), duty_id, last_day=args["last_day"], today=today())
    db.session.commit()


@blp.route("/cases/<uuid:case_id>/assignment", methods=["POST"])
@blp.arguments(s.OverrideSchema)
@blp.response(200)
@api_login_required(Role.DISPATCHER)
def override(args: dict[str, Any], case_id: uuid.UUID) -> Any:
    """Assign a case by hand; who and why go on its timeline."""
    case = assignment.override_assignment(
        db.session,
        actor(),
        case_id,
        reason=args["reason"],
        assignee_username=args["assignee"],
        unit_id=args["unit_id"],
    )
    db.session.commit()
    return {"id": str(case.id), "assignee_id": case.assignee_id, "unit_id": case.unit_id}
