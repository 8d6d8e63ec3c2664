"""Read side of the directory: points with their average ratings, slots, reviews, bookings."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from server.lifeservices import hours
from server.lifeservices.models import Booking, ServicePoint, ServiceReview, ServiceSlot


def ratings(session: Session) -> dict[int, tuple[float, int]]:
    """point id → (average score, number of reviews)."""
    rows = session.execute(
        select(ServiceReview.point_id, func.avg(ServiceReview.score), func.count()).group_by(
            ServiceReview.point_id
        )
    ).all()
    return {r[0]: (round(float(r[1]), 1), int(r[2])) for r in rows}


def points(session: Session, q: str = "", kind: str = "") -> list[ServicePoint]:
    """Active points, of one kind, matching `q` in name, address or services offered.

    Filtered in Python: there are tens of points, and the services are a JSON list.
    """
    query = select(ServicePoint).where(ServicePoint.is_active.is_(True))
    if kind:
        query = query.where(ServicePoint.kind == kind)
    found = list(session.scalars(query.order_by(ServicePoint.kind, ServicePoint.code)))
    q = q.strip().lower()[:40]
    if not q:
        return found
    return [
        p
        for p in found
        if q in p.name_zh
        or q in p.name_en.lower()
        or q in p.address
        or any(q in str(s).lower() for s in p.services)
    ]


def points_geojson(session: Session) -> dict[str, Any]:
    """Every active point as an RFC 7946 FeatureCollection (WGS-84)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": p.code,
                "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                "properties": {
                    "code": p.code,
                    "kind": p.kind,
                    "name": p.name_zh,
                    "address": p.address,
                },
            }
            for p in points(session)
        ],
    }


def upcoming_slots(
    session: Session, point: ServicePoint, *, now: dt.datetime, zone: ZoneInfo, days: int = 7
) -> list[ServiceSlot]:
    """The point's slots of the coming `days`, only those on its opening days
    (server/lifeservices/hours.py; hours it cannot read hide nothing)."""
    slots = session.scalars(
        select(ServiceSlot)
        .where(
            ServiceSlot.point_id == point.id,
            ServiceSlot.starts_at > now,
            ServiceSlot.starts_at < now + dt.timedelta(days=days),
        )
        .order_by(ServiceSlot.starts_at, ServiceSlot.service)
    )
    opening = hours.parse(point.hours)
    return [s for s in slots if opening is None or opening.open_on(s.starts_at.astimezone(zone))]


def reviews(session: Session, point_id: int) -> list[ServiceReview]:
    return list(
        session.scalars(
            select(ServiceReview)
            .where(ServiceReview.point_id == point_id)
            .order_by(ServiceReview.created_at.desc())
            .limit(50)
        )
    )


def bookings(session: Session, status: str = "") -> list[Booking]:
    query = select(Booking).options(joinedload(Booking.slot).joinedload(ServiceSlot.point))
    if status:
        query = query.where(Booking.status == status)
    return list(session.scalars(query.order_by(Booking.created_at.desc()).limit(200)))
