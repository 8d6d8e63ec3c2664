"""The address check (地址核对): households whose address matched no door or several, and the
verb that places one by a door or a point picked on the map (audited, with a reason)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.address_text import parse
from geo.locate import GridIndex
from server.addresses.matching import AddressIndex, Door
from server.addresses.models import StandardAddress
from server.audit.operations import AccessContext
from server.exceptions import Conflict, InvalidInput, NotFound
from server.imports.models import ImportReview
from server.population import editing
from server.population.models import Household
from sync.db import utcnow

ADDRESS_REASONS = ("address_unmatched", "address_ambiguous")
SHOWN = 200  # open items per page


@dataclass
class ReviewItem:
    """One household to place, with the doors its address may mean."""

    review: ImportReview
    household: Household
    candidates: list[Door]


def open_items(session: Session, *, limit: int = SHOWN) -> tuple[list[ReviewItem], int]:
    """Unresolved address reviews (oldest first) and how many there are in all."""
    query = select(ImportReview).where(
        ImportReview.reason.in_(ADDRESS_REASONS), ImportReview.resolved_at.is_(None)
    )
    reviews = list(session.scalars(query.order_by(ImportReview.id).limit(limit)))
    total = len(list(session.scalars(query.with_only_columns(ImportReview.id))))
    index = AddressIndex.load(session)
    households = {
        h.id: h
        for h in session.scalars(
            select(Household).where(Household.id.in_([uuid.UUID(r.subject_id) for r in reviews]))
        )
    }
    items = []
    for review in reviews:
        household = households.get(uuid.UUID(review.subject_id))
        if household is not None:
            items.append(ReviewItem(review, household, _candidates(index, household.address)))
    return items, total


def _candidates(index: AddressIndex, address: str) -> list[Door]:
    """Doors the address may mean: the matcher's, else every door of its road and lane."""
    key = parse(address)
    if key is None:
        return []
    found = index.match(key)
    if found.doors:
        return list(found.doors)
    lane = index.by_lane.get((key.road, key.lane, key.sublane), [])
    return lane[:20]


def resolve(
    session: Session,
    access: AccessContext,
    review_id: int,
    *,
    door_id: int | None = None,
    point: tuple[float, float] | None = None,
    grid: GridIndex | None = None,
) -> Household:
    """Place the household of an address review at a door, or at a point (its building
    group found by ``grid``); the review is resolved, the change audited."""
    review = session.get(ImportReview, review_id)
    if review is None or review.reason not in ADDRESS_REASONS:
        raise NotFound(_l("No such address to check."), field="review_id")
    if review.resolved_at is not None:
        raise Conflict(_l("This address was already placed."), field="review_id")
    household = session.get(Household, uuid.UUID(review.subject_id))
    if household is None:
        raise NotFound(_l("No such address to check."), field="review_id")
    changes: dict[str, Any]
    if door_id is not None:
        door = session.get(StandardAddress, door_id)
        if door is None or not door.is_active:
            raise InvalidInput(_l("Choose one of the doors shown."), field="door_id")
        changes = {"address_id": door.id, "lon": door.lon, "lat": door.lat}
        cell, how = door.cell_code, f"door {door.code}"
    elif point is not None:
        cell = _cell_at(grid, point)
        changes = {"address_id": None, "lon": point[0], "lat": point[1]}
        how = "point"
    else:
        raise InvalidInput(_l("Choose a door, or click the map."), field="door_id")
    if not cell:
        raise InvalidInput(_l("That place is in no building group."), field="door_id")
    changes["address_match"] = "manual"
    editing.update_household(
        session, access, household, changes, cell_code=cell, reason=f"address check ({how})"
    )
    review.resolved_at, review.resolved_by_id = utcnow(), access.actor_id
    review.resolution = how
    session.flush()
    return household


def _cell_at(grid: GridIndex | None, point: tuple[float, float]) -> str | None:
    if grid is None:
        return None
    placement = grid.locate(point[0], point[1], near_m=0)
    cell = placement.cell
    return cell.code if cell is not None and str(cell.level) == "building_group" else None


def doors_geojson(session: Session) -> dict[str, Any]:
    """Every active door with a point, for the map (no personal data)."""
    a = StandardAddress
    rows = session.execute(
        select(a.id, a.code, a.text, a.cell_code, a.lon, a.lat).where(
            a.is_active.is_(True), a.lon.is_not(None), a.lat.is_not(None)
        )
    ).all()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": r[0],
                "geometry": {"type": "Point", "coordinates": [r[4], r[5]]},
                "properties": {"code": r[1], "address": r[2], "cell_code": r[3]},
            }
            for r in rows
        ],
    }
