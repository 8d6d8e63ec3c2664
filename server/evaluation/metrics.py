"""The KPIs of 综合评价, computed in SQL over a date window (formulas: docs/back-office.md).

Every figure is grouped by a *key* — the case's cell (rolled up to residential area or street
in Python, through the grid's tree), its assignee (worker) or its unit — so one query per
measure serves every grouping, and each query uses one indexed time column.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from server.cases import grid_access
from server.cases.models import Case, CaseEvent
from server.enums import CaseStatus, DutyRank, DutyRole, Priority
from server.evaluation.models import CaseRating
from server.grid.models import Duty
from server.population.models import ACTIVE, CareTag, Household, Resident, ResidentTag, Visit

SHANGHAI = ZoneInfo("Asia/Shanghai")
GROUPS = ("area", "cell", "worker", "unit", "street")
CLOSED = (CaseStatus.CLOSED, CaseStatus.EVALUATED)

DEFAULT_WEIGHTS: dict[str, float] = {
    "on_time": 50.0,  # × 按期结案率
    "closure": 20.0,  # × 结案率
    "satisfaction": 20.0,  # × average rating / 5
    "visits": 10.0,  # × visit coverage of key groups
    "rework_penalty": 0.2,  # − per rework (返工)
    "flagged_multiplier": 2.0,  # leader/media cases: deductions × this (加倍扣分)
}


@dataclass(frozen=True)
class Window:
    """[start, end) in UTC, from local (Shanghai) dates inclusive: `Window.days(d1, d2)`."""

    start: dt.datetime
    end: dt.datetime

    @classmethod
    def days(cls, first: dt.date, last: dt.date) -> Window:
        start = dt.datetime.combine(first, dt.time(), SHANGHAI).astimezone(dt.UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), SHANGHAI)
        return cls(start, end.astimezone(dt.UTC))


@dataclass
class Figures:
    """The counts of one group; rates are properties so totals are never averages of rates."""

    received: int = 0
    accepted: int = 0
    due: int = 0
    closed: int = 0
    closed_on_time: int = 0
    postponed: int = 0
    urgent_due: int = 0
    urgent_closed: int = 0
    urgent_on_time: int = 0
    urgent_postponed: int = 0
    dispatch_n: int = 0
    dispatch_seconds: float = 0.0
    close_n: int = 0
    close_seconds: float = 0.0
    rework: int = 0
    rework_flagged: int = 0
    ratings: int = 0
    rating_sum: int = 0
    key_households: int = 0
    key_visited: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, other: Figures) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def _ratio(a: float, b: float) -> float | None:
        return a / b if b else None

    @property
    def closure_rate(self) -> float | None:  # 结案率 = 结案数 / 应结案数
        return self._ratio(self.closed, self.due)

    @property
    def on_time_rate(self) -> float | None:  # 按期结案率 = 按期结案数 / (应结案数 − 缓办数)
        return self._ratio(self.closed_on_time, self.due - self.postponed)

    @property
    def urgent_closure_rate(self) -> float | None:
        return self._ratio(self.urgent_closed, self.urgent_due)

    @property
    def urgent_on_time_rate(self) -> float | None:
        return self._ratio(self.urgent_on_time, self.urgent_due - self.urgent_postponed)

    @property
    def avg_dispatch_hours(self) -> float | None:
        return self._ratio(self.dispatch_seconds / 3600, self.dispatch_n)

    @property
    def avg_close_hours(self) -> float | None:
        return self._ratio(self.close_seconds / 3600, self.close_n)

    @property
    def satisfaction(self) -> float | None:
        return self._ratio(self.rating_sum, self.ratings)

    @property
    def visit_coverage(self) -> float | None:
        return self._ratio(self.key_visited, self.key_households)

    def score(self, weights: dict[str, float]) -> float | None:
        """Weighted score (0–100 before deductions); a missing measure counts as met.

        None when nothing was due in the period: a score made of "missing counts as met"
        alone would look like a full mark (the page shows "—").
        """
        if not self.due:
            return None
        w = {**DEFAULT_WEIGHTS, **weights}

        def part(rate: float | None, weight: float) -> float:
            return weight * (1.0 if rate is None else rate)

        sat = None if self.satisfaction is None else self.satisfaction / 5
        plain = self.rework - self.rework_flagged
        deductions = w["rework_penalty"] * (plain + w["flagged_multiplier"] * self.rework_flagged)
        return round(
            part(self.on_time_rate, w["on_time"])
            + part(self.closure_rate, w["closure"])
            + part(sat, w["satisfaction"])
            + part(self.visit_coverage, w["visits"])
            - deductions,
            2,
        )


_COUNTS = tuple(f.name for f in fields(Figures) if f.name != "extra")


def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """SQL for (later − earlier) in seconds, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def local_day(session: Session, column: Any) -> ColumnElement[Any]:
    """SQL for the Shanghai calendar day of a timestamp, as text YYYY-MM-DD."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column, "+8 hours")
    return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM-DD")


def _key_column(group: str) -> Any:
    return {"worker": Case.assignee_id, "unit": Case.unit_id}.get(group, Case.cell_code)


def plain(session: Session, column: Any) -> Any:
    """`column`, but unusable as an index on SQLite (its documented unary-plus idiom).

    Without statistics SQLite prefers the status or cell index (it saves a sort) and then
    reads the whole table; hiding those columns leaves it the time column's index.
    """
    if session.get_bind().dialect.name != "sqlite":
        return column
    return literal_column(f"+{column.table.name}.{column.name}", type_=column.type)


def _rows(
    session: Session,
    group: str,
    cols: list[Any],
    *where: Any,
    join: Any = None,
    index: str | None = None,
) -> list[Any]:
    """One grouped query; `index` says a time column's index should drive it."""
    key = _key_column(group)
    grouped = plain(session, key) if index else key
    query = select(grouped, *cols)
    if join is not None:
        query = query.select_from(join)
    return list(session.execute(query.where(*where).group_by(grouped)).all())


def case_figures(
    session: Session,
    window: Window,
    group: str,
    *,
    now: dt.datetime,
    as_of: dt.datetime | None = None,
) -> dict[Any, Figures]:
    """Figures per raw key (cell code, assignee id or unit id) for the window.

    `as_of` (default: the window's end, or now if earlier) is when "closed" is counted: the
    roll-up computes a part of a longer report's window with the longer report's `as_of`.
    The case measures come from one pass over the cases touching the window (reported,
    opened, dispatched, due or closed in it): an OR of five indexed ranges, each measure a
    conditional sum. Rework and ratings come from their own tables.
    """
    out: dict[Any, Figures] = defaultdict(Figures)
    start, end = window.start, window.end
    as_of = min(end, now) if as_of is None else as_of
    status = plain(session, Case.status)

    def within(column: Any) -> Any:
        return and_(column >= start, column < end)

    def count_if(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    def sum_if(condition: Any, value: Any) -> Any:
        return func.sum(case((condition, value), else_=0))

    received = and_(within(Case.reported_at), plain(session, Case.merged_into_id).is_(None))
    due = and_(within(Case.due_at), status != CaseStatus.CANCELLED)
    closed = and_(due, status.in_(CLOSED), Case.closed_at < as_of)
    on_time = and_(closed, Case.postponed.is_(False), Case.handled_at <= Case.due_at)
    postponed = and_(due, Case.postponed.is_(True))
    urgent = Case.priority == Priority.URGENT
    dispatched = within(Case.dispatched_at)
    closed_in = and_(within(Case.closed_at), status.in_(CLOSED))
    columns = [
        count_if(received),
        count_if(within(Case.opened_at)),
        count_if(due),
        count_if(closed),
        count_if(on_time),
        count_if(postponed),
        count_if(and_(due, urgent)),
        count_if(and_(closed, urgent)),
        count_if(and_(on_time, urgent)),
        count_if(and_(postponed, urgent)),
        count_if(dispatched),
        sum_if(dispatched, seconds_between(session, Case.dispatched_at, Case.reported_at)),
        count_if(closed_in),
        sum_if(closed_in, seconds_between(session, Case.closed_at, Case.reported_at)),
    ]
    touching = or_(
        *(
            within(c)
            for c in (
                Case.reported_at,
                Case.opened_at,
                Case.dispatched_at,
                Case.due_at,
                Case.closed_at,
            )
        )
    )
    for key, *v in _rows(session, group, columns, touching, index="five time indexes"):
        f = out[key]
        (
            f.received,
            f.accepted,
            f.due,
            f.closed,
            f.closed_on_time,
            f.postponed,
            f.urgent_due,
            f.urgent_closed,
            f.urgent_on_time,
            f.urgent_postponed,
            f.dispatch_n,
        ) = (int(x or 0) for x in v[:11])
        f.dispatch_seconds, f.close_n, f.close_seconds = (
            float(v[11] or 0),
            int(v[12] or 0),
            float(v[13] or 0),
        )
    rework_join = CaseEvent.__table__.join(Case.__table__, CaseEvent.case_id == Case.id)
    for key, n, flagged in _rows(
        session,
        group,
        [func.count(), count_if(Case.source_flag.is_not(None))],
        CaseEvent.kind == "rework",
        CaseEvent.at >= start,
        CaseEvent.at < end,
        join=rework_join,
    ):
        out[key].rework, out[key].rework_flagged = n, int(flagged or 0)
    rating_join = CaseRating.__table__.join(Case.__table__, CaseRating.case_id == Case.id)
    for key, n, total in _rows(
        session,
        group,
        [func.count(), func.sum(CaseRating.score)],
        CaseRating.at >= start,
        CaseRating.at < end,
        join=rating_join,
    ):
        out[key].ratings, out[key].rating_sum = n, int(total or 0)
    return out


@dataclass(frozen=True)
class KeyHousehold:
    household_id: Any
    cell_code: str
    every_days: int
    last_visit: dt.datetime | None

    def visited_within(self, as_of: dt.datetime) -> bool:
        return self.last_visit is not None and self.last_visit > as_of - dt.timedelta(
            days=self.every_days
        )


def key_households(session: Session, *, as_of: dt.datetime) -> list[KeyHousehold]:
    """Households with a key-group resident, their visit frequency and last visit by `as_of`."""
    every = (
        select(Resident.household_id, func.min(CareTag.visit_every_days).label("every"))
        .join(ResidentTag, ResidentTag.resident_id == Resident.id)
        .join(CareTag, CareTag.code == ResidentTag.tag_code)
        .where(Resident.status == ACTIVE)  # who moved out or died is no longer visited
        .group_by(Resident.household_id)
        .subquery()
    )
    last = (
        select(Visit.household_id, func.max(Visit.visited_at).label("last"))
        .where(Visit.visited_at <= as_of)
        .group_by(Visit.household_id)
        .subquery()
    )
    rows = session.execute(
        select(Household.id, Household.cell_code, every.c.every, last.c.last)
        .join(every, every.c.household_id == Household.id)
        .outerjoin(last, last.c.household_id == Household.id)
    ).all()
    return [KeyHousehold(r[0], r[1], int(r[2]), _aware(r[3])) for r in rows]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # Aggregates (max) bypass the column type on SQLite and come back naive (or as text).
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def principal_workers(session: Session, *, on: dt.date) -> dict[str, int]:
    """Cell code → the grid worker answering for it (principal, else deputy; else a parent's)."""
    rows = session.execute(
        select(Duty.cell_code, Duty.user_id, Duty.rank).where(
            Duty.role == DutyRole.GRID_WORKER,
            Duty.starts_on <= on,
            or_(Duty.ends_on.is_(None), Duty.ends_on >= on),
        )
    ).all()
    own: dict[str, int] = {}
    for code, user_id, _rank in sorted(rows, key=lambda r: r[2] != DutyRank.PRINCIPAL):
        own.setdefault(code, user_id)
    cells = grid_access.cell_tree(session)
    out = {}
    for code in cells:
        for up in grid_access.ancestors(cells, code):
            if up in own:
                out[code] = own[up]
                break
    return out


def roll_up(
    session: Session,
    raw: dict[Any, Figures],
    group: str,
    *,
    on: dt.date,
    households: list[KeyHousehold],
    as_of: dt.datetime,
) -> dict[Any, Figures]:
    """Case figures by raw key → by group key; visit coverage added per group."""
    cells = grid_access.cell_tree(session)
    to_key: Callable[[Any], Any]
    if group == "area":

        def to_key(code: Any) -> Any:
            return grid_access.ancestor_at(cells, code, "residential_area")
    elif group == "street":

        def to_key(code: Any) -> Any:
            return "street"
    else:

        def to_key(code: Any) -> Any:
            return code

    out: dict[Any, Figures] = defaultdict(Figures)
    for key, figures in raw.items():
        out[to_key(key)].add(figures)
    if group != "unit":
        workers = principal_workers(session, on=on) if group == "worker" else {}
        for h in households:
            key = workers.get(h.cell_code) if group == "worker" else to_key(h.cell_code)
            out[key].key_households += 1
            out[key].key_visited += h.visited_within(as_of)
    return out


def dashboard(
    session: Session,
    window: Window,
    group: str,
    *,
    now: dt.datetime,
    memo: dict[Any, Any] | None = None,
    fast: bool = True,
) -> tuple[dict[Any, Figures], Figures]:
    """Figures per group and the total (summed counts, so rates are exact).

    `memo` (a dict kept for one request) lets several groupings of the same window share
    the queries: area, cell and street all roll up the same per-cell figures. `fast` reads
    completed days from the daily roll-up (server/evaluation/rollup.py); False computes
    everything from the cases (the reference the roll-up's tests compare with).
    """
    from server.evaluation import rollup  # it builds on this module

    memo = {} if memo is None else memo
    as_of = min(window.end, now)
    keyed_by = group if group in ("worker", "unit") else "cell"
    if ("households", as_of) not in memo:
        memo["households", as_of] = key_households(session, as_of=as_of)
    households = memo["households", as_of]
    if (keyed_by, window, now) not in memo:
        figures = rollup.case_figures if fast else case_figures
        memo[keyed_by, window, now] = figures(session, window, keyed_by, now=now)
    raw = memo[keyed_by, window, now]
    groups = roll_up(
        session,
        raw,
        group,
        on=as_of.astimezone(SHANGHAI).date(),
        households=households,
        as_of=as_of,
    )
    total = Figures()
    for figures in groups.values():
        total.add(figures)
    return dict(groups), total


def trend(session: Session, window: Window) -> list[tuple[str, int, int]]:
    """(day, received, closed) for each Shanghai day of the window (every report counts)."""
    return trend_days(window, trend_counts(session, window))


def trend_counts(session: Session, window: Window) -> dict[str, tuple[int, int]]:
    """Day (YYYY-MM-DD) → (reported, closed) for the days of the window that have any."""
    received = dict(
        session.execute(
            select(local_day(session, Case.reported_at).label("d"), func.count())
            .where(Case.reported_at >= window.start, Case.reported_at < window.end)
            .group_by("d")
        ).all()
    )
    closed = dict(
        session.execute(
            select(local_day(session, Case.closed_at).label("d"), func.count())
            .where(
                Case.closed_at >= window.start,
                Case.closed_at < window.end,
                plain(session, Case.status).in_(CLOSED),
            )
            .group_by("d")
        ).all()
    )
    return {d: (int(received.get(d, 0)), int(closed.get(d, 0))) for d in {*received, *closed}}


def trend_days(window: Window, counts: dict[str, tuple[int, int]]) -> list[tuple[str, int, int]]:
    """Every day of the window with its counts (0 when absent)."""
    days, day = [], window.start.astimezone(SHANGHAI).date()
    last = (window.end - dt.timedelta(seconds=1)).astimezone(SHANGHAI).date()
    while day <= last:
        key = day.isoformat()
        days.append((key, *counts.get(key, (0, 0))))
        day += dt.timedelta(days=1)
    return days
