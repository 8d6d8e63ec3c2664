"""Demo service points on real Xinhua roads: 8 convenience, 5 meal, 38 mutual-aid, 2 centres.

Each point sits at a demo building (so inside its cell), with opening hours, services and a
contact number; slots for the next week make the booking pages usable at once.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server.demo.models import DemoHousehold
from server.lifeservices import hours as opening_hours
from server.lifeservices.models import ServicePoint, ServiceSlot

SHANGHAI = ZoneInfo("Asia/Shanghai")

KINDS = (
    # kind, count, name pattern, English, hours, services
    (
        "centre",
        2,
        None,
        None,
        "周一至周六 8:30–17:00",
        ["证照办理", "社保咨询", "老年综合津贴", "居住证"],
    ),
    (
        "convenience",
        8,
        "{area}便民服务点",
        "{area} convenience point",
        "每日 8:00–20:00",
        ["小修小补", "磨刀修伞", "代收快递", "家电维修咨询"],
    ),
    (
        "meal",
        5,
        "{area}老年助餐点",
        "{area} elderly meal point",
        "每日 11:00–13:00、17:00–18:30",
        ["老年助餐", "送餐上门", "营养咨询"],
    ),
    (
        "mutual_aid",
        38,
        "{road}{place}睦邻点",
        "{road} {place} mutual-aid point",
        "周一至周五 9:00–16:00",
        ["睦邻茶叙", "读报", "健康自测", "手工活动"],
    ),
)
CENTRES = (
    ("新华路街道社区事务受理服务中心", "Xinhua community affairs service centre"),
    ("新华路街道社区综合为老服务中心", "Xinhua integrated elderly service centre"),
)
#: Services that take appointments, with their slot capacity.
BOOKABLE = {"证照办理": 6, "小修小补": 4, "老年助餐": 10, "健康自测": 5, "家电维修咨询": 3}


def load_service_points(
    session: Session,
    households: list[DemoHousehold],
    area_names: dict[str, str],
    *,
    now: dt.datetime,
    seed: int = 329,
) -> int:
    """Write the points and a week of slots; returns the number of points."""
    rng = random.Random(seed)
    buildings = sorted(
        {(h.road, h.lane, h.building_no): h for h in households}.values(), key=lambda h: h.id
    )
    picks = rng.sample(buildings, k=min(len(buildings), sum(k[1] for k in KINDS)))
    count, used = 0, set[str]()
    for kind, n, pattern_zh, pattern_en, hours, services in KINDS:
        for i in range(n):
            if not picks:
                break
            h = picks.pop()
            area = area_names.get(h.building_group_code, "新华")
            if kind == "centre":
                name_zh, name_en = CENTRES[i]
            else:
                assert pattern_zh and pattern_en
                place = f"{h.lane}弄" if h.lane else f"{h.building_no}号"
                name_zh = pattern_zh.format(area=area, road=h.road, place=place)
                name_en = pattern_en.format(area=h.building_group_code, road=h.road, place=place)
                same = sum(1 for u in used if u.startswith(name_zh))
                if same:  # two points of a kind in one area or lane: numbered, as offices do
                    name_zh, name_en = (
                        f"{name_zh}({'二三四五六七八九'[same - 1]})",
                        f"{name_en} {same + 1}",
                    )
                used.add(name_zh)
            point = ServicePoint(
                code=f"{kind[:2].upper()}-{i + 1:02d}",
                kind=kind,
                name_zh=name_zh,
                name_en=name_en,
                address=h.address.rsplit("号", 1)[0] + "号" if "号" in h.address else h.address,
                lon=h.lon,
                lat=h.lat,
                cell_code=h.building_group_code,
                hours=hours,
                services=services,
                phone=f"021-6{rng.randint(1000000, 9999999)}",
            )
            session.add(point)
            _slots(session, point, now)
            count += 1
    return count


def _slots(session: Session, point: ServicePoint, now: dt.datetime) -> None:
    """A week of slots, only on the point's opening days and inside its hours: up to two a
    day per opening range (at its first full hour and five hours later), two hours long or
    to the range's end, never shorter than an hour."""
    opening = opening_hours.parse(point.hours)
    assert opening is not None, point.hours
    day0 = now.astimezone(SHANGHAI).date()
    for service in point.services:
        capacity = BOOKABLE.get(service)
        if capacity is None:
            continue
        for d in range(1, 8):
            day = day0 + dt.timedelta(days=d)
            if day.weekday() not in opening.days:
                continue
            for open_at, close_at in opening.ranges:
                first = dt.datetime.combine(day, open_at, SHANGHAI)
                if first.minute:
                    first = first.replace(minute=0) + dt.timedelta(hours=1)
                closes = dt.datetime.combine(day, close_at, SHANGHAI)
                for start in (first, first + dt.timedelta(hours=5)):
                    end = min(start + dt.timedelta(hours=2), closes)
                    if end - start < dt.timedelta(hours=1):
                        continue
                    point.slots.append(
                        ServiceSlot(
                            service=service,
                            starts_at=start.astimezone(dt.UTC),
                            ends_at=end.astimezone(dt.UTC),
                            capacity=capacity,
                        )
                    )
