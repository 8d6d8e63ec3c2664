"""Reads of the base layers: the published features in a bbox (maps, later the phone)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.layer_reading import KINDS
from server.enums import GridStatus
from server.exceptions import InvalidInput
from server.layers.models import BaseLayer, BaseLayerFeature

MAX_FEATURES = 20_000  # a pull past this is cut and says so (a street holds a few thousand)
MAX_SPAN_DEG = 0.5  # ~50 km: a wider box is a mistake, not a map view


def parse_bbox(text: str | None) -> tuple[float, float, float, float]:
    """``min_lon,min_lat,max_lon,max_lat`` (WGS-84) → a tuple; InvalidInput otherwise.

    >>> parse_bbox("121.41,31.2,121.43,31.22")
    (121.41, 31.2, 121.43, 31.22)
    """
    try:
        parts = [float(p) for p in (text or "").split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(abs(p) <= 180 for p in parts):
        raise InvalidInput(
            _l("bbox must be min_lon,min_lat,max_lon,max_lat in WGS-84 degrees."), field="bbox"
        )
    min_lon, min_lat, max_lon, max_lat = parts
    if min_lon > max_lon or min_lat > max_lat or abs(min_lat) > 90 or abs(max_lat) > 90:
        raise InvalidInput(_l("bbox corners are in the wrong order."), field="bbox")
    if max_lon - min_lon > MAX_SPAN_DEG or max_lat - min_lat > MAX_SPAN_DEG:
        raise InvalidInput(
            _l("bbox spans more than %(deg)s degrees; ask for a smaller area.", deg=MAX_SPAN_DEG),
            field="bbox",
        )
    return min_lon, min_lat, max_lon, max_lat


def parse_kinds(text: str | None) -> tuple[str, ...]:
    """A comma list of kinds (empty: all); InvalidInput for an unknown one."""
    kinds = tuple(k for k in (text or "").split(",") if k) or KINDS
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InvalidInput(
            _l("Unknown layer kind %(kind)s: use roads, buildings or poi.", kind=unknown[0]),
            field="kinds",
        )
    return kinds


def features_geojson(
    session: Session,
    bbox: tuple[float, float, float, float],
    kinds: tuple[str, ...] = KINDS,
    limit: int = MAX_FEATURES,
) -> dict[str, Any]:
    """The published features of ``kinds`` touching ``bbox`` as a FeatureCollection.

    Properties are the label texts only (``kind``, ``label`` and the kept names); the
    collection carries the credits of the layers drawn (``attribution``) and ``truncated``.
    """
    min_lon, min_lat, max_lon, max_lat = bbox
    f, layer = BaseLayerFeature, BaseLayer
    rows = session.execute(
        select(layer.kind, f.id, f.label, f.properties, f.geometry)
        .join(layer, layer.id == f.layer_id)
        .where(
            layer.status == GridStatus.PUBLISHED,
            layer.kind.in_(kinds),
            f.max_lon >= min_lon,
            f.min_lon <= max_lon,
            f.max_lat >= min_lat,
            f.min_lat <= max_lat,
        )
        .order_by(layer.kind, f.id)
        .limit(limit + 1)
    ).all()
    features = [
        {
            "type": "Feature",
            "id": fid,
            "geometry": geometry,
            "properties": {"kind": kind, "label": label or "", **props},
        }
        for kind, fid, label, props, geometry in rows[:limit]
    ]
    credits = session.scalars(
        select(layer.attribution)
        .where(layer.status == GridStatus.PUBLISHED, layer.kind.in_(kinds))
        .where(layer.attribution.is_not(None))
        .distinct()
    ).all()
    return {
        "type": "FeatureCollection",
        "features": features,
        "attribution": sorted(set(credits)),
        "truncated": len(rows) > limit,
    }


def list_layers(session: Session) -> list[BaseLayer]:
    """Every base layer, newest first."""
    return list(session.scalars(select(BaseLayer).order_by(BaseLayer.id.desc())))


def published_counts(session: Session) -> dict[str, int]:
    """Features per published kind."""
    rows = session.execute(
        select(BaseLayer.kind, func.count(BaseLayerFeature.id))
        .join(BaseLayerFeature, BaseLayerFeature.layer_id == BaseLayer.id)
        .where(BaseLayer.status == GridStatus.PUBLISHED)
        .group_by(BaseLayer.kind)
    )
    return {kind: count for kind, count in rows}
