"""API of the import pipeline: check a file (dry run), read a run, apply it, list runs."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, g, request

from server.api.base import Blueprint
from server.auth import api_login_required, current_caller
from server.extensions import db
from server.imports import access, jobs, operations
from server.imports import schemas as s
from server.imports.wiring import make_context

blp = Blueprint("imports_api", __name__, url_prefix="/api/v1", description="Master-data imports")


def _actor() -> Any:
    caller = current_caller()
    assert caller is not None  # guaranteed by api_login_required
    return caller.user


def _fail_stale() -> None:
    """Runs whose background job died are marked so (jobs.fail_stale) before being shown."""
    if jobs.fail_stale(current_app, db.session):
        db.session.commit()


def _context(options: dict[str, Any] | None = None) -> Any:
    return make_context(
        db.session,
        _actor().id,
        options=options,
        ip=request.remote_addr,
        request_id=g.get("request_id"),
    )


@blp.route("/imports/<string:kind>", methods=["POST"])
@blp.arguments(s.UploadFormSchema, location="form")
@blp.arguments(s.ImportFileSchema, location="files")
@blp.response(201, s.ImportRunSchema)
@api_login_required(*access.ANY_IMPORTER)
def check(form: dict[str, Any], files: dict[str, Any], kind: str) -> Any:
    """Check a file (dry run): the run with its report; apply it with POST …/apply."""
    operations.get_kind(kind)
    access.require_import(_actor(), kind)
    upload = files["file"]
    options = {"full": form["full"], "datum": form["datum"], "sheet": form["sheet"]}
    run, _ = operations.check_file(
        _context(options),
        kind,
        upload.read(),
        filename=upload.filename or "",
        mapping=s.parse_mapping(form["mapping"]),
    )
    db.session.commit()
    return operations.summary(run)


@blp.route("/imports/runs/<uuid:run_id>", methods=["GET"])
@blp.response(200, s.ImportRunSchema)
@api_login_required(*access.ANY_IMPORTER)
def get_run(run_id: uuid.UUID) -> Any:
    """One run: state, counts and report."""
    _fail_stale()
    run = operations.get_run(db.session, run_id)
    access.require_import(_actor(), run.kind)
    return operations.summary(run)


@blp.route("/imports/runs/<uuid:run_id>/apply", methods=["POST"])
@blp.response(200, s.ImportRunSchema)
@api_login_required(*access.ANY_IMPORTER)
def apply(run_id: uuid.UUID) -> Any:
    """Apply a checked run, all or nothing (422 with the new report if it no longer checks)."""
    access.require_import(_actor(), operations.get_run(db.session, run_id).kind)
    run = operations.apply_run(_context(), run_id)
    db.session.commit()
    return operations.summary(run)


@blp.route("/imports/runs", methods=["GET"])
@blp.arguments(s.ImportKindArgs, location="query")
@blp.response(200, s.ImportRunSchema(many=True))
@api_login_required(*access.ANY_IMPORTER)
def list_runs(args: dict[str, Any]) -> Any:
    """The latest runs of the kinds the caller may import."""
    _fail_stale()
    mine = access.kinds_for(_actor())
    runs = operations.list_runs(db.session, args["kind"])
    return [operations.summary(r) for r in runs if r.kind in mine]
