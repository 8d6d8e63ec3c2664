"""The campaign pages: a manager drafts, previews, publishes and closes; others read or not."""

from __future__ import annotations

import datetime as dt
import io
import re

from sqlalchemy import func, select

from server.campaigns.listfile import read_list
from server.campaigns.models import Campaign, CampaignTarget
from server.extensions import db
from sync.models import ScopeExit
from tests.server.backoffice_world import form_token
from tests.server.campaign_world import xlsx_list
from tests.server.conftest import signed_in


def _draft_form(cw, **overrides):
    data = {
        "code": "fire_2026",
        "title_zh": "冬季消防检查",
        "description_zh": "每户检查灭火器",
        "form_id": str(cw.form.id),
        "target_kind": "household",
        "responsible": ["S-A1"],
        "starts_on": "2026-11-26",
        "ends_on": "2026-12-31",
    }
    data.update(overrides)
    return data


def _post(client, path, data, token_from):
    return client.post(
        path,
        data={**data, "csrf_token": form_token(client, token_from)},
        content_type="multipart/form-data",
    )


def test_a_manager_drafts_previews_publishes_and_closes(app, campaign_world) -> None:
    cw = campaign_world
    client = signed_in(app, "mgr")
    listed = xlsx_list([["户号"], ["1"], ["3"]])
    data = _draft_form(cw, list=(io.BytesIO(listed), "名单.xlsx"))
    saved = _post(client, "/campaigns/new", data, "/campaigns/new")
    assert saved.status_code == 302, saved.get_data(as_text=True)
    campaign = db.session.scalars(select(Campaign)).one()
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "现在发布的对象数:2" in page and "名单.xlsx" in page
    assert "1号楼组" in page and "2号楼组" in page  # the count per cell
    published = _post(client, f"/campaigns/{campaign.id}/publish", {}, f"/campaigns/{campaign.id}")
    assert published.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(CampaignTarget)) == 2
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "对象:2" in page and "已发布" in page and 'id="campaign-links"' in page
    again = _post(client, f"/campaigns/{campaign.id}/publish", {}, "/campaigns/")
    assert again.status_code == 302 and again.location.endswith(f"/campaigns/{campaign.id}")
    assert "已经发布" in client.get(again.location).get_data(as_text=True)
    closed = _post(client, f"/campaigns/{campaign.id}/close", {}, f"/campaigns/{campaign.id}")
    assert closed.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ScopeExit)) == 2
    assert "已结束" in client.get("/campaigns/").get_data(as_text=True)


def test_unmatched_list_lines_are_shown_and_nothing_is_saved(app, campaign_world) -> None:
    cw = campaign_world
    client = signed_in(app, "mgr")
    listed = "地址\n新华路329弄12号101室\n火星路1号1室\n".encode()
    data = _draft_form(cw, list=(io.BytesIO(listed), "bad.csv"))
    answer = _post(client, "/campaigns/new", data, "/campaigns/new")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "名单中有 1 行在登记册中找不到" in html and "火星路1号1室" in html
    assert re.search(r"<td>3</td><td>火星路1号1室</td>", html)
    assert 'value="冬季消防检查"' in html  # the form keeps what was typed
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_bad_inputs_get_chinese_messages_and_a_4xx(app, campaign_world) -> None:
    cw = campaign_world
    client = signed_in(app, "mgr")
    wrong = _post(client, "/campaigns/new", _draft_form(cw, ends_on="2026-11-01"), "/campaigns/new")
    assert wrong.status_code == 422 and "结束日期不能早于开始日期" in wrong.get_data(as_text=True)
    unpublished = _draft_form(cw, form_id=str(cw.draft_form.id))
    answer = _post(client, "/campaigns/new", unpublished, "/campaigns/new")
    assert answer.status_code == 422 and "还没有发布的版本" in answer.get_data(as_text=True)
    empty = _draft_form(cw, care_tags=["old"], responsible=["G1"])
    assert _post(client, "/campaigns/new", empty, "/campaigns/new").status_code == 302
    campaign = db.session.scalars(select(Campaign)).one()
    path = f"/campaigns/{campaign.id}"
    _assert_refused_back_on_detail(client, f"{path}/publish", path, "没有任何对象")
    _assert_refused_back_on_detail(client, f"{path}/close", path, "草稿状态")
    assert client.get("/campaigns/987654").status_code == 404


def _assert_refused_back_on_detail(client, action, path, message, **data):
    """A refused action returns the user to the detail page, the Chinese reason shown there."""
    answer = _post(client, action, data, path)
    assert answer.status_code == 302 and answer.location.endswith(path)
    page = client.get(answer.location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "flash-error" in html and message in html, html


def test_refused_publish_and_close_come_back_to_the_detail_page(app, campaign_world) -> None:
    cw = campaign_world
    client = signed_in(app, "mgr")
    empty = cw.draft(code="empty", care_tags=["old"], responsible=["G1"])
    path = f"/campaigns/{empty.id}"
    _assert_refused_back_on_detail(client, f"{path}/publish", path, "没有任何对象")
    _assert_refused_back_on_detail(client, f"{path}/close", path, "草稿状态")
    assert db.session.get(Campaign, empty.id).status == "draft"
    unformed = cw.draft(code="unformed")
    unformed.form_id = cw.draft_form.id  # the form lost its published version after the draft
    db.session.commit()
    path = f"/campaigns/{unformed.id}"
    _assert_refused_back_on_detail(client, f"{path}/publish", path, "还没有发布的版本")
    assert db.session.get(Campaign, unformed.id).status == "draft"
    twice = cw.draft(code="twice")
    path = f"/campaigns/{twice.id}"
    assert _post(client, f"{path}/publish", {}, path).status_code == 302
    targets = db.session.scalar(select(func.count()).select_from(CampaignTarget))
    _assert_refused_back_on_detail(client, f"{path}/publish", path, "已经发布")
    assert db.session.scalar(select(func.count()).select_from(CampaignTarget)) == targets


def test_a_published_campaigns_end_date_is_moved_and_audited(app, campaign_world) -> None:
    from server import clock
    from server.audit.models import AuditEntry

    cw = campaign_world
    client = signed_in(app, "mgr")
    campaign = cw.draft(code="later")
    today = clock.today()
    campaign.starts_on = today - dt.timedelta(days=10)  # begun ten days ago
    db.session.commit()
    path = f"/campaigns/{campaign.id}"
    _assert_refused_back_on_detail(client, f"{path}/end-date", path, "草稿请直接编辑")
    assert _post(client, f"{path}/publish", {}, path).status_code == 302
    db.session.expire_all()
    before = db.session.get(Campaign, campaign.id)
    old_end, old_version = before.ends_on, before.version
    page = client.get(path).get_data(as_text=True)
    assert 'id="end-date"' in page and "修改截止日期" in page
    for bad, reason in (
        ((today - dt.timedelta(days=1)).isoformat(), "请选择今天或以后的日期"),
        ((today - dt.timedelta(days=11)).isoformat(), "结束日期不能早于开始日期"),
        ("2026-02-30", "YYYY-MM-DD"),
        ("", "请填写开始和结束日期"),
    ):
        _assert_refused_back_on_detail(client, f"{path}/end-date", path, reason, ends_on=bad)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).ends_on == old_end
    later = old_end + dt.timedelta(days=14)
    moved = _post(client, f"{path}/end-date", {"ends_on": later.isoformat()}, path)
    assert moved.status_code == 302 and moved.location.endswith(path)
    assert f"截止日期已改为 {later.isoformat()}" in client.get(path).get_data(as_text=True)
    db.session.expire_all()
    after = db.session.get(Campaign, campaign.id)
    assert after.ends_on == later and after.version > old_version
    entry = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject_type == "campaign")
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry.action == "update"
    assert entry.detail["ends_on"] == [old_end.isoformat(), later.isoformat()]
    assert 'id="past-end"' not in client.get(path).get_data(as_text=True)
    after.ends_on = today - dt.timedelta(days=1)  # the deadline passed, nobody closed it
    db.session.commit()
    assert "请修改截止日期或关闭专项行动" in client.get(path).get_data(as_text=True)
    assert "已过截止日期" in client.get("/campaigns/").get_data(as_text=True)
    assert _post(client, f"{path}/close", {}, path).status_code == 302
    assert "已过截止日期" not in client.get("/campaigns/").get_data(as_text=True)
    _assert_refused_back_on_detail(
        client, f"{path}/end-date", path, "已经结束", ends_on=later.isoformat()
    )
    dispatcher = signed_in(app, "d1")
    assert 'id="end-date"' not in dispatcher.get(path).get_data(as_text=True)


def test_dispatchers_read_and_workers_are_refused(app, campaign_world) -> None:
    campaign = campaign_world.draft()
    dispatcher = signed_in(app, "d1")
    page = dispatcher.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "冬季消防检查" in page and "发布</button>" not in page
    assert dispatcher.get("/campaigns/new").status_code == 403
    worker = signed_in(app, "w1")
    assert worker.get("/campaigns/").status_code == 403
    assert worker.get(f"/campaigns/{campaign.id}").status_code == 403


def test_a_draft_is_edited_until_published(app, campaign_world) -> None:
    cw = campaign_world
    campaign = cw.draft(upload=read_list(db.session, "户号\n1\n".encode(), "one.csv"))
    client = signed_in(app, "mgr")
    path = f"/campaigns/{campaign.id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert "当前名单:one.csv" in page and 'value="fire_2026"' in page
    changed = _draft_form(cw, target_kind="resident", responsible=["S"], drop_list="1")
    assert _post(client, path, changed, path).status_code == 302
    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign.id)
    assert campaign.target_kind == "resident" and campaign.selection["list"] is None
    detail = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "现在发布的对象数:5" in detail
    _post(client, f"/campaigns/{campaign.id}/publish", {}, f"/campaigns/{campaign.id}")
    refused = _post(client, path, changed, f"/campaigns/{campaign.id}")
    assert refused.status_code == 409 and "只有草稿状态" in refused.get_data(as_text=True)


def test_creating_editing_publishing_and_closing_are_audited(app, campaign_world) -> None:
    from server.audit.models import AuditEntry
    from server.audit.wording import describe

    cw = campaign_world
    client = signed_in(app, "mgr")
    assert _post(client, "/campaigns/new", _draft_form(cw), "/campaigns/new").status_code == 302
    campaign = db.session.scalars(select(Campaign)).one()
    path = f"/campaigns/{campaign.id}"
    edited = _post(client, f"{path}/edit", _draft_form(cw, title_zh="冬季消防复查"), f"{path}/edit")
    assert edited.status_code == 302
    assert _post(client, f"{path}/publish", {}, path).status_code == 302
    _post(client, f"{path}/publish", {}, path)  # refused: no entry
    assert _post(client, f"{path}/close", {}, path).status_code == 302
    db.session.expire_all()
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == "campaign").order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["create", "update", "publish", "close"]
    mgr = cw.world.users["mgr"].id
    assert all(e.actor_id == mgr and e.subject_id == str(campaign.id) for e in entries)
    assert entries[2].detail["targets"] == db.session.scalar(
        select(func.count()).select_from(CampaignTarget)
    )
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        words = describe(db.session, entries, "zh")
    assert {w.kind for w in words} == {"专项行动"}
    assert words[3].action == "结束" and words[3].subject == "冬季消防复查 fire_2026"
