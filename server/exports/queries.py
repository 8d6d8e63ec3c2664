"""Cases for export, as rows: what is included depends on who asks (personal data)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server.cases.models import Case
from server.exports.cells import safe_cell
from server.privacy import Audience, render_case

#: Columns of every export, as case fields (server/privacy/declaration.py) under the export's
#: own names. What a column holds depends on who reads the export: without personal-data
#: rights, a private case's title is left empty and its place given as its building and a
#: point to ~100 m; callers' names and phones come only with the box, for the office roles.
COLUMNS: dict[str, str] = {
    "number": "number",
    "channel": "channel",
    "disclosure": "disclosure",
    "status": "status",
    "priority": "priority",
    "catalogue_code": "service_code",
    "catalogue_name": "service_name",
    "title": "title",
    "address": "address",
    "cell_code": "cell_code",
    "placement": "placement",
    "unit": "agency",
    "reported_at": "reported_at",
    "dispatched_at": "dispatched_at",
    "due_at": "due_at",
    "closed_at": "closed_at",
    "satisfaction": "satisfaction",
    "lon": "lon",
    "lat": "lat",
}
CALLER_COLUMNS = ("caller_name", "caller_phone")
_TIMES = frozenset({"reported_at", "dispatched_at", "due_at", "closed_at"})


def _when(value: dt.datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat(timespec="seconds") if value else None


def _plain(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, dt.datetime):
        return _when(value, zone)
    return value.value if isinstance(value, Enum) else value


def cases(
    session: Session,
    *,
    since: dt.datetime,
    until: dt.datetime,
    audience: Audience,
    zone: ZoneInfo,
    limit: int,
) -> list[dict[str, Any]]:
    """Cases reported in [since, until), oldest first, as flat rows for `audience`."""
    found = session.scalars(
        select(Case)
        .options(joinedload(Case.catalogue_item), joinedload(Case.unit))
        .where(Case.reported_at >= since, Case.reported_at < until)
        .order_by(Case.reported_at, Case.number)
        .limit(limit)
    )
    wanted = (*COLUMNS.values(), *CALLER_COLUMNS)
    rows = []
    for c in found:
        view = render_case(c, audience, fields=wanted)
        row = {column: _plain(view.get(name), zone) for column, name in COLUMNS.items()}
        row["title"] = row["title"] or ""
        row.update({name: view[name] for name in CALLER_COLUMNS if name in view})
        rows.append(row)
    return rows


def as_geojson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 7946: WGS-84 lon/lat; cases with no point have a null geometry."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": r["number"],
                "geometry": (
                    {"type": "Point", "coordinates": [r["lon"], r["lat"]]}
                    if r["lon"] is not None and r["lat"] is not None
                    else None
                ),
                "properties": {k: v for k, v in r.items() if k not in ("lon", "lat")},
            }
            for r in rows
        ],
    }


def as_csv(rows: list[dict[str, Any]], with_caller: bool) -> bytes:
    """UTF-8 with BOM (Excel opens it as UTF-8); formula-looking cells are quoted with '."""
    out = io.StringIO()
    columns = (*COLUMNS, *(CALLER_COLUMNS if with_caller else ()))
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
    return ("\ufeff" + out.getvalue()).encode("utf-8")
