"""Read side of Open311: the catalogue as services, cases as service requests (plain dicts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from server.cases.models import Case, CaseEvent
from server.catalogue.models import CatalogueItem
from server.enums import OPEN_STATUSES, CaseStatus
from server.labels import label
from server.open311.inputs import MAX_DESCRIPTION, RequestFilter
from server.open311.models import Open311Request


def services(session: Session, locale: str) -> list[dict[str, Any]]:
    """Every active catalogue item as an Open311 service (codes are strings: gotcha 1)."""
    items = session.scalars(
        select(CatalogueItem)
        .options(joinedload(CatalogueItem.category))
        .where(CatalogueItem.is_active.is_(True))
        .order_by(CatalogueItem.code)
    )
    return [
        {
            "service_code": item.code,
            "service_name": item.name(locale),
            "description": item.name_en if locale != "en" else item.name_zh,
            "metadata": bool(item.questions),
            "type": "realtime",
            "keywords": ",".join(str(k) for k in item.keywords) or None,
            "group": item.category.name(locale),
        }
        for item in items
    ]


def service_definition(item: CatalogueItem, locale: str) -> dict[str, Any]:
    """The item's extra questions as service-definition attributes, in their file order."""
    suffix = "en" if locale == "en" else "zh"
    attributes = []
    for order, question in enumerate(item.questions, start=1):
        attribute: dict[str, Any] = {
            "variable": True,
            "code": question["code"],
            "datatype": question.get("datatype", "string"),
            "required": bool(question.get("required", False)),
            "datatype_description": None,
            "order": order,
            "description": question.get(f"description_{suffix}") or question["code"],
        }
        if attribute["datatype"] in ("singlevaluelist", "multivaluelist"):
            attribute["values"] = [
                {"key": v["key"], "name": v.get(f"name_{suffix}") or v["key"]}
                for v in question.get("values", [])
            ]
        attributes.append(attribute)
    return {"service_code": item.code, "attributes": attributes}


def _when(value: dt.datetime | None, zone: ZoneInfo) -> str | None:
    """W3C date-time with the offset (the spec requires a timezone): +08:00 in Shanghai."""
    return value.astimezone(zone).isoformat(timespec="seconds") if value else None


def is_closed(status: CaseStatus) -> bool:
    """Open311 knows two states: closed = closed, evaluated, cancelled (incl. merged)."""
    return status not in OPEN_STATUSES


def _status_notes(case: Case) -> str:
    note = str(label(case.status.value))
    if case.merged_into_id is not None:
        note += " (duplicate, merged)"
    return note


def _request(
    case: Case, submission: Open311Request | None, updated: dt.datetime | None, zone: ZoneInfo
) -> dict[str, Any]:
    item = case.catalogue_item
    closed = is_closed(case.status)
    return {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(case),
        "service_name": item.name_zh if item else None,
        "service_code": item.code if item else "",
        "description": case.description[:MAX_DESCRIPTION],
        "agency_responsible": case.unit.name_zh if case.unit else None,
        "service_notice": None,
        "requested_datetime": _when(case.reported_at, zone),
        "updated_datetime": _when(
            (case.closed_at if closed and case.closed_at else None) or updated or case.reported_at,
            zone,
        ),
        "expected_datetime": _when(case.due_at, zone),
        "address": case.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": round(case.lat, 6) if case.lat is not None else None,
        "long": round(case.lon, 6) if case.lon is not None else None,
        "media_url": submission.media_url if submission else None,
    }


def find_requests(
    session: Session,
    f: RequestFilter,
    *,
    channels: Collection[str],
    zone: ZoneInfo,
) -> list[dict[str, Any]]:
    """Cases of the public channels as service requests, newest first, one page."""
    query = (
        select(Case)
        .options(joinedload(Case.catalogue_item), joinedload(Case.unit))
        .where(Case.channel.in_(list(channels)))
    )
    if f.ids:
        query = query.where(Case.number.in_(f.ids))
    else:
        query = query.where(Case.reported_at >= f.start, Case.reported_at <= f.end)
        if f.service_codes:
            query = query.join(CatalogueItem, Case.catalogue_item_id == CatalogueItem.id).where(
                CatalogueItem.code.in_(f.service_codes)
            )
        if f.statuses == {"open"}:
            query = query.where(Case.status.in_(list(OPEN_STATUSES)))
        elif f.statuses == {"closed"}:
            query = query.where(Case.status.not_in(list(OPEN_STATUSES)))
    query = query.order_by(Case.reported_at.desc(), Case.number)
    cases = list(session.scalars(query.offset((f.page - 1) * f.page_size).limit(f.page_size)))
    return _rows(session, cases, zone)


def _rows(session: Session, cases: list[Case], zone: ZoneInfo) -> list[dict[str, Any]]:
    ids = [c.id for c in cases]
    if not ids:
        return []
    updated = dict(
        session.execute(
            select(CaseEvent.case_id, func.max(CaseEvent.at))
            .where(CaseEvent.case_id.in_(ids))
            .group_by(CaseEvent.case_id)
        ).all()
    )
    submissions = {
        s.case_id: s
        for s in session.scalars(select(Open311Request).where(Open311Request.case_id.in_(ids)))
    }
    return [_request(c, submissions.get(c.id), updated.get(c.id), zone) for c in cases]


def request_by_number(
    session: Session, number: str, *, channels: Collection[str], zone: ZoneInfo
) -> dict[str, Any] | None:
    case = session.scalar(
        select(Case)
        .options(joinedload(Case.catalogue_item), joinedload(Case.unit))
        .where(Case.number == number, Case.channel.in_(list(channels)))
    )
    return _rows(session, [case], zone)[0] if case else None


def request_by_token(session: Session, token: str) -> dict[str, Any] | None:
    row = session.execute(
        select(Case.number, Open311Request.token)
        .join(Open311Request, Open311Request.case_id == Case.id)
        .where(Open311Request.token == token)
    ).first()
    return {"service_request_id": row[0], "token": row[1]} if row else None
