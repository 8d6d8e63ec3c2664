"""Demo visit logs: recent visits to households with care tags, some of them overdue."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from sqlalchemy.orm import Session

from server.accounts.models import User
from server.demo.district import District
from server.demo.staff import GRID_WORKERS
from server.population.models import Visit

SITUATIONS = (
    "身体状况良好,生活能自理",
    "近期血压偏高,已提醒按时服药",
    "家中燃气灶老化,建议更换",
    "子女每周探望,情绪稳定",
    "行动不便,希望有人代购日用品",
    "独居,反映楼道灯不亮",
)
NEEDS = ("", "助餐服务", "上门理发", "代购代办", "家电维修", "心理慰藉")


def create_demo_visits(
    session: Session,
    district: District,
    users: dict[str, User],
    *,
    now: dt.datetime,
    version: int,
) -> int:
    """Visits over the last 60 days to households where somebody has a care tag."""
    rng = random.Random(404)
    tagged = {r.household_id for r in district.residents if r.care_tags}
    households = [h for h in district.households if h.id in tagged]
    residents_by_household: dict[object, list[object]] = {}
    for r in district.residents:
        residents_by_household.setdefault(r.household_id, []).append(r.id)
    count = 0
    for household in households:
        # Most tagged households were visited recently; some are left overdue on purpose.
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            at = now - dt.timedelta(days=rng.uniform(0.5, 60))
            worker = users[rng.choice(GRID_WORKERS)]
            seen = residents_by_household.get(household.id, [])
            outcome = rng.choices(["met", "not_home"], weights=[9, 1])[0]
            session.add(
                Visit(
                    household_id=uuid.UUID(household.id),
                    worker_id=worker.id,
                    visited_at=at,
                    received_at=at,
                    residents_seen=list(seen) if outcome == "met" else [],
                    outcome=outcome,
                    situation=rng.choice(SITUATIONS) if outcome == "met" else "家中无人,下次再访",
                    needs=rng.choice(NEEDS),
                    lon=household.lon,
                    lat=household.lat,
                    accuracy_m=rng.choice([8.0, 15.0, 30.0]),
                    version=version,
                )
            )
            count += 1
    session.flush()
    return count
