"""Read-only questions about the grid: versions, cells as GeoJSON, locate a point, duties."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from geo.datums import Datum, from_wgs84, parse_datum, to_wgs84
from geo.errors import GeoError
from geo.export import export_grid_bytes, to_feature_collection
from geo.locate import GridIndex
from server.accounts.models import User
from server.exceptions import InvalidInput, NotFound
from server.grid import displacement, impact, operations, people
from server.grid.index import PublishedGrid
from server.grid.models import Cell, Duty, GridVersion
from server.grid.storage import load_cells


def datum_named(text: str) -> Datum:
    try:
        return parse_datum(text)
    except GeoError:
        raise InvalidInput(
            _l("Unknown datum %(datum)s: use wgs84, gcj02, bd09 or EPSG:NNNN.", datum=text),
            field="datum",
        ) from None


def version_summary(session: Session, version: GridVersion) -> dict[str, Any]:
    count = session.scalar(select(func.count()).where(Cell.grid_version_id == version.id))
    return {
        "id": version.id,
        "name": version.name,
        "status": str(version.status),
        "source_datum": version.source_datum,
        "source_filename": version.source_filename,
        "created_at": version.created_at,
        "published_at": version.published_at,
        "retired_at": version.retired_at,
        "cell_count": count or 0,
        "publishable": not operations.blocking_problems(version) and bool(count),
        "report": version.report,
    }


def list_versions(session: Session) -> list[dict[str, Any]]:
    versions = session.scalars(select(GridVersion).order_by(GridVersion.id.desc())).all()
    return [version_summary(session, v) for v in versions]


def _point_in_wgs84(lon: float, lat: float, datum: Datum) -> tuple[float, float]:
    if datum.is_geographic:
        if not -180 <= lon <= 180:
            raise InvalidInput(_l("Longitude must be between -180 and 180."), field="lon")
        if not -90 <= lat <= 90:
            raise InvalidInput(_l("Latitude must be between -90 and 90."), field="lat")
    x, y = to_wgs84(lon, lat, datum)
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise InvalidInput(_l("The point is outside the datum's valid area."), field="lon")
    return x, y


def locate_point(
    session: Session, grid: PublishedGrid | None, lon: float, lat: float, datum: str, *, on: dt.date
) -> dict[str, Any]:
    """Where a point falls in the published grid and who answers for that cell."""
    wgs_lon, wgs_lat = _point_in_wgs84(lon, lat, datum_named(datum))
    answer: dict[str, Any] = {
        "status": "none",
        "distance_m": None,
        "lon": wgs_lon,
        "lat": wgs_lat,
        "grid_version_id": grid.version_id if grid else None,
        "path": [],
        "responsible": None,
    }
    if grid is None:
        return answer
    found = grid.index.locate(wgs_lon, wgs_lat)
    answer["status"], answer["distance_m"] = found.status, found.distance_m
    answer["path"] = [{"code": c.code, "name": c.name, "level": str(c.level)} for c in found.path]
    if found.cell is not None:
        path = [c.code for c in found.path]
        answer["responsible"] = people.responsible_people(session, path[0], on=on, path=path)
    return answer


def _version_or_published(session: Session, version_id: int | None) -> int | None:
    if version_id is not None:
        return operations.get_version(session, version_id).id
    return people.published_version_id(session)


def cells_geojson(
    session: Session,
    *,
    datum: str,
    bbox: str | None = None,
    level: str | None = None,
    version_id: int | None = None,
) -> dict[str, Any]:
    """Cells meeting ``bbox`` (given in ``datum``) as a FeatureCollection in ``datum``."""
    target = datum_named(datum)
    found = _version_or_published(session, version_id)
    if found is None:
        return to_feature_collection([], datum=target)
    box = None
    if bbox is not None:
        x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
        corners = [
            _point_in_wgs84(x, y, target) for x, y in ((x0, y0), (x1, y1), (x0, y1), (x1, y0))
        ]
        lons, lats = [c[0] for c in corners], [c[1] for c in corners]
        box = (min(lons), min(lats), max(lons), max(lats))
    cells = load_cells(session, found, bbox=box, level=level)
    collection = to_feature_collection(cells, datum=target)
    collection["grid_version_id"] = found
    return collection


def export_version(session: Session, version_id: int, datum: str) -> bytes:
    """A version as GeoJSON bytes that re-import to the identical grid."""
    target = datum_named(datum)
    version = operations.get_version(session, version_id)
    return export_grid_bytes(load_cells(session, version.id), datum=target)


def publish_preview(
    session: Session,
    version_id: int,
    *,
    near_m: float,
    on: dt.date,
    published: PublishedGrid | None,
    threshold_m: float,
) -> dict[str, Any]:
    """What a publisher confirms: the dry run's numbers, the displacement, the diff."""
    version = operations.get_version(session, version_id)
    index: GridIndex | None = published.index if published else None
    found = impact.publish_impact(session, version.id, near_m=near_m, on=on, published=index)
    diff = operations.diff_against_published(session, version.id)
    return {
        **found.to_dict(),
        "displacement": displacement.current(session, version, threshold_m),
        "diff": diff.to_dict() if diff else None,
    }


def problem_spots(version: GridVersion, datum: Datum) -> list[dict[str, Any]]:
    """Located problems of a version's report, moved into ``datum`` for the preview map."""
    spots = []
    for p in version.report.get("problems", []):
        if p.get("location"):
            x, y = from_wgs84(p["location"][0], p["location"][1], datum)
            spots.append({**p, "location": [x, y]})
    return spots


def list_duties(
    session: Session,
    *,
    cell_code: str | None = None,
    username: str | None = None,
    current_on: dt.date | None = None,
) -> list[Duty]:
    query = select(Duty).options(selectinload(Duty.user)).order_by(Duty.cell_code, Duty.id)
    if cell_code:
        query = query.where(Duty.cell_code == cell_code)
    if username:
        user_id = session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise NotFound(_l("No user named %(name)s.", name=username), field="username")
        query = query.where(Duty.user_id == user_id)
    if current_on:
        query = query.where(
            Duty.starts_on <= current_on, or_(Duty.ends_on.is_(None), Duty.ends_on >= current_on)
        )
    return list(session.scalars(query).all())
