"""One service point with a slot tomorrow, on top of the back-office world."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from server.extensions import db
from server.lifeservices.models import ServicePoint, ServiceSlot
from tests.server.backoffice_world import IN_G1, T0


def meal_point(start: dt.datetime) -> ServicePoint:
    """A meal point in G1 with one two-hour slot of three places from `start` (not added)."""
    p = ServicePoint(
        code="ME-01",
        kind="meal",
        name_zh="番禺居民区老年助餐点",
        name_en="Panyu meal point",
        address="番禺路100号",
        lon=IN_G1[0],
        lat=IN_G1[1],
        cell_code="G1",
        hours="每日 11:00–13:00",
        services=["老年助餐", "送餐上门"],
        phone="021-62001234",
    )
    p.slots.append(
        ServiceSlot(
            service="老年助餐", starts_at=start, ends_at=start + dt.timedelta(hours=2), capacity=3
        )
    )
    return p


@pytest.fixture
def point(world: Any) -> ServicePoint:
    p = meal_point(T0 + dt.timedelta(days=1))
    db.session.add(p)
    db.session.commit()
    return p
