"""The dashboard's figures against values computed by hand on a fixed data set.

Window: November 2026 (Shanghai days). Eight cases, two ratings, one rework, four households:

  case  reported      dispatched (h after)  due          handled      closed       notes
  c1    11-02 02:00   +2 h                   11-03 04:00  11-03 02:00  11-03 06:00  on time
  c2    11-05 00:00   +1 h  urgent, leader   11-05 03:00  11-05 05:00  11-05 07:00  late; reworked
  c3    11-10 00:00   +4 h                   11-12 04:00  11-14 00:00  11-14 00:00  postponed
  c4    11-20 00:00   +3 h  urgent           11-21 03:00  —            —            handling
  c5    10-25 01:00   10-25                  11-01 02:00  11-01 00:00  11-01 01:00  on time, old
  c6    11-15         —                                                           reported only
  c7    11-16         —                                                           cancelled
  c8    11-25 00:00   +1 h                   12-05        —            — due later
  (times UTC; c1, c2 → unit U-GD; c3, c4, c5 → unit U-CGZD; all in G1)

By hand: received 7 (c1–c4, c6–c8), accepted 5 (c1–c4, c8), due 5 (c1–c5), closed 4
(c1, c2, c3, c5), on time 2 (c1, c5), postponed 1 (c3) → 结案率 4/5 = 80 %, 按期结案率
2/(5−1) = 50 %; urgent due 2 (c2, c4), closed 1, on time 0 → 50 % and 0 %; average hours to
dispatch (2+1+4+3+1)/5 = 2.2; to close (28+7+96+168)/4 = 74.75; rework 1 (flagged);
satisfaction (5+3)/2 = 4.0; key households 3 (H1 weekly, visited 11-28; H2 monthly, last
visited 10-01; H3 weekly, never) → visit coverage 1/3. Score with the default weights:
0.5·50 + 0.8·20 + 4/5·20 + 1/3·10 − 0.2·2·1 = 59.93.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
from openpyxl import load_workbook

from server.cases.models import Case, CaseEvent
from server.enums import CaseStatus, Channel, Priority
from server.evaluation import metrics
from server.evaluation.models import CaseRating
from server.extensions import db
from server.population.models import CareTag, Household, Resident, ResidentTag, Visit
from tests.server.conftest import login


def t(month, day, hour=0):
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


H = dt.timedelta(hours=1)


def add_case(
    world,
    n,
    *,
    reported,
    status,
    unit="U-GD",
    dispatch_h=None,
    due=None,
    handled=None,
    closed=None,
    priority=Priority.NORMAL,
    **extra,
):
    dispatched = reported + dispatch_h * H if dispatch_h is not None else None
    case = Case(
        id=uuid.uuid4(),
        number=f"XH-T-{n:04d}",
        channel=Channel.HOTLINE,
        priority=priority,
        status=status,
        title=f"c{n}",
        cell_code="G1",
        unit_id=world.units[unit].id,
        reported_at=reported,
        opened_at=dispatched - 0.5 * H if dispatched else None,
        dispatched_at=dispatched,
        due_at=due,
        handled_at=handled,
        closed_at=closed,
        catalogue_item_id=world.items["A05-01"].id,
        **extra,
    )
    db.session.add(case)
    return case


@pytest.fixture
def data_set(world):
    closed, handling = CaseStatus.CLOSED, CaseStatus.HANDLING
    c1 = add_case(
        world,
        1,
        reported=t(11, 2, 2),
        status=closed,
        dispatch_h=2,
        due=t(11, 3, 4),
        handled=t(11, 3, 2),
        closed=t(11, 3, 6),
    )
    c2 = add_case(
        world,
        2,
        reported=t(11, 5),
        status=closed,
        dispatch_h=1,
        due=t(11, 5, 3),
        handled=t(11, 5, 5),
        closed=t(11, 5, 7),
        priority=Priority.URGENT,
        source_flag="leader",
        rework_count=1,
    )
    add_case(
        world,
        3,
        reported=t(11, 10),
        status=closed,
        unit="U-CGZD",
        dispatch_h=4,
        due=t(11, 12, 4),
        handled=t(11, 14),
        closed=t(11, 14),
        postponed=True,
    )
    add_case(
        world,
        4,
        reported=t(11, 20),
        status=handling,
        unit="U-CGZD",
        dispatch_h=3,
        due=t(11, 21, 3),
        priority=Priority.URGENT,
    )
    c5 = add_case(
        world,
        5,
        reported=t(10, 25, 1),
        status=closed,
        unit="U-CGZD",
        dispatch_h=0,
        due=t(11, 1, 2),
        handled=t(11, 1),
        closed=t(11, 1, 1),
    )
    c5.opened_at = t(10, 25, 1)
    add_case(world, 6, reported=t(11, 15), status=CaseStatus.REPORTED)
    add_case(world, 7, reported=t(11, 16), status=CaseStatus.CANCELLED)
    add_case(world, 8, reported=t(11, 25), status=handling, dispatch_h=1, due=t(12, 5))
    db.session.flush()
    db.session.add_all(
        [
            CaseRating(case_id=c1.id, score=5, source="resident", at=t(11, 4)),
            CaseRating(case_id=c2.id, score=3, source="worker", at=t(11, 6)),
            CaseEvent(case_id=c2.id, seq=1, kind="rework", at=t(11, 5, 6)),
        ]
    )
    weekly = CareTag(code="alone", name_zh="独居", name_en="alone", visit_every_days=7)
    monthly = CareTag(code="old", name_zh="高龄", name_en="old", visit_every_days=30)
    db.session.add_all([weekly, monthly])
    for name, cell, tag, visited in (
        ("H1", "G1", "alone", t(11, 28)),
        ("H2", "G2", "old", t(10, 1)),
        ("H3", "G1", "alone", None),
        ("H4", "G2", None, t(11, 29)),
    ):
        home = Household(id=uuid.uuid4(), address=name, road="新华路", building="1", cell_code=cell)
        person = Resident(id=uuid.uuid4(), household=home, name=name, gender="F")
        db.session.add_all([home, person])
        db.session.flush()
        if tag:
            db.session.add(ResidentTag(resident_id=person.id, tag_code=tag))
        if visited:
            db.session.add(
                Visit(household_id=home.id, worker_id=world.users["w1"].id, visited_at=visited)
            )
    db.session.commit()
    world.clock.now = t(12, 10)
    return world


NOVEMBER = metrics.Window.days(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def test_the_totals_match_the_hand_computed_values(app, data_set):
    _groups, total = metrics.dashboard(db.session, NOVEMBER, "area", now=t(12, 10))
    assert (total.received, total.accepted, total.due, total.closed) == (7, 5, 5, 4)
    assert (total.closed_on_time, total.postponed) == (2, 1)
    assert total.closure_rate == pytest.approx(0.8)
    assert total.on_time_rate == pytest.approx(0.5)
    assert (total.urgent_closure_rate, total.urgent_on_time_rate) == (0.5, 0.0)
    assert total.avg_dispatch_hours == pytest.approx(2.2)
    assert total.avg_close_hours == pytest.approx(74.75)
    assert (total.rework, total.rework_flagged) == (1, 1)
    assert total.satisfaction == pytest.approx(4.0)
    assert total.visit_coverage == pytest.approx(1 / 3)
    assert total.score({}) == pytest.approx(59.93)
    assert total.score({"flagged_multiplier": 1.0}) == pytest.approx(60.13)


def test_figures_per_unit_and_per_cell(app, data_set):
    units, _ = metrics.dashboard(db.session, NOVEMBER, "unit", now=t(12, 10))
    gd, cgzd = units[data_set.units["U-GD"].id], units[data_set.units["U-CGZD"].id]
    assert (gd.due, gd.closed, gd.closed_on_time, gd.on_time_rate) == (2, 2, 1, 0.5)
    assert (cgzd.due, cgzd.closed, cgzd.postponed, cgzd.on_time_rate) == (3, 2, 1, 0.5)
    cells, _ = metrics.dashboard(db.session, NOVEMBER, "cell", now=t(12, 10))
    assert cells["G1"].received == 7
    assert (cells["G1"].key_households, cells["G1"].key_visited) == (2, 1)
    assert (cells["G2"].key_households, cells["G2"].key_visited) == (1, 0)


def test_a_report_run_before_the_window_ends_counts_only_what_is_closed_by_now(app, data_set):
    _groups, total = metrics.dashboard(db.session, NOVEMBER, "street", now=t(11, 5, 4))
    # By 11-05 04:00, of the due cases c1 and c5 are closed; c2 (due 03:00) is not yet.
    assert total.closed == 2


def test_the_dashboard_page_charts_and_exports(app, data_set):
    client = app.test_client()
    login(client, "mgr")
    page = client.get("/dashboard/?from=2026-11-01&to=2026-11-30&group=area")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<dd id="kpi-closure">80.0%</dd>' in html
    assert '<dd id="kpi-on-time">50.0%</dd>' in html
    assert html.count("<svg") == 3 and "<polyline" in html and "<path d=" in html
    body = client.get("/dashboard/export.csv?from=2026-11-01&to=2026-11-30&group=unit")
    rows = list(csv.reader(io.StringIO(body.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["单位", "受理数", "立案数"]
    assert rows[-1][0] == "合计" and rows[-1][7:9] == ["0.8", "0.5"]
    xlsx = client.get("/dashboard/export.xlsx?from=2026-11-01&to=2026-11-30&group=worker")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.cell(1, 1).value == "网格员" and sheet.cell(sheet.max_row, 1).value == "合计"


def test_workers_may_not_see_the_dashboard(app, data_set):
    client = app.test_client()
    login(client, "w1")
    assert client.get("/dashboard/").status_code == 403
