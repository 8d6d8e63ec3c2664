"""Lookups behind the intake form: catalogue by typing, places by address, point → cell."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload

from server.accounts.models import User
from server.cases import grid_access
from server.catalogue import search
from server.catalogue.models import CatalogueItem
from server.enums import DutyRole, Role
from server.population.models import Household
from server.units.models import Unit


def catalogue(session: Session, q: str, *, limit: int) -> list[dict[str, Any]]:
    """Active items matching `q` (server/catalogue/search.py: pinyin initials anywhere in the
    name or a keyword, the code, the Chinese or English name), best match first."""
    if not q.strip():
        return []
    query = (
        select(CatalogueItem)
        .options(joinedload(CatalogueItem.default_unit))
        .where(CatalogueItem.is_active.is_(True))
    )
    ranked = []
    for i in session.scalars(query):
        rank = search.score(i.name_zh, i.keywords or [], i.code, q, i.name_en)
        if rank is not None:
            ranked.append((rank, len(i.name_zh), i.code, i))
    ranked.sort(key=lambda r: r[:3])
    items = [r[3] for r in ranked]
    return [
        {
            "id": i.id,
            "code": i.code,
            "name": i.name_zh,
            "name_en": i.name_en,
            "initials": i.pinyin_initials,
            "unit": i.default_unit.name_zh if i.default_unit else None,
            "limits_h": {
                "urgent": i.limit_urgent_hours,
                "high": i.limit_high_hours,
                "normal": i.limit_normal_hours,
            },
        }
        for i in items[:limit]
    ]


def places(session: Session, q: str, *, limit: int) -> list[dict[str, Any]]:
    """Known places matching an address fragment ("新华路329弄"): standard addresses first
    (server/addresses/search.py: any spelling, the exact door first), then buildings known
    only from the register, one row per building.

    Only the building's address and point (public, server/privacy/declaration.py). The
    fragment is matched against the building's address, never a household's: asking for
    "5号302室" must not tell a stranger that room 302 is on the register.
    """
    from server.addresses.search import places as standard_places

    q = q.strip()
    if len(q) < 2:
        return []
    doors = standard_places(session, q, limit=limit)
    if len(doors) >= limit:
        return doors
    seen = {d["address"] for d in doors}
    return (
        doors
        + [p for p in _register_places(session, q, limit=limit) if p["address"] not in seen][
            : limit - len(doors)
        ]
    )


def _register_places(session: Session, q: str, *, limit: int) -> list[dict[str, Any]]:
    """Buildings of the register matching ``q`` (an office without an address layer yet)."""
    q = q.strip().replace(" ", "")
    lane = case((Household.lane == "", ""), else_=func.replace(Household.lane + "弄", "弄弄", "弄"))
    building = Household.road + lane + func.replace(Household.building + "号", "号号", "号")
    rows = session.execute(
        select(
            Household.road,
            Household.lane,
            Household.building,
            Household.cell_code,
            func.avg(Household.lon),
            func.avg(Household.lat),
        )
        .where(func.replace(building, " ", "").like(f"%{q}%"))
        .group_by(Household.road, Household.lane, Household.building, Household.cell_code)
        .order_by(Household.road, Household.lane, Household.building)
        .limit(limit)
    ).all()
    return [
        {
            "address": f"{r[0]}{r[1] + '弄' if r[1] and not r[1].endswith('弄') else r[1]}"
            f"{r[2]}{'' if r[2].endswith('号') else '号'}",
            "cell_code": r[3],
            "lon": r[4],
            "lat": r[5],
        }
        for r in rows
    ]


def locate(session: Session, lon: float, lat: float, *, on: dt.date) -> dict[str, Any]:
    """Where a clicked point falls, and who would get the case (the form shows it)."""
    from server.cases.models import Case

    probe = Case(lon=lon, lat=lat)
    grid_access.place_and_assign(session, probe, on=on)
    cells = grid_access.cell_tree(session)
    who = None
    if probe.cell_code:
        _, people = grid_access.responsible_people(
            session, probe.cell_code, on=on, role=DutyRole.GRID_WORKER
        )
        who = people[0].display_name if people else None
    return {
        "placement": str(probe.placement),
        "cell_code": probe.cell_code,
        "cell_path": [cells[c].name for c in grid_access.ancestors(cells, probe.cell_code)],
        "assignee": who,
    }


def active_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.is_active.is_(True)).order_by(Unit.code)))


def staff(session: Session) -> list[User]:
    """People a case can be dispatched to (workers, and dispatchers recording for a unit)."""
    return list(
        session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.role.in_([Role.WORKER, Role.DISPATCHER]))
            .order_by(User.role, User.username)
        )
    )
