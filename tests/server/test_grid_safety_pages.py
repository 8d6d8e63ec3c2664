"""Safe grid publishing on the pages and the command line: the same checks, the same fixes."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from server.audit.models import AuditEntry
from server.enums import GridStatus
from server.grid.models import GridUpload, GridVersion
from tests.server.conftest import csrf_token
from tests.server.grid_files import grid_bytes, grid_features, surveyors_features
from tests.server.test_grid_cli import run
from tests.server.test_grid_pages import follow_progress, post_upload, signed_in


def test_a_displaced_draft_page_names_the_cause_overlays_the_published_grid_and_fixes_it(
    client, make_user, db_session
):
    signed_in(client, make_user)
    first = follow_progress(client, post_upload(client, grid_bytes()).headers["Location"])
    first_id = int(re.search(r"/grids/(\d+)/publish", first.get_data(as_text=True)).group(1))
    token = csrf_token(client, f"/grids/{first_id}/publish")
    assert client.post(f"/grids/{first_id}/publish", data={"csrf_token": token}).status_code == 302

    page = follow_progress(
        client, post_upload(client, grid_bytes(), datum="bd09").headers["Location"]
    )
    html = page.get_data(as_text=True)
    assert "网格发生了整体偏移：发布前请核查" in html
    assert "看起来是把 WGS-84 坐标声明成了 BD-09" in html
    assert "按 WGS-84 重新导入" in html and "需确认" in html
    assert f"/api/v1/grids/{first_id}/export" in html  # the published version, under the draft
    assert "已发布版本 1（对照）" in html and "不重叠面积(m²)" in html and "中位偏移(米)" in html
    assert "最大偏移(米)" in html
    form = re.search(r'<form method="post" action="/grids/reimport".*?</form>', html, re.S).group(0)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    assert fields["datum"] == "wgs84" and fields["code_property"] == "code"

    fixed = client.post("/grids/reimport", data=fields)
    assert fixed.status_code == 302 and "/grids/imports/" in fixed.headers["Location"]
    fixed_html = follow_progress(client, fixed.headers["Location"]).get_data(as_text=True)
    assert "网格发生了整体偏移" not in fixed_html and "没有变化。" in fixed_html
    assert db_session.scalar(select(func.count()).select_from(GridUpload)) == 1


def test_publishing_from_the_page_asks_first_with_the_numbers_and_the_acknowledgement(
    client, make_user, db_session
):
    signed_in(client, make_user)
    first = follow_progress(client, post_upload(client, grid_bytes()).headers["Location"])
    first_id = int(re.search(r"/grids/(\d+)/publish", first.get_data(as_text=True)).group(1))
    confirm = client.get(f"/grids/{first_id}/publish").get_data(as_text=True)
    assert "发布网格版本 1？" in confirm and "目前没有已发布的版本" in confirm
    assert "在办案件（共核对 0 件）" in confirm and "改归其他网格" in confirm
    assert "acknowledge_displacement" not in confirm
    token = csrf_token(client, f"/grids/{first_id}/publish")
    client.post(f"/grids/{first_id}/publish", data={"csrf_token": token})
    again = client.get(f"/grids/{first_id}/publish").get_data(as_text=True)
    assert "网格版本 1 已经发布。" in again and "publish-form" not in again
    broken = grid_features()
    broken[3]["properties"]["parent_code"] = "R9"
    page = follow_progress(client, post_upload(client, grid_bytes(broken)).headers["Location"])
    broken_id = int(re.search(r"/grids/(\d+)\b", page.request.path).group(1))
    refused = client.get(f"/grids/{broken_id}/publish").get_data(as_text=True)
    assert "不能发布" in refused and "publish-form" not in refused

    features = grid_features()
    for feature in features:
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"][0] = [[x + 0.003, y] for x, y in ring]
    moved = follow_progress(client, post_upload(client, grid_bytes(features)).headers["Location"])
    moved_id = int(re.search(r"/grids/(\d+)/publish", moved.get_data(as_text=True)).group(1))
    confirm = client.get(f"/grids/{moved_id}/publish").get_data(as_text=True)
    assert "网格发生了整体偏移" in confirm and 'name="acknowledge_displacement"' in confirm
    assert "与已发布版本 1 对比" in confirm

    token = csrf_token(client, f"/grids/{moved_id}/publish")
    refused = client.post(f"/grids/{moved_id}/publish", data={"csrf_token": token})
    assert refused.status_code == 422 and "整体偏移了约 286 米" in refused.get_data(as_text=True)
    assert db_session.get(GridVersion, moved_id).status == GridStatus.DRAFT

    done = client.post(
        f"/grids/{moved_id}/publish",
        data={"csrf_token": token, "acknowledge_displacement": "1", "reason": "边界整体东移"},
    )
    assert done.status_code == 302
    db_session.expire_all()
    assert db_session.get(GridVersion, moved_id).status == GridStatus.PUBLISHED
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "publish_displaced"))
    assert entry.detail["acknowledgement"] == "边界整体东移" and entry.ip is not None


def test_an_unreadable_swapped_file_offers_the_swap_on_the_progress_page(client, make_user):
    signed_in(client, make_user)
    features = grid_features()
    for feature in features:
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"][0] = [[y, x] for x, y in ring]
    page = follow_progress(client, post_upload(client, grid_bytes(features)).headers["Location"])
    html = page.get_data(as_text=True)
    assert "文件已保留" in html and "交换坐标轴后重新读取" in html
    assert html.count('<tr class="sev-error">') == 1  # one row for the file, not 15
    form = re.search(r'<form method="post" action="/grids/reimport".*?</form>', html, re.S).group(0)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    assert fields["swap_axes"] == "1"
    fixed = client.post("/grids/reimport", data=fields)
    html = follow_progress(client, fixed.headers["Location"]).get_data(as_text=True)
    assert "未发现问题。" in html


def test_the_command_line_names_the_cause_prints_the_fix_and_needs_the_acknowledgement(
    app, tmp_path, db_session
):
    source = tmp_path / "grid.geojson"
    source.write_bytes(grid_bytes())
    assert run(app, "grid", "import", str(source)).exit_code == 0
    assert run(app, "grid", "publish", "1", "--yes").exit_code == 0
    wrong = run(app, "grid", "import", str(source), "--datum", "gcj02")
    assert wrong.exit_code == 0, wrong.output  # blocking is not an error: the draft is kept
    assert "blocking" in wrong.output and "WGS-84 declared as GCJ-02" in wrong.output
    assert "flask --app wsgi grid import --upload 1 --datum wgs84" in wrong.output
    refused = run(app, "grid", "publish", "2", "--yes")
    assert refused.exit_code == 1 and "grid_displaced" in refused.output
    assert "BLOCKING" in refused.output
    dry = run(app, "grid", "publish", "2", "--dry-run")
    assert dry.exit_code == 0 and "open cases moving to another cell: 0 of 0" in dry.output
    fixed = run(app, "grid", "import", "--upload", "1", "--datum", "wgs84")
    assert fixed.exit_code == 0 and "draft 3: 15 cells" in fixed.output
    assert "0 errors" in fixed.output and "blocking" not in fixed.output
    not_asked = run(app, "grid", "publish", "2", input="n\n")
    assert not_asked.exit_code == 1 and "not published" in not_asked.output
    moved = run(app, "grid", "publish", "2", "--yes", "--acknowledge-displacement", "测试")
    assert moved.exit_code == 0 and "published 2" in moved.output
    assert run(app, "grid", "import").exit_code == 2  # neither FILE nor --upload
    assert db_session.scalar(select(func.count()).select_from(GridUpload)) == 1


def test_the_command_line_prints_the_level_fix_for_a_file_without_levels(app, tmp_path):
    features = surveyors_features()
    source = tmp_path / "survey.geojson"
    source.write_bytes(grid_bytes(features))
    refused = run(app, "grid", "import", str(source))
    assert refused.exit_code == 1 and "level_absent" in refused.output
    assert "grid import --upload 1 --datum wgs84 --level-from-code" in refused.output
    assert "--default-level LEVEL" in refused.output
    derived = run(app, "grid", "import", "--upload", "1", "--level-from-code")
    assert derived.exit_code == 0 and "draft 1: 15 cells" in derived.output


def test_the_upload_form_takes_levels_from_codes_a_default_level_and_swapped_axes(
    client, make_user
):
    signed_in(client, make_user)
    html = client.get("/grids/").get_data(as_text=True)
    assert 'name="level_from_code"' in html and 'name="default_level"' in html
    assert 'name="swap_axes"' in html and "交换坐标轴" in html
    page = follow_progress(
        client,
        post_upload(client, grid_bytes(surveyors_features()), level_from_code="1").headers[
            "Location"
        ],
    )
    html = page.get_data(as_text=True)
    assert "按编码推导的层级" in html and "S-R1-B1-G1" in html and "未发现问题。" in html
    features = grid_features()
    for feature in features:
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"][0] = [[y, x] for x, y in ring]
    page = follow_progress(
        client, post_upload(client, grid_bytes(features), swap_axes="1").headers["Location"]
    )
    assert "未发现问题。" in page.get_data(as_text=True)
