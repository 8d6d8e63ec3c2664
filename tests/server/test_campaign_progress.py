"""A campaign's progress, report and exports (issue 18 items 3 and 5), on both backends."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.campaigns import progress, reports
from server.extensions import db
from tests.server.campaign_seed import seed_campaign
from tests.server.conftest import login


@pytest.fixture
def seeded(world: Any) -> Any:
    return seed_campaign(world)


def _tallies(rows: list[progress.Tally]) -> dict[str, tuple[int, int, int, int, int]]:
    return {t.key: (t.targets, t.done, t.answers, t.late, t.findings) for t in rows}


def test_progress_counts_targets_done_late_and_findings_per_cell_area_and_worker(
    app: Any, seeded: Any
) -> None:
    p = progress.campaign_progress(db.session, seeded.campaign, None)
    assert _tallies(p.by_cell) == {
        "G1": (4, 2, 3, 0, 1),
        "G2": (2, 1, 1, 1, 0),
        "G3": (2, 1, 1, 0, 0),
    }
    assert _tallies(p.by_area) == {"S-A1": (6, 3, 4, 1, 1), "S-A2": (2, 1, 1, 0, 0)}
    assert (p.total.targets, p.total.done, p.total.share) == (8, 4, 0.5)
    workers = {t.name: (t.done, t.answers, t.late, t.findings) for t in p.by_worker}
    assert workers == {
        "周杰": (2, 2, 0, 1),
        "吴芳": (1, 1, 0, 0),
        "郑浩": (1, 1, 1, 0),
        "孙悦": (1, 1, 0, 0),
    }
    [finding] = p.findings
    assert finding.target_label == "番禺路100弄2号" and finding.worker == "周杰"
    assert finding.cases == ((seeded.case.id, "XH-2026-000901", "dispatched"),)


def test_a_cell_filter_keeps_every_figure_inside_the_cells(app: Any, seeded: Any) -> None:
    p = progress.campaign_progress(db.session, seeded.campaign, frozenset({"G2", "S-A1"}))
    assert _tallies(p.by_cell) == {"G2": (2, 1, 1, 1, 0)}
    assert {t.name for t in p.by_worker} == {"郑浩"}
    assert p.findings == []
    report = reports.campaign_report(db.session, seeded.campaign, frozenset({"G3"}))
    assert report.answered == 1


def test_the_report_merges_versions_by_name_and_counts_each_targets_latest_answer(
    app: Any, seeded: Any
) -> None:
    report = reports.campaign_report(db.session, seeded.campaign, None)
    by_name = {q.question.name: q for q in report.questions}
    assert list(by_name) == ["has_ext", "ext_valid", "count", "hazards"]
    has_ext = by_name["has_ext"]
    assert has_ext.question.label == "楼内配有灭火器吗？"  # the latest version's words
    assert has_ext.question.choices == (("yes", "是"), ("no", "否"))
    rows = {r.key: (r.respondents, r.counts) for r in has_ext.rows}
    # t1's latest answer (v2, "no") replaces its first (v1, "yes").
    assert rows == {"G1": (2, {"no": 1, "yes": 1}), "G2": (1, {"yes": 1}), "G3": (1, {"no": 1})}
    assert has_ext.total.respondents == 4 and has_ext.total.share("yes") == 0.5
    hazards = by_name["hazards"]
    assert dict(hazards.question.choices) == {
        "storage": "楼道堆物",
        "ebike": "电动车进楼充电",
        "blocked": "消防通道堵塞",
    }
    rows = {r.key: (r.respondents, r.counts) for r in hazards.rows}
    assert rows["G1"] == (1, {"storage": 1, "ebike": 1})
    assert rows["G2"] == (1, {})  # answered, nothing ticked
    assert rows["G3"] == (1, {"blocked": 1})
    count = by_name["count"]
    dist = {key: d for key, _name, d in count.rows}
    assert (dist["G1"].n, dist["G1"].median) == (1, 4.0)  # t1's latest has no count
    assert dist["G3"].n == 0
    assert (count.total.n, count.total.min, count.total.median, count.total.max) == (2, 4, 5.0, 6)
    assert count.bins == [("4", 1), ("5", 0), ("6", 1)]


def test_the_report_per_residential_area(app: Any, seeded: Any) -> None:
    report = reports.campaign_report(db.session, seeded.campaign, None, per="residential_area")
    has_ext = report.questions[0]
    assert {r.name: r.respondents for r in has_ext.rows} == {"番禺居民区": 3, "华山居民区": 1}


def _rows_by_target(rows: list[list[Any]]) -> dict[str, list[Any]]:
    return {row[2]: row for row in rows[1:]}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_exports_one_row_per_target_with_labels_local_times_and_cases(
    client: Any, seeded: Any, kind: str
) -> None:
    login(client, "d1")
    response = client.get(f"/campaigns/{seeded.campaign.id}/export.{kind}?include_personal=1")
    assert response.status_code == 200
    assert f".{kind}" in response.headers["Content-Disposition"]
    if kind == "csv":
        assert response.data.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    else:
        book = load_workbook(io.BytesIO(response.data))
        sheet = book.active.iter_rows(values_only=True)
        rows = [["" if v is None else v for v in r] for r in sheet]
    assert rows[0] == [
        "居民区",
        "网格",
        "对象",
        "已完成",
        "网格员",
        "填报时间",
        "逾期",
        "案件",
        "表单版本",
        "楼内配有灭火器吗？",
        "灭火器在有效期内？",
        "灭火器数量",
        "发现的隐患",
    ]
    assert len(rows) == 9
    by_target = _rows_by_target(rows)
    t1 = by_target["番禺路100弄1号"]
    assert t1[:9] == [
        "番禺居民区",
        "番禺居民区 › 第一块区 › 1号楼组",
        "番禺路100弄1号",
        "是",
        "吴芳",
        "2026-11-26 12:00",  # 03:00 UTC + 1 hour, in Shanghai
        "否",
        "",
        "2" if kind == "csv" else 2,
    ]
    assert t1[9:] == ["否", "", "", "楼道堆物、电动车进楼充电"]
    t2 = by_target["番禺路100弄2号"]
    assert t2[7] == "XH-2026-000901" and t2[10] == "否"
    assert t2[11] == ("4" if kind == "csv" else 4)
    t5 = by_target["番禺路100弄5号"]
    assert t5[6] == "是" and t5[8] in ("1", 1)
    t8 = by_target["番禺路100弄8号"]
    assert t8[0] == "华山居民区" and t8[3] == "否" and t8[4:] == [""] * 9


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _export_entries(app: Any) -> list[Any]:
    with app.app_context():
        return (
            db.session.execute(select(AuditEntry).where(AuditEntry.action == "export"))
            .scalars()
            .all()
        )


def test_an_export_without_the_box_is_the_progress_alone_and_is_not_audited(
    app: Any, client: Any, seeded: Any
) -> None:
    for user, query in (("d1", ""), ("mgr", ""), ("mgr", "?include_personal=1")):
        login(client, user)  # a manager may not take personal data out (PERSONAL_EXPORT_ROLES)
        rows = _csv(client.get(f"/campaigns/{seeded.campaign.id}/export.csv{query}"))
        assert rows[0] == ["居民区", "网格", "对象", "已完成", "网格员", "逾期", "案件", "表单版本"]
        assert all(len(r) == 8 for r in rows), user
        t2 = _rows_by_target(rows)["番禺路100弄2号"]
        assert t2[3:] == ["是", "周杰", "否", "XH-2026-000901", "2"]
        text = "\n".join(",".join(r) for r in rows)
        assert "楼道堆物" not in text and "2026-11-26" not in text
    assert _export_entries(app) == []


def test_an_export_of_answers_is_audited_with_who_what_and_how_many(
    app: Any, client: Any, seeded: Any
) -> None:
    login(client, "d1")
    rows = _csv(client.get(f"/campaigns/{seeded.campaign.id}/export.csv?include_personal=1"))
    assert "楼道堆物、电动车进楼充电" in [cell for r in rows for cell in r]
    (entry,) = _export_entries(app)
    assert entry.subject_type == "campaign" and entry.subject_id == str(seeded.campaign.id)
    assert entry.fields == ["target_labels", "answered_at", "answers"]
    assert entry.detail["rows"] == len(rows) - 1 and entry.detail["format"] == "csv"
    login(client, "admin")
    page = client.get("/audit/").get_data(as_text=True)
    assert "导出" in page and "填报内容" in page and "target_labels" not in page


def test_pages_show_the_figures_in_chinese(client: Any, seeded: Any) -> None:
    login(client, "mgr")
    cid = seeded.campaign.id
    page = client.get(f"/campaigns/{cid}/progress").get_data(as_text=True)
    assert "完成率" in page and "50.0%" in page and "XH-2026-000901" in page
    assert "番禺居民区" in page and "华山居民区" in page and "进行中" in page
    assert "campaign_published" not in page and "None" not in page
    report = client.get(f"/campaigns/{cid}/report").get_data(as_text=True)
    assert "楼内配有灭火器吗？" in report and "<svg" in report and "消防通道堵塞" in report
    assert "yes_no" not in report and "None" not in report
    area = client.get(f"/campaigns/{cid}/report?per=residential_area")
    assert area.status_code == 200 and "华山居民区" in area.get_data(as_text=True)
    data = client.get(f"/campaigns/{cid}/progress.json").get_json()
    cells = {f["id"]: f["properties"] for f in data["cells"]["features"]}
    assert cells["G1"]["done"] == 2 and cells["G1"]["share"] == 0.5
    assert {f["id"] for f in data["areas"]["features"]} == {"S-A1", "S-A2"}
    assert [f["number"] for f in data["findings"]] == ["XH-2026-000901"]


def test_a_manager_on_duty_for_one_area_sees_only_its_cells(client: Any, seeded: Any) -> None:
    login(client, "mgr2")
    data = client.get(f"/campaigns/{seeded.campaign.id}/progress.json").get_json()
    assert {f["id"] for f in data["cells"]["features"]} == {"G3"}
    assert data["findings"] == []
    export = client.get(f"/campaigns/{seeded.campaign.id}/export.csv")
    rows = _csv(export)
    assert sorted(r[2] for r in rows[1:]) == ["番禺路100弄7号", "番禺路100弄8号"]


@pytest.mark.parametrize(
    "path", ["progress", "progress.json", "report", "export.csv", "export.xlsx"]
)
def test_workers_are_refused_and_office_roles_read(client: Any, seeded: Any, path: str) -> None:
    url = f"/campaigns/{seeded.campaign.id}/{path}"
    assert client.get(url).status_code in (302, 401)
    login(client, "w1")
    assert client.get(url).status_code == 403
    for user in ("d1", "mgr", "admin"):
        login(client, user)
        assert client.get(url).status_code == 200, user


def test_an_unknown_campaign_or_grouping_is_a_clear_4xx(client: Any, seeded: Any) -> None:
    login(client, "d1")
    assert client.get("/campaigns/987654/progress").status_code == 404
    assert client.get("/campaigns/987654/export.csv").status_code == 404
    bad = client.get(f"/campaigns/{seeded.campaign.id}/report?per=street")
    assert bad.status_code in (400, 422)
    assert "请选择按网格或按居民区统计" in bad.get_data(as_text=True)


def test_a_value_that_no_longer_fits_its_question_is_left_out_not_guessed() -> None:
    old = {"questions": [{"name": "n", "type": "text", "label": {"zh": "数量(文字)"}}]}
    new = {"questions": [{"name": "n", "type": "integer", "label": {"zh": "数量"}}]}
    [q] = reports.merged_questions([old, new])
    assert (q.type, q.label) == ("integer", "数量")
    grouped = {("G1", "1号楼组"): [{"n": "3"}, {"n": 2}, {"n": True}, {"n": 4}]}
    report = reports._number_report(q, grouped)
    assert (report.total.n, report.total.min, report.total.max) == (2, 2, 4)
