"""Demo cases in every status, with timelines, including the seed's exposed-cable case."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.cases.models import Case, CaseEvent
from server.cases.numbers import next_case_number
from server.catalogue.models import CatalogueCategory, CatalogueItem
from server.demo.district import District
from server.demo.staff import worker_for_area
from server.enums import CaseStatus, CatalogueKind, CellLevel, Channel, Placement, Priority
from server.evaluation.models import CaseRating
from server.privacy.declaration import default_disclosure

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)

#: The path through the seven steps up to each status (cancelled branches off after reported).
PATHS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    CaseStatus.REPORTED: (CaseStatus.REPORTED,),
    CaseStatus.CANCELLED: (CaseStatus.REPORTED, CaseStatus.CANCELLED),
    CaseStatus.OPENED: (CaseStatus.REPORTED, CaseStatus.OPENED),
    CaseStatus.DISPATCHED: (CaseStatus.REPORTED, CaseStatus.OPENED, CaseStatus.DISPATCHED),
    CaseStatus.HANDLING: (
        CaseStatus.REPORTED,
        CaseStatus.OPENED,
        CaseStatus.DISPATCHED,
        CaseStatus.HANDLING,
    ),
    CaseStatus.HANDLED: (
        CaseStatus.REPORTED,
        CaseStatus.OPENED,
        CaseStatus.DISPATCHED,
        CaseStatus.HANDLING,
        CaseStatus.HANDLED,
    ),
    CaseStatus.CLOSED: (
        CaseStatus.REPORTED,
        CaseStatus.OPENED,
        CaseStatus.DISPATCHED,
        CaseStatus.HANDLING,
        CaseStatus.HANDLED,
        CaseStatus.CLOSED,
    ),
    CaseStatus.EVALUATED: (
        CaseStatus.REPORTED,
        CaseStatus.OPENED,
        CaseStatus.DISPATCHED,
        CaseStatus.HANDLING,
        CaseStatus.HANDLED,
        CaseStatus.CLOSED,
        CaseStatus.EVALUATED,
    ),
}

#: How many demo cases end in each status.
MIX: dict[CaseStatus, int] = {
    CaseStatus.REPORTED: 4,
    CaseStatus.CANCELLED: 2,
    CaseStatus.OPENED: 3,
    CaseStatus.DISPATCHED: 4,
    CaseStatus.HANDLING: 4,
    CaseStatus.HANDLED: 3,
    CaseStatus.CLOSED: 6,
    CaseStatus.EVALUATED: 5,
}

EVENT_NOTES = {
    CaseStatus.REPORTED: "受理登记",
    CaseStatus.CANCELLED: "核实后不属于受理范围,予以注销",
    CaseStatus.OPENED: "核实属实,立案",
    CaseStatus.DISPATCHED: "派遣至责任单位",
    CaseStatus.HANDLING: "责任单位已到场处置",
    CaseStatus.HANDLED: "处置完毕,反馈结果",
    CaseStatus.CLOSED: "网格员现场核查,问题已解决,结案",
    CaseStatus.EVALUATED: "居民评价:满意",
}


@dataclass
class _Context:
    session: Session
    users: dict[str, User]
    area_of: dict[str, int]
    prefix: str
    version: int


def create_demo_cases(
    session: Session,
    district: District,
    users: dict[str, User],
    *,
    now: dt.datetime,
    version: int,
    prefix: str = "XH",
) -> int:
    """Create the seed's cable case and a mix of cases in every status; return how many."""
    rng = random.Random(329)
    ctx = _Context(session, users, _area_index(district), prefix, version)
    items = list(
        session.scalars(
            select(CatalogueItem)
            .join(CatalogueCategory)
            .where(CatalogueCategory.kind == CatalogueKind.AFFAIR)
            .order_by(CatalogueItem.code)
        )
    )
    cable_item = next((i for i in items if "电线" in i.name_zh or "漏电" in i.name_zh), items[0])
    cable_cell = _cell_at(district, district.lane_329_mouth)
    _cable_case(ctx, cable_item, cable_cell, district.lane_329_mouth, now - 3 * 24 * H)
    count = 1
    households = list(district.households)
    for status, n in MIX.items():
        for _ in range(n):
            household = rng.choice(households)
            start = now - dt.timedelta(hours=rng.uniform(2, 24 * 20))
            point = (
                household.lon + rng.uniform(-1e-4, 1e-4),
                household.lat + rng.uniform(-1e-4, 1e-4),
            )
            _make_case(
                ctx,
                rng.choice(items),
                status,
                household.building_group_code,
                point,
                household.address,
                start,
                rng,
                channel=rng.choice(list(Channel)[:5]),
            )
            count += 1
    # One report from a worker's phone outside the grid: it waits in the unplaced queue.
    _make_case(
        ctx,
        rng.choice(items),
        CaseStatus.REPORTED,
        None,
        (121.4405, 31.2100),
        "华山路(街道边界外)",
        now - 5 * H,
        rng,
        channel=Channel.PATROL,
    )
    return count + 1


def _area_index(district: District) -> dict[str, int]:
    areas = sorted(c.code for c in district.cells if c.level == CellLevel.RESIDENTIAL_AREA)
    index = {code: i for i, code in enumerate(areas)}
    parent = {c.code: c.parent_code for c in district.cells}
    result: dict[str, int] = {}
    for cell in district.cells:
        code: str | None = cell.code
        while code and code not in index:
            code = parent.get(code)
        if code:
            result[cell.code] = index[code]
    return result


def _cell_at(district: District, point: tuple[float, float]) -> str | None:
    from shapely import Point

    p = Point(point)
    groups = [c for c in district.cells if c.level == CellLevel.BUILDING_GROUP]
    hits = sorted(c.code for c in groups if c.geometry.covers(p))
    return hits[0] if hits else None


def _cable_case(
    ctx: _Context,
    item: CatalogueItem,
    cell: str | None,
    point: tuple[float, float],
    reported: dt.datetime,
) -> None:
    """新华路329弄弄口地面电线外皮破损裸露 — cleared within 2 hours (the seed's example)."""
    reported = reported.replace(hour=6, minute=5, second=0, microsecond=0)  # 14:05 Shanghai
    times = [
        reported,
        reported + 3 * M,
        reported + 6 * M,
        reported + 30 * M,
        reported + 1 * H + 48 * M,
        reported + 2 * H + 40 * M,
        reported + 26 * H,
    ]
    case = _new_case(
        ctx,
        item,
        Priority.URGENT,
        Channel.HOTLINE,
        cell,
        point,
        "新华路329弄弄口",
        reported,
        title="新华路329弄弄口地面电线外皮破损裸露",
        description=(
            "居民来电:弄口地面电线外皮破损裸露,天气预报短时将有强降雨,一旦积水可能"
            "大面积漏电,居民进出有安全隐患。"
        ),
        caller=("居民(来电)", "13900000329"),
    )
    notes = dict(EVENT_NOTES)
    notes[CaseStatus.DISPATCHED] = "紧急:调动工程作业单位赶赴现场"
    notes[CaseStatus.HANDLED] = "已切断破损线路并更换电缆,险情排除(受理后2小时内)"
    _walk(ctx, case, PATHS[CaseStatus.EVALUATED], times, notes, rating=5)


def _make_case(
    ctx: _Context,
    item: CatalogueItem,
    status: CaseStatus,
    cell: str | None,
    point: tuple[float, float],
    address: str,
    start: dt.datetime,
    rng: random.Random,
    *,
    channel: Channel,
) -> None:
    priority = rng.choices(list(Priority), weights=[1, 3, 6])[0]
    case = _new_case(
        ctx,
        item,
        priority,
        channel,
        cell,
        point,
        address,
        start,
        title=item.name_zh,
        description=f"{address}:{item.name_zh},请尽快处理。",
        caller=("居民", "139000" + str(rng.randint(10000, 99999)))
        if channel in (Channel.HOTLINE, Channel.WALK_IN, Channel.ONLINE)
        else None,
    )
    limit = dt.timedelta(hours=item.limit_hours(priority))
    times = [start]
    for _ in PATHS[status][1:]:
        times.append(times[-1] + min(limit / 3, dt.timedelta(hours=rng.uniform(0.2, 6))))
    _walk(ctx, case, PATHS[status], times, EVENT_NOTES, rating=rng.choice([3, 4, 5, 5]))


def _new_case(
    ctx: _Context,
    item: CatalogueItem,
    priority: Priority,
    channel: Channel,
    cell: str | None,
    point: tuple[float, float],
    address: str,
    reported: dt.datetime,
    *,
    title: str,
    description: str,
    caller: tuple[str, str] | None,
) -> Case:
    principal = None
    if cell is not None:
        principal = ctx.users[worker_for_area(ctx.area_of.get(cell, 0))[0]]
    case = Case(
        number=next_case_number(ctx.session, ctx.prefix, reported),
        channel=channel,
        disclosure=default_disclosure(channel),
        catalogue_item_id=item.id,
        priority=priority,
        status=CaseStatus.REPORTED,
        title=title,
        description=description,
        address=address,
        lon=point[0],
        lat=point[1],
        cell_code=cell,
        placement=Placement.IN if cell else Placement.UNPLACED,
        assignee_id=principal.id if principal else None,
        unit_id=item.default_unit_id,
        reporter_id=principal.id if channel == Channel.PATROL and principal else None,
        caller_name=caller[0] if caller else None,
        caller_phone=caller[1] if caller else None,
        reported_at=reported,
        version=ctx.version,
    )
    ctx.session.add(case)
    ctx.session.flush()
    return case


def _walk(
    ctx: _Context,
    case: Case,
    path: tuple[CaseStatus, ...],
    times: list[dt.datetime],
    notes: dict[CaseStatus, str],
    *,
    rating: int,
) -> None:
    dispatcher = ctx.users["zhao.min"]
    previous: CaseStatus | None = None
    for seq, (status, at) in enumerate(zip(path, times, strict=True), start=1):
        actor = case.assignee if status == CaseStatus.CLOSED and case.assignee else dispatcher
        ctx.session.add(
            CaseEvent(
                case_id=case.id,
                seq=seq,
                kind=status.value,
                actor_id=actor.id,
                at=at,
                from_status=previous.value if previous else None,
                to_status=status.value,
                note=notes[status],
                version=ctx.version,
            )
        )
        _stamp(case, status, at)
        previous = status
    if case.status == CaseStatus.EVALUATED:
        case.satisfaction = rating
        # The rating itself, dated, is what the dashboard counts (server/evaluation).
        ctx.session.add(CaseRating(case_id=case.id, score=rating, source="worker", at=times[-1]))


def _stamp(case: Case, status: CaseStatus, at: dt.datetime) -> None:
    case.status = status
    if status == CaseStatus.OPENED:
        case.opened_at = at
    elif status == CaseStatus.DISPATCHED:
        case.dispatched_at = at
        limit = case.catalogue_item.limit_hours(case.priority) if case.catalogue_item else 72
        case.due_at = at + dt.timedelta(hours=limit)
    elif status == CaseStatus.HANDLED:
        case.handled_at = at
    elif status in (CaseStatus.CLOSED, CaseStatus.CANCELLED):
        case.closed_at = at
