"""Verbs of the base layers: import a file as a draft (or only check it), publish a draft.

Each takes the session and the acting user explicitly and raises ``server.exceptions``
errors before changing anything; callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from flask_babel import lazy_gettext as _l
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from geo.datums import parse_datum
from geo.errors import GeoError
from geo.layer_reading import KINDS, LayerFeature, read_layer_file
from server.accounts.models import User
from server.audit.operations import AccessContext, record
from server.enums import GridStatus
from server.exceptions import Conflict, InvalidInput, NotFound
from server.layers.models import BaseLayer, BaseLayerFeature
from sync.db import utcnow

DECIMALS = 6  # ~0.1 m: finer than any footprint needs, and what keeps a street's pull small
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL"
MAX_LISTED_PROBLEMS = 200


@dataclass(frozen=True)
class LayerOptions:
    """What the uploader said about the file."""

    kind: str
    datum: str = "wgs84"
    name: str | None = None
    filename: str | None = None
    attribution: str | None = None
    swap_axes: bool = False


@dataclass
class LayerOutcome:
    """The stored draft (None for a dry run or a file of which nothing was usable)."""

    layer: BaseLayer | None
    report: dict[str, Any]


def check_options(data: bytes | None, options: LayerOptions) -> None:
    """Refuse what can be refused before reading: no file, an unknown kind or datum."""
    if not data:
        raise InvalidInput(_l("Choose a non-empty GeoJSON file to upload."), field="file")
    if options.kind not in KINDS:
        raise InvalidInput(
            _l("Unknown layer kind %(kind)s: use roads, buildings or poi.", kind=options.kind),
            field="kind",
        )
    try:
        parse_datum(options.datum)
    except GeoError:
        raise InvalidInput(
            _l(
                "Unknown datum %(datum)s: use wgs84, gcj02, bd09 or EPSG:NNNN.", datum=options.datum
            ),
            field="datum",
        ) from None


def rounded(geometry: BaseGeometry) -> dict[str, Any]:
    """GeoJSON of ``geometry`` with coordinates rounded to DECIMALS.

    >>> rounded(shapely.Point(121.123456789, 31.5))
    {'type': 'Point', 'coordinates': [121.123457, 31.5]}
    """
    moved = shapely.transform(geometry, lambda xy: np.round(xy, DECIMALS))
    return _lists(mapping(moved))


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def import_layer(
    session: Session,
    actor: User | None,
    data: bytes,
    options: LayerOptions,
    *,
    district_bbox: tuple[float, float, float, float] | None = None,
    dry_run: bool = False,
) -> LayerOutcome:
    """Read and validate a layer file (one code path: geo.read_layer_file); keep a draft.

    A dry run reports and stores nothing. A draft with errors is kept for inspection but
    cannot be published; a file with no usable feature stores no draft.
    """
    check_options(data, options)
    result = read_layer_file(
        data,
        kind=options.kind,  # type: ignore[arg-type]
        datum=options.datum,
        district_bbox=district_bbox,
        swap_axes=options.swap_axes,
    )
    report: dict[str, Any] = result.report.to_dict()
    report["datum_used"] = result.datum_used.name if result.datum_used else None
    report["source_crs_note"] = result.source_crs_note
    report["kind"] = options.kind
    report["usable_features"] = len(result.features)
    report["dropped_properties"] = result.dropped_keys
    if dry_run or not result.features:
        return LayerOutcome(None, report)
    layer = BaseLayer(
        kind=options.kind,
        name=(options.name or options.filename or options.kind)[:200],
        status=GridStatus.DRAFT,
        source_datum=report["datum_used"] or options.datum,
        source_filename=(options.filename or "")[:255] or None,
        attribution=(options.attribution or "").strip()[:300] or None,
        report=report,
        feature_count=len(result.features),
        created_by_id=actor.id if actor else None,
    )
    session.add(layer)
    session.flush()
    _insert_features(session, layer.id, result.features)
    return LayerOutcome(layer, report)


def _insert_features(session: Session, layer_id: int, features: list[LayerFeature]) -> None:
    rows = []
    for f in features:
        min_lon, min_lat, max_lon, max_lat = f.geometry.bounds
        rows.append(
            {
                "layer_id": layer_id,
                "name": f.properties.get("name") or f.properties.get("address"),
                "label": f.label or None,
                "properties": f.properties,
                "geometry": rounded(f.geometry),
                "min_lon": min_lon,
                "min_lat": min_lat,
                "max_lon": max_lon,
                "max_lat": max_lat,
            }
        )
    for start in range(0, len(rows), 1000):
        session.execute(insert(BaseLayerFeature), rows[start : start + 1000])


def get_layer(session: Session, layer_id: int) -> BaseLayer:
    layer = session.get(BaseLayer, layer_id) if 0 < layer_id <= 2**31 - 1 else None
    if layer is None:
        raise NotFound(_l("No base layer %(id)s.", id=layer_id), field="id")
    return layer


def publish_layer(
    session: Session, actor: User | None, layer_id: int, *, context: AccessContext | None = None
) -> tuple[BaseLayer, int | None]:
    """Publish a draft (or republish a retired layer); the published layer of its kind is
    retired. Returns the layer and the id of the one retired. Refuses a layer with errors."""
    layer = get_layer(session, layer_id)
    if layer.status == GridStatus.PUBLISHED:
        raise Conflict(_l("Base layer %(id)s is already published.", id=layer_id), field="id")
    blocking = [p for p in layer.report.get("problems", []) if p.get("severity") == "error"]
    if blocking:
        raise InvalidInput(
            _l("This layer has %(n)d errors; fix the file and upload it again.", n=len(blocking)),
            code="layer_has_errors",
            details={"error_count": len(blocking), "problems": blocking[:MAX_LISTED_PROBLEMS]},
        )
    previous = session.scalar(
        select(BaseLayer).where(
            BaseLayer.kind == layer.kind, BaseLayer.status == GridStatus.PUBLISHED
        )
    )
    now = utcnow()
    if previous is not None:
        previous.status, previous.retired_at = GridStatus.RETIRED, now
        session.flush()
    layer.status, layer.published_at, layer.retired_at = GridStatus.PUBLISHED, now, None
    record(
        session,
        context or AccessContext(actor.id if actor else None),
        action="publish",
        subject_type="base_layer",
        subject_id=layer.id,
        detail={"kind": layer.kind, "retired_id": previous.id if previous else None},
    )
    session.flush()
    return layer, previous.id if previous else None
