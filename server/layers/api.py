"""API of the base layers: upload, check and publish (GIS); the features in a bbox (anyone)."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l

from server.api.base import Blueprint
from server.audit.operations import AccessContext
from server.auth import api_login_required, current_caller
from server.enums import Role
from server.exceptions import InvalidInput
from server.extensions import db
from server.layers import operations, queries
from server.layers import schemas as s

blp = Blueprint("layers_api", __name__, url_prefix="/api/v1", description="Base layers")


def district_bbox() -> tuple[float, float, float, float] | None:
    bbox = current_app.config.get("GRID_DISTRICT_BBOX")
    return tuple(bbox) if bbox else None  # type: ignore[return-value]


def run_import(
    user: Any, data: bytes, form: dict[str, Any], filename: str | None
) -> operations.LayerOutcome:
    """Check or import with this deployment's district (page and API); the caller commits."""
    options = operations.LayerOptions(
        kind=form["kind"],
        datum=form["datum"],
        name=form.get("name") or None,
        filename=filename,
        attribution=form.get("attribution") or None,
        swap_axes=bool(form.get("swap_axes")),
    )
    return operations.import_layer(
        db.session,
        user,
        data,
        options,
        district_bbox=district_bbox(),
        dry_run=bool(form.get("dry_run")),
    )


def access_context() -> AccessContext:
    caller = current_caller()
    return AccessContext(
        caller.user.id if caller else None, request.remote_addr, g.get("request_id")
    )


@blp.route("/layers/imports", methods=["POST"])
@blp.arguments(s.LayerImportFormSchema, location="form")
@blp.arguments(s.LayerFileSchema, location="files")
@blp.response(201, s.LayerImportResultSchema)
@api_login_required(Role.GIS)
def create_import(form: dict[str, Any], files: dict[str, Any]) -> Any:
    """Upload a layer file: validated and kept as a draft, or only checked (``dry_run``)."""
    file = files["file"]
    caller = current_caller()
    outcome = run_import(caller.user if caller else None, file.read(), form, file.filename)
    if outcome.layer is None and not form["dry_run"]:
        raise InvalidInput(
            _l("Nothing in this file could be read as a layer feature; see the report."),
            code="layer_unreadable",
            field="file",
            details={"report": outcome.report},
        )
    db.session.commit()
    return {"id": outcome.layer.id if outcome.layer else None, "report": outcome.report}


@blp.route("/layers", methods=["GET"])
@blp.response(200, s.LayerSchema(many=True))
@api_login_required(Role.GIS)
def list_layers() -> Any:
    """Every base layer, newest first."""
    return queries.list_layers(db.session)


@blp.route("/layers/<int:layer_id>", methods=["GET"])
@blp.response(200, s.LayerDetailSchema)
@api_login_required(Role.GIS)
def get_layer(layer_id: int) -> Any:
    """One layer with its validation report."""
    return operations.get_layer(db.session, layer_id)


@blp.route("/layers/<int:layer_id>/publish", methods=["POST"])
@blp.response(200, s.LayerPublishResultSchema)
@api_login_required(Role.GIS)
def publish(layer_id: int) -> Any:
    """Publish a draft; the published layer of its kind is retired."""
    caller = current_caller()
    layer, retired = operations.publish_layer(
        db.session, caller.user if caller else None, layer_id, context=access_context()
    )
    db.session.commit()
    return {"id": layer.id, "status": layer.status.value, "retired_id": retired}


@blp.route("/layers/features", methods=["GET"])
@blp.arguments(s.LayerFeaturesQuerySchema, location="query")
@blp.response(200)
def features(query: dict[str, Any]) -> Any:
    """Published roads, footprints and points in a bbox, as GeoJSON (no login: base layers
    hold names and numbers only). Coordinates have 6 decimals; ``attribution`` lists the
    credits a map must show."""
    bbox = queries.parse_bbox(query["bbox"])
    kinds = queries.parse_kinds(query["kinds"])
    return (
        queries.features_geojson(db.session, bbox, kinds),
        200,
        {"Cache-Control": "public, max-age=300"},
    )
