"""The dispatcher's and the office's day without friction (issue 15, items 6–9): one-form
intake → 立案 → 派遣, confirmations, refusals, 待核实 actions in place, catalogue search,
dashboard honesty, notices and API-docs links."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import func, select

from server.cases.models import Case
from server.enums import CaseStatus
from server.evaluation.charts import axis_ticks, line_chart
from server.evaluation.metrics import Figures
from server.extensions import db
from tests.server.backoffice_world import post_form
from tests.server.conftest import login, signed_in
from tests.server.test_back_office_flow import intake, reload, step


def case_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Case)) or 0)


def test_an_urgent_call_is_taken_opened_and_dispatched_in_one_form(app, world):
    desk = signed_in(app, "d1")
    world.clock.advance(minutes=1)
    response = intake(desk, world, then="dispatch", unit_id=str(world.units["U-GD"].id))
    assert response.status_code == 302
    case = reload(uuid.UUID(response.headers["Location"].rsplit("/", 1)[1]))
    assert case.status == CaseStatus.DISPATCHED
    assert case.unit_id == world.units["U-GD"].id
    assert case.reported_at == case.opened_at == case.dispatched_at == world.clock.now
    assert case.due_at == world.clock.now + dt.timedelta(hours=2)  # from the call on
    page = desk.get(response.headers["Location"]).get_data(as_text=True)
    # One confirmation per step, naming 分派 (to the cell's worker) and 派遣 (to the unit).
    assert f"案件 {case.number} 已登记,已分派给 周杰。" in page
    assert f"案件 {case.number} 已立案。" in page
    assert f"案件 {case.number} 已派遣给 供电公司驻街服务站 · 周杰。" in page


def test_register_and_open_stops_before_dispatch(app, world):
    desk = signed_in(app, "d1")
    response = intake(desk, world, then="open", priority="normal")
    case = reload(uuid.UUID(response.headers["Location"].rsplit("/", 1)[1]))
    assert (case.status, case.due_at) == (CaseStatus.OPENED, None)


def test_dispatching_to_nobody_is_refused_and_nothing_is_registered(app, world):
    desk = signed_in(app, "d1")
    response = intake(desk, world, then="dispatch")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请派遣给单位或人员(或两者)。" in html
    assert "单位:" in html and "unit_id" not in re.sub(r'(name|id|for)="unit_id"', "", html)
    assert 'value="弄口地面电线外皮破损裸露,将有强降雨"' in html or "弄口地面电线" in html
    assert case_count() == 0  # one transaction: a refused dispatch registers nothing
    # On the case page too.
    response = intake(desk, world)
    case_id = response.headers["Location"].rsplit("/", 1)[1]
    assert step(desk, case_id, "opened").status_code == 303
    refused = step(desk, case_id, "dispatched", unit_id="", assignee_id="")
    assert refused.status_code == 422
    assert "请派遣给单位或人员(或两者)。" in refused.get_data(as_text=True)


def test_the_person_list_carries_each_persons_unit_for_the_filter(app, world):
    world.users["w3"].unit_id = world.units["U-GD"].id
    db.session.commit()
    desk = signed_in(app, "d1")
    html = desk.get("/cases/new").get_data(as_text=True)
    assert "data-dispatch" in html and "dispatch-form.js" in html
    w3 = world.users["w3"].id
    assert f'value="{w3}" data-unit="{world.units["U-GD"].id}"' in html
    assert f'value="{world.users["w1"].id}" data-unit=""' in html


def test_each_step_on_the_case_page_confirms(app, world):
    desk = signed_in(app, "d1")
    case_id = intake(desk, world).headers["Location"].rsplit("/", 1)[1]
    response = step(desk, case_id, "opened")
    page = desk.get(response.headers["Location"]).get_data(as_text=True)
    number = reload(uuid.UUID(case_id)).number
    assert f"案件 {number}:已立案。" in page


def test_review_cards_open_merge_and_cancel_in_place(app, world):
    desk = signed_in(app, "d1")
    ids = [
        uuid.UUID(intake(desk, world, priority="normal").headers["Location"].rsplit("/", 1)[1])
        for _ in range(3)
    ]
    page = desk.get("/cases/?view=review").get_data(as_text=True)
    assert page.count('class="review-open"') == 3
    assert page.count('class="review-cancel"') == 3
    assert 'class="review-merge"' in page  # same item, same place, same hour
    back = "/cases/?view=review"
    opened = post_form(
        desk,
        f"/cases/{ids[0]}/step",
        {"to_status": "opened", "back": "review"},
        token_from=back,
    )
    assert opened.status_code == 303 and opened.headers["Location"].endswith(back)
    merged = post_form(
        desk, f"/cases/{ids[1]}/merge", {"into": str(ids[0]), "back": "review"}, token_from=back
    )
    assert merged.status_code == 303 and merged.headers["Location"].endswith(back)
    assert "已合并到" in desk.get(back).get_data(as_text=True)  # the confirmation
    refused = post_form(
        desk,
        f"/cases/{ids[2]}/step",
        {"to_status": "cancelled", "back": "review", "note": ""},
        token_from=back,
    )
    assert refused.status_code == 422  # a reason is needed
    cancelled = post_form(
        desk,
        f"/cases/{ids[2]}/step",
        {"to_status": "cancelled", "back": "review", "note": "重复来电,已电话核实"},
        token_from=back,
    )
    assert cancelled.status_code == 303
    statuses = [reload(i).status for i in ids]
    assert statuses == [CaseStatus.OPENED, CaseStatus.CANCELLED, CaseStatus.CANCELLED]
    assert reload(ids[2]).cancel_reason == "重复来电,已电话核实"
    page = desk.get(back).get_data(as_text=True)
    assert "已注销。" in page
    bad = post_form(desk, f"/cases/{ids[0]}/merge", {"into": "not-a-uuid"}, token_from=back)
    assert bad.status_code == 404


def test_catalogue_initials_match_anywhere_in_the_name_or_a_keyword(app, world):
    world.items["A01-01"].keywords = ["垃圾堆放"]
    db.session.commit()
    desk = signed_in(app, "d1")

    def codes(q):
        return [f["code"] for f in desk.get(f"/cases/lookup/catalogue?q={q}").get_json()]

    assert codes("ljdf") == ["A01-01"]  # a keyword's initials
    assert codes("ljdj") == ["A01-01"]  # inside the name: 生活垃圾堆积
    assert codes("LJDJ") == ["A01-01"]
    assert codes("dx") == ["A05-01"]  # from the start of the name
    assert codes("A05") == ["A05-01"]
    assert codes("垃圾") == ["A01-01"]
    assert codes("zzzz") == []


def test_the_phone_gets_the_same_search_initials(app, world):
    from server.fieldsync.wire import item_data

    world.items["A01-01"].keywords = ["垃圾堆放", "清运"]
    db.session.commit()
    assert item_data(world.items["A01-01"])["search_initials"] == "shljdj ljdf qy"


def test_count_axes_have_whole_ticks():
    assert axis_ticks([0, 1, 3]) == [0, 1, 2, 3]
    assert axis_ticks([0, 0]) == [0, 1]
    svg = line_chart(["2026-11-01", "2026-11-02"], [("受理", [1, 3])], title="t")
    ticks = re.findall(r'text-anchor="end" font-size="10" fill="#57606a">([^<]+)<', svg)
    assert ticks == ["0", "1", "2", "3"]


def test_a_period_with_nothing_due_has_no_score():
    quiet = Figures(received=3, ratings=2, rating_sum=10, key_households=4, key_visited=4)
    assert quiet.score({}) is None


def test_the_dashboard_refuses_a_reversed_range_and_says_what_charts_measure(app, world):
    manager = signed_in(app, "mgr")
    refused = manager.get("/dashboard/?from=2026-11-20&to=2026-11-01")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "开始日期晚于结束日期。" in html
    assert 'value="2026-11-20"' in html  # what was typed stays in the form
    page = manager.get("/dashboard/?from=2026-11-01&to=2026-11-26").get_data(as_text=True)
    assert "2026-11-01 至 2026-11-26 共受理 0 件" in page
    assert "统计期内到期案件共 0 件" in page
    assert ">权重<" in page
    assert manager.get("/dashboard/export.csv?from=2026-11-20&to=2026-11-01").status_code == 422


def test_api_docs_are_linked_for_admin_only_and_lead_back(app, world):
    for name, linked in (("d1", False), ("mgr", False), ("w1", False), ("admin", True)):
        client = app.test_client()
        login(client, name)
        assert ('href="/api/v1/docs"' in client.get("/").get_data(as_text=True)) is linked, name
    client = app.test_client()
    login(client, "admin")
    docs = client.get("/api/v1/docs").get_data(as_text=True)
    assert 'id="docs-back"' in docs and "返回网格系统" in docs
    assert 'rel="icon"' in docs
