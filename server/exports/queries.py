"""Cases for export, as rows: what is included depends on who asks (personal data)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server.cases.models import Case

#: Columns every export has; the caller's name and phone are added only on request by a
#: role that may see them (dispatcher, admin), and that export is audited.
COLUMNS = (
    "number",
    "channel",
    "status",
    "priority",
    "catalogue_code",
    "catalogue_name",
    "title",
    "address",
    "cell_code",
    "placement",
    "unit",
    "reported_at",
    "dispatched_at",
    "due_at",
    "closed_at",
    "satisfaction",
    "lon",
    "lat",
)
CALLER_COLUMNS = ("caller_name", "caller_phone")


def _when(value: dt.datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat(timespec="seconds") if value else None


def cases(
    session: Session,
    *,
    since: dt.datetime,
    until: dt.datetime,
    with_caller: bool,
    zone: ZoneInfo,
    limit: int,
) -> list[dict[str, Any]]:
    """Cases reported in [since, until), oldest first, as flat rows."""
    found = session.scalars(
        select(Case)
        .options(joinedload(Case.catalogue_item), joinedload(Case.unit))
        .where(Case.reported_at >= since, Case.reported_at < until)
        .order_by(Case.reported_at, Case.number)
        .limit(limit)
    )
    rows = []
    for c in found:
        row: dict[str, Any] = {
            "number": c.number,
            "channel": c.channel.value,
            "status": c.status.value,
            "priority": c.priority.value,
            "catalogue_code": c.catalogue_item.code if c.catalogue_item else None,
            "catalogue_name": c.catalogue_item.name_zh if c.catalogue_item else None,
            "title": c.title,
            "address": c.address,
            "cell_code": c.cell_code,
            "placement": c.placement.value,
            "unit": c.unit.name_zh if c.unit else None,
            "reported_at": _when(c.reported_at, zone),
            "dispatched_at": _when(c.dispatched_at, zone),
            "due_at": _when(c.due_at, zone),
            "closed_at": _when(c.closed_at, zone),
            "satisfaction": c.satisfaction,
            "lon": c.lon,
            "lat": c.lat,
        }
        if with_caller:
            row["caller_name"], row["caller_phone"] = c.caller_name, c.caller_phone
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
    columns = COLUMNS + (CALLER_COLUMNS if with_caller else ())
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _safe(v) for k, v in row.items()})
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _safe(value: Any) -> Any:
    """CSV injection: a cell starting with = + - @ would run as a formula in a spreadsheet."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
