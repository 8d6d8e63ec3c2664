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
from server.privacy import Audience, listed_publicly, render_case


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


def _status_notes(view: dict[str, Any]) -> str:
    note = str(label(view["status"].value))
    if view.get("merged"):
        note += " (duplicate, merged)"
    return note


#: What a service request is made of; the declaration decides which of them anyone may read.
_FIELDS = (
    "number",
    "status",
    "merged",
    "service_code",
    "service_name",
    "description",
    "agency",
    "reported_at",
    "closed_at",
    "due_at",
    "address",
    "lon",
    "lat",
    "media_url",
)


def _request(
    case: Case, submission: Open311Request | None, updated: dt.datetime | None, zone: ZoneInfo
) -> dict[str, Any]:
    """One case as a service request: its public side only (server/privacy/declaration.py)."""
    view = render_case(
        case,
        Audience.PUBLIC,
        fields=_FIELDS,
        extra={"media_url": submission.media_url if submission else None},
    )
    closed = is_closed(case.status)
    closed_at = view.get("closed_at") if closed else None
    return {
        "service_request_id": view["number"],
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(view),
        "service_name": view.get("service_name"),
        "service_code": view.get("service_code") or "",
        "description": (view.get("description") or "")[:MAX_DESCRIPTION] or None,
        "agency_responsible": view.get("agency"),
        "service_notice": None,
        "requested_datetime": _when(view["reported_at"], zone),
        "updated_datetime": _when(closed_at or updated or view["reported_at"], zone),
        "expected_datetime": _when(view.get("due_at"), zone),
        "address": view.get("address") or None,
        "address_id": None,
        "zipcode": None,
        "lat": view.get("lat"),
        "long": view.get("lon"),
        "media_url": view.get("media_url"),
    }


def find_requests(
    session: Session,
    f: RequestFilter,
    *,
    channels: Collection[str],
    zone: ZoneInfo,
) -> list[dict[str, Any]]:
    """Cases public surfaces may list, as service requests, newest first, one page."""
    query = (
        select(Case)
        .options(joinedload(Case.catalogue_item), joinedload(Case.unit))
        .where(listed_publicly(channels))
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
        .where(Case.number == number, listed_publicly(channels))
    )
    return _rows(session, [case], zone)[0] if case else None


def request_by_token(
    session: Session, token: str, *, channels: Collection[str]
) -> dict[str, Any] | None:
    """The request a token stands for, unless the case has left public view meanwhile."""
    row = session.execute(
        select(Case.number, Open311Request.token)
        .join(Open311Request, Open311Request.case_id == Case.id)
        .where(Open311Request.token == token, listed_publicly(channels))
    ).first()
    return {"service_request_id": row[0], "token": row[1]} if row else None
