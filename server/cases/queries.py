"""Read-side of cases: the queue, field reports to review, likely duplicates, one case."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, joinedload

from server.cases.deadlines import effective_due, time_left
from server.cases.models import Case, CaseEvent, PhotoLink
from server.cases.workflow import CLOCK_STATUSES
from server.catalogue.models import CatalogueItem
from server.enums import OPEN_STATUSES, CaseStatus, Channel

_M_PER_DEG = 111_320.0
#: "Due soon" in the queue and on the home page: the deadline falls within this time.
DUE_SOON = dt.timedelta(hours=24)


@dataclass(frozen=True)
class QueueFilter:
    view: str = "open"  # open | review | soon | overdue | mine | unplaced | all
    status: CaseStatus | None = None
    q: str = ""
    cell_codes: frozenset[str] | None = None  # None: every cell
    user_id: int | None = None
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class QueueRow:
    case: Case
    due: dt.datetime | None
    left: dt.timedelta | None

    @property
    def overdue(self) -> bool:
        return self.left is not None and self.left.total_seconds() < 0


def _scoped(query: Select[Any], cells: frozenset[str] | None) -> Select[Any]:
    return query if cells is None else query.where(Case.cell_code.in_(sorted(cells)))


def _running(now: dt.datetime, *, soon: bool) -> ColumnElement[bool]:
    """Overdue (deadline passed) or, with `soon`, due within DUE_SOON but not yet overdue.

    A paused case is neither; the others go by their stored deadline.
    """
    running = and_(Case.status.in_(CLOCK_STATUSES), Case.paused_since.is_(None))
    if soon:
        return and_(running, Case.due_at >= now, Case.due_at < now + DUE_SOON)
    return and_(running, Case.due_at < now)


def _filtered(f: QueueFilter, now: dt.datetime) -> Select[Any]:
    query = _scoped(select(Case), f.cell_codes)
    if f.view == "all":
        pass
    elif f.view == "review":
        query = query.where(Case.status == CaseStatus.REPORTED)
    elif f.view in ("overdue", "soon"):
        query = query.where(_running(now, soon=f.view == "soon"))
    elif f.view == "mine":
        query = query.where(Case.status.in_(OPEN_STATUSES), Case.assignee_id == f.user_id)
    elif f.view == "unplaced":
        query = query.where(Case.status.in_(OPEN_STATUSES), Case.cell_code.is_(None))
    else:
        query = query.where(Case.status.in_(OPEN_STATUSES))
    if f.status is not None:
        query = query.where(Case.status == f.status)
    if f.q.strip():
        like = f"%{f.q.strip()}%"
        query = query.where(
            or_(Case.number.like(like), Case.title.like(like), Case.address.like(like))
        )
    return query


def queue(session: Session, f: QueueFilter, *, now: dt.datetime) -> tuple[list[QueueRow], int]:
    """One page of the queue, most urgent first (deadline, then priority, then age), and total."""
    base = _filtered(f, now)
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    urgency = sql_case((Case.priority == "urgent", 0), (Case.priority == "high", 1), else_=2)
    page = (
        base.options(
            joinedload(Case.catalogue_item), joinedload(Case.assignee), joinedload(Case.unit)
        )
        .order_by(Case.due_at.is_(None), Case.due_at, urgency, Case.reported_at)
        .limit(f.per_page)
        .offset((max(f.page, 1) - 1) * f.per_page)
    )
    rows = [QueueRow(c, effective_due(c, now), time_left(c, now)) for c in session.scalars(page)]
    return rows, total


def counts_by_view(
    session: Session, cells: frozenset[str] | None, *, now: dt.datetime, user_id: int | None
) -> dict[str, int]:
    """Tab counts of the queue, in one query."""
    open_ = Case.status.in_(OPEN_STATUSES)
    row = session.execute(
        _scoped(
            select(
                func.sum(sql_case((open_, 1), else_=0)),
                func.sum(sql_case((Case.status == CaseStatus.REPORTED, 1), else_=0)),
                func.sum(sql_case((_running(now, soon=True), 1), else_=0)),
                func.sum(sql_case((_running(now, soon=False), 1), else_=0)),
                func.sum(sql_case((and_(open_, Case.assignee_id == user_id), 1), else_=0)),
                func.sum(sql_case((and_(open_, Case.cell_code.is_(None)), 1), else_=0)),
            ).where(open_),
            cells,
        )
    ).one()
    return dict(
        zip(
            ("open", "review", "soon", "overdue", "mine", "unplaced"),
            (int(v or 0) for v in row),
            strict=True,
        )
    )


def case_detail(session: Session, case_id: Any) -> Case | None:
    return session.scalar(
        select(Case)
        .options(
            joinedload(Case.catalogue_item).joinedload(CatalogueItem.category),
            joinedload(Case.assignee),
            joinedload(Case.unit),
            joinedload(Case.reporter),
        )
        .where(Case.id == case_id)
    )


def timeline(session: Session, case: Case) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent)
            .options(joinedload(CaseEvent.actor))
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.seq)
        )
    )


def photos_of(session: Session, case_ids: list[Any]) -> list[PhotoLink]:
    """The cases' photo links that count: a pending one (server/photos/access.py) may name
    someone else's photo and shows once its linker's bytes arrive."""
    return list(
        session.scalars(
            select(PhotoLink)
            .where(PhotoLink.case_id.in_(case_ids), PhotoLink.proof.is_not(None))
            .order_by(PhotoLink.created_at)
        )
    )


def merged_reports(session: Session, case: Case) -> list[Case]:
    """Reports merged into this case (their reporters and photos stay visible here)."""
    return list(
        session.scalars(
            select(Case)
            .options(joinedload(Case.reporter))
            .where(Case.merged_into_id == case.id)
            .order_by(Case.reported_at)
        )
    )


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine distance in metres.

    >>> round(distance_m(121.43, 31.21, 121.43, 31.2105))
    56
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def likely_duplicates(
    session: Session, case: Case, *, radius_m: float, window: dt.timedelta
) -> list[tuple[Case, float]]:
    """Live cases of the same catalogue category within `radius_m` and `window` of this one.

    Nearest first, with the distance in metres. A case without a point or item has none.
    """
    if case.lon is None or case.lat is None or case.catalogue_item is None:
        return []
    dlat = radius_m / _M_PER_DEG
    dlon = dlat / max(math.cos(math.radians(case.lat)), 0.01)
    query = (
        select(Case)
        .join(CatalogueItem, CatalogueItem.id == Case.catalogue_item_id)
        .where(
            Case.id != case.id,
            CatalogueItem.category_id == case.catalogue_item.category_id,
            Case.status != CaseStatus.CANCELLED,
            Case.lon.between(case.lon - dlon, case.lon + dlon),
            Case.lat.between(case.lat - dlat, case.lat + dlat),
            Case.reported_at.between(case.reported_at - window, case.reported_at + window),
        )
    )
    found = []
    for other in session.scalars(query):
        d = distance_m(case.lon, case.lat, other.lon or 0.0, other.lat or 0.0)
        if d <= radius_m:
            found.append((other, d))
    return sorted(found, key=lambda pair: pair[1])


def clock_offset(case: Case) -> dt.timedelta | None:
    """Device time minus server receipt time of a synced report (None if not from a phone)."""
    if case.recorded_at_device is None:
        return None
    return case.recorded_at_device - case.reported_at


FIELD_CHANNELS = (Channel.PATROL, Channel.VISIT)


@dataclass(frozen=True)
class ReviewExtras:
    """What the review queue shows beside a report: photos, clock offset, duplicates."""

    photos: list[str]
    offset: dt.timedelta | None
    duplicates: list[tuple[Case, float]]


def review_extras(
    session: Session, cases: list[Case], *, radius_m: float, window: dt.timedelta
) -> dict[Any, ReviewExtras]:
    """Per case of a review page: its report photos (one query) and likely duplicates."""
    photos: dict[Any, list[str]] = {}
    for link in photos_of(session, [c.id for c in cases]):
        photos.setdefault(link.case_id, []).append(link.photo_sha256)
    return {
        c.id: ReviewExtras(
            photos.get(c.id, []),
            clock_offset(c),
            likely_duplicates(session, c, radius_m=radius_m, window=window),
        )
        for c in cases
    }
