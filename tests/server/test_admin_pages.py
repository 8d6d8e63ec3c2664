"""The administrators' pages (issue 13, item 5): staff, duties, units and the catalogue.

Every change goes through a CSRF-protected form, is audited, and a refused one answers 4xx
with a Chinese message and changes nothing. Who may open which page at all is in
tests/server/test_authorization_matrix.py; here non-admins are refused a change too.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from server.accounts.models import User
from server.accounts.passwords import NO_PASSWORD
from server.audit.models import AuditEntry
from server.catalogue import loading
from server.catalogue.models import CatalogueItem
from server.extensions import db
from server.grid.models import Duty
from server.units.models import Unit
from tests.server.backoffice_world import post_form
from tests.server.conftest import PASSWORD, login


@pytest.fixture
def admin(world: Any, client: Any) -> Any:
    login(client, "admin")
    return client


def audits(action: str, subject_type: str | None = None) -> list[AuditEntry]:
    db.session.expire_all()
    query = select(AuditEntry).where(AuditEntry.action == action)
    if subject_type:
        query = query.where(AuditEntry.subject_type == subject_type)
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


def user_named(name: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == name))


def text_of(response: Any) -> str:
    return response.get_data(as_text=True)


def count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


# --- staff ---------------------------------------------------------------------------------


def test_the_staff_page_lists_people_in_chinese_and_links_the_bulk_import(admin, world):
    page = admin.get("/admin/staff/")
    assert page.status_code == 200
    html = text_of(page)
    assert "周杰" in html and "新建账号" in html and "批量导入人员" in html
    assert 'href="/imports/"' in html
    filtered = text_of(admin.get("/admin/staff/?role=dispatcher"))
    assert "赵敏" in filtered and "周杰" not in filtered


def test_a_new_account_without_password_gets_a_one_time_link(admin, world):
    response = post_form(
        admin,
        "/admin/staff/",
        {"display_name": "陈晨", "username": "chenchen", "role": "worker", "phone": "13800000000"},
        token_from="/admin/staff/",
    )
    assert response.status_code == 200
    html = text_of(response)
    assert "账号已创建" in html
    assert re.search(r"/password-reset/[\w-]{20,}", html)
    assert response.headers["Cache-Control"] == "no-store"
    user = user_named("chenchen")
    assert user is not None and user.password_hash == NO_PASSWORD and user.display_name == "陈晨"
    assert [e.subject_id for e in audits("create", "user")] == [str(user.id)]
    assert [e.subject_id for e in audits("reset_link_issued")] == [str(user.id)]


def test_a_new_account_with_a_password_can_sign_in(app, admin, world):
    unit = world.units["U-GD"]
    response = post_form(
        admin,
        "/admin/staff/",
        {
            "display_name": "孙丽",
            "username": "sunli",
            "role": "dispatcher",
            "password": PASSWORD,
            "unit_id": str(unit.id),
        },
        token_from="/admin/staff/",
    )
    assert response.status_code == 302
    user = user_named("sunli")
    assert user is not None and user.unit_id == unit.id
    other = app.test_client()
    assert login(other, "sunli").status_code == 302
    assert other.get("/cases/").status_code == 200


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"username": "X Y", "role": "worker"}, 422, "用户名为"),
        ({"username": "w1", "role": "worker"}, 409, "已被使用"),
        ({"username": "newbie", "role": "boss"}, 422, "未知角色"),
        ({"username": "newbie", "role": "worker", "phone": "call me"}, 422, "电话号码"),
        ({"username": "newbie", "role": "worker", "password": "short"}, 422, "密码至少"),
        ({"username": "newbie", "role": "worker", "display_name": " "}, 422, "请填写姓名"),
        ({"username": "newbie", "role": "worker", "unit_id": "99999"}, 422, "请从列表中选择单位"),
    ],
)
def test_a_refused_new_account_says_why_and_changes_nothing(admin, world, data, status, message):
    users_before, audits_before = count(User), count(AuditEntry)
    form = {"display_name": "新人", **data}
    response = post_form(admin, "/admin/staff/", form, token_from="/admin/staff/")
    assert response.status_code == status
    assert message in text_of(response)
    assert 'value="新人"' in text_of(response) or data.get("display_name") == " "
    assert count(User) == users_before
    assert count(AuditEntry) == audits_before


def test_disable_and_enable_end_sessions_and_are_audited(app, admin, world):
    worker = app.test_client()
    login(worker, "d1")
    assert worker.get("/cases/").status_code == 200
    target = world.users["d1"].id
    page = f"/admin/staff/{target}"
    response = post_form(admin, f"{page}/active", {"active": "0"}, token_from=page)
    assert response.status_code == 302
    assert not user_named("d1").is_active
    assert worker.get("/cases/").status_code == 302  # signed out: back to the login page
    assert "已停用" in text_of(admin.get(page))
    response = post_form(admin, f"{page}/active", {"active": "1"}, token_from=page)
    assert response.status_code == 302 and user_named("d1").is_active
    assert [e.subject_id for e in audits("disable", "user")] == [str(target)]
    assert [e.subject_id for e in audits("enable", "user")] == [str(target)]


def test_a_persons_details_change_with_an_audited_before_and_after(app, admin, world):
    worker = app.test_client()
    login(worker, "w1")
    target = world.users["w1"]
    page = f"/admin/staff/{target.id}"
    form = {
        "display_name": "周杰伦",
        "role": "dispatcher",
        "phone": "13900000001",
        "email": "zhou@example.cn",
        "unit_id": str(world.units["U-CGZD"].id),
    }
    response = post_form(admin, f"{page}/details", form, token_from=page)
    assert response.status_code == 302
    user = user_named("w1")
    assert (user.display_name, user.role, user.phone, user.email, user.unit_id) == (
        "周杰伦",
        "dispatcher",
        "13900000001",
        "zhou@example.cn",
        world.units["U-CGZD"].id,
    )
    assert worker.get("/cases/").status_code == 302  # a new role: sign in again
    (entry,) = audits("update", "user")
    assert entry.detail["changes"]["role"] == ["worker", "dispatcher"]
    assert entry.detail["changes"]["display_name"] == ["周杰", "周杰伦"]


@pytest.mark.parametrize(
    ("who", "changes", "message"),
    [
        ("w1", {"email": "not-mail"}, "电子邮箱地址"),
        ("w1", {"phone": "abc"}, "电话号码"),
        ("w1", {"role": "king"}, "未知角色"),
        ("w1", {"display_name": ""}, "请填写姓名"),
        ("admin", {"role": "worker"}, "不能更改自己的角色"),
    ],
)
def test_a_refused_detail_change_says_why_and_changes_nothing(admin, world, who, changes, message):
    target = world.users[who]
    page = f"/admin/staff/{target.id}"
    form = {"display_name": target.display_name, "role": str(target.role), **changes}
    response = post_form(admin, f"{page}/details", form, token_from=page)
    assert response.status_code == 422
    assert message in text_of(response)
    user = user_named(who)
    assert user.role == target.role and user.email is None and user.phone is None
    assert audits("update") == []


def test_an_admin_cannot_disable_their_own_account(admin, world):
    page = f"/admin/staff/{world.users['admin'].id}"
    response = post_form(admin, f"{page}/active", {"active": "0"}, token_from=page)
    assert response.status_code == 422
    assert "不能停用自己的账号" in text_of(response)
    assert user_named("admin").is_active
    assert audits("disable") == []


def test_a_reset_link_is_shown_once_and_audited_and_refused_for_disabled_accounts(admin, world):
    target = world.users["w3"]
    page = f"/admin/staff/{target.id}"
    response = post_form(admin, f"{page}/reset-link", {}, token_from=page)
    assert response.status_code == 200
    assert re.search(r"/password-reset/[\w-]{20,}", text_of(response))
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert len(audits("reset_link_issued")) == 1
    post_form(admin, f"{page}/active", {"active": "0"}, token_from=page)
    response = post_form(admin, f"{page}/reset-link", {}, token_from=page)
    assert response.status_code == 409
    assert "请先启用" in text_of(response) or "启用" in text_of(response)
    assert len(audits("reset_link_issued")) == 1


def test_cells_are_picked_from_the_tree_or_by_name_with_their_path(admin, world):
    page = f"/admin/staff/{world.users['w3'].id}"
    top = text_of(admin.get(page))
    assert "新华路街道" in top and "全部网格" in top
    branch = text_of(admin.get(f"{page}?under=S-A1-B1"))
    assert "1号楼组" in branch and "2号楼组" in branch and "第一块区" in branch
    found = text_of(admin.get(f"{page}?q=2号"))
    assert "新华路街道 › 番禺居民区 › 第一块区 › 2号楼组" in found
    assert 'value="G2"' in found and 'value="G1"' not in found
    nothing = text_of(admin.get(f"{page}?q=不存在"))
    assert "已发布的网格中没有此名称" in nothing


def test_assigning_and_ending_a_duty_is_audited(admin, world):
    target = world.users["w3"]
    page = f"/admin/staff/{target.id}"
    form = {"cell_code": "G1", "role": "grid_worker", "rank": "deputy", "starts_on": "2026-01-05"}
    response = post_form(admin, f"{page}/duties", form, token_from=page)
    assert response.status_code == 302
    duty = db.session.scalar(select(Duty).where(Duty.user_id == target.id, Duty.cell_code == "G1"))
    assert duty is not None and duty.rank == "deputy"
    html = text_of(admin.get(page))
    assert "新华路街道 › 番禺居民区 › 第一块区 › 1号楼组" in html
    (assigned,) = audits("duty_assigned")
    assert assigned.detail["cell_code"] == "G1" and assigned.subject_id == str(target.id)
    response = post_form(admin, f"{page}/duties/{duty.id}/end", {}, token_from=page)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Duty, duty.id).ends_on is not None
    assert len(audits("duty_ended")) == 1


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"role": "grid_worker"}, 422, "请从网格树或搜索结果中选择"),
        ({"role": "grid_worker", "cell_code": "NOPE"}, 422, "请选择已发布网格中的网格"),
        ({"role": "mayor", "cell_code": "G2"}, 422, "grid_worker"),
        ({"role": "grid_worker", "cell_code": "G2", "starts_on": "2026-01-01"}, 409, "G2"),
        ({"role": "grid_worker", "cell_code": "G1", "starts_on": "5 May"}, 422, "YYYY-MM-DD"),
        (
            {
                "role": "grid_worker",
                "cell_code": "G1",
                "starts_on": "2026-03-01",
                "ends_on": "2026-02-01",
            },
            422,
            "",
        ),
    ],
)
def test_a_refused_duty_says_why_and_changes_nothing(admin, world, form, status, message):
    target = world.users["w3"]  # already principal for G2 since 2026-01-01
    page = f"/admin/staff/{target.id}"
    before, audits_before = count(Duty), count(AuditEntry)
    response = post_form(admin, f"{page}/duties", form, token_from=page)
    assert response.status_code == status
    assert message in text_of(response)
    assert 'class="error"' in text_of(response)
    assert count(Duty) == before and count(AuditEntry) == audits_before


@pytest.mark.parametrize("role", ["dispatcher", "manager", "gis", "worker"])
def test_non_admins_are_refused_and_nothing_changes(app, world, make_user, role):
    other = app.test_client()
    user = make_user(role)
    login(other, user.username)
    target = world.users["w1"].id
    token = post_form  # the CSRF token comes from a page any signed-in user may open
    responses = [
        other.get("/admin/staff/"),
        other.get("/admin/units/"),
        other.get("/admin/catalogue/"),
        token(other, f"/admin/staff/{target}/active", {"active": "0"}),
        token(other, "/admin/staff/", {"username": "sneaky", "role": "admin"}),
        token(other, f"/admin/catalogue/{world.items['A01-01'].id}", {"is_active": ""}),
    ]
    assert [r.status_code for r in responses] == [403] * len(responses)
    assert user_named("w1").is_active and user_named("sneaky") is None
    db.session.expire_all()
    assert db.session.get(CatalogueItem, world.items["A01-01"].id).is_active
    assert audits("disable") == [] and audits("create") == []


def test_a_form_without_its_csrf_token_is_refused(admin, world):
    target = world.users["w1"].id
    response = admin.post(f"/admin/staff/{target}/active", data={"active": "0"})
    assert response.status_code == 400
    assert user_named("w1").is_active


# --- units ---------------------------------------------------------------------------------


def unit_form(unit: Unit, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name_zh": unit.name_zh,
        "kind": str(unit.kind),
        "phone": unit.phone or "",
        "address": unit.address or "",
        "cell_code": unit.cell_code or "",
        "is_active": "1" if unit.is_active else "",
        "items": [
            str(i.id)
            for i in db.session.scalars(
                select(CatalogueItem).where(CatalogueItem.default_unit_id == unit.id)
            )
        ],
    }
    form.update(changes)
    return form


def test_units_are_listed_with_kind_and_cell_path(admin, world):
    html = text_of(admin.get("/admin/units/"))
    assert "供电公司驻街服务站" in html and "驻区单位" in html and "职能部门" in html
    assert "新华路街道 › 番禺居民区" in html  # U-WY-G1 stands in S-A1


def test_editing_a_unit_changes_it_and_its_items_with_history(admin, world):
    unit = world.units["U-GD"]
    moved = world.items["A01-09"]  # handled by U-WY until now
    version_before = moved.version
    page = f"/admin/units/{unit.id}"
    form = unit_form(
        unit,
        kind="repair_team",
        phone="021-6283 1234",
        address="新华路 100 号",
        cell_code="S-A1-B1",
        items=[str(world.items["A05-01"].id), str(moved.id)],
    )
    response = post_form(admin, page, form, token_from=page)
    assert response.status_code == 302
    db.session.expire_all()
    unit = db.session.get(Unit, unit.id)
    assert (unit.kind, unit.phone, unit.address, unit.cell_code) == (
        "repair_team",
        "021-6283 1234",
        "新华路 100 号",
        "S-A1-B1",
    )
    moved = db.session.get(CatalogueItem, moved.id)
    assert moved.default_unit_id == unit.id and moved.version > version_before
    (entry,) = audits("update", "unit")
    assert entry.detail["changes"]["kind"] == ["stationed_unit", "repair_team"]
    assert entry.detail["items_added"] == ["A01-09"]
    html = text_of(admin.get(page))
    assert "应急抢修队" in html and "新增事项：A01-09" in html
    item_page = text_of(admin.get(f"/admin/catalogue/{moved.id}"))
    assert "默认处置单位" in item_page and "供电公司驻街服务站" in item_page
    # Unticking an item leaves it without a default unit (the dispatcher chooses).
    response = post_form(admin, page, unit_form(unit, items=[str(moved.id)]), token_from=page)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CatalogueItem, world.items["A05-01"].id).default_unit_id is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "not a phone"}, "电话号码"),
        ({"kind": "bank"}, "请从列表中选择类别"),
        ({"cell_code": "NOPE"}, "请选择已发布网格中的网格"),
        ({"name_zh": ""}, "请填写单位名称"),
        ({"items": ["abc"]}, "请从列表中选择事项"),
        ({"items": ["99999"]}, "请从列表中选择事项"),
    ],
)
def test_a_refused_unit_change_says_why_and_changes_nothing(admin, world, changes, message):
    unit = world.units["U-GD"]
    page = f"/admin/units/{unit.id}"
    before = (unit.name_zh, unit.kind, unit.phone, unit.cell_code)
    form = unit_form(unit, address="改了也不算", **changes)
    response = post_form(admin, page, form, token_from=page)
    assert response.status_code == 422
    assert message in text_of(response)
    db.session.expire_all()
    unit = db.session.get(Unit, unit.id)
    assert (unit.name_zh, unit.kind, unit.phone, unit.cell_code) == before
    assert unit.address is None and audits("update") == []


# --- catalogue -----------------------------------------------------------------------------


def item_form(item: CatalogueItem, **changes: Any) -> dict[str, Any]:
    form = {
        "limit_urgent_hours": str(item.limit_urgent_hours),
        "limit_high_hours": str(item.limit_high_hours),
        "limit_normal_hours": str(item.limit_normal_hours),
        "default_unit_id": str(item.default_unit_id or ""),
        "is_active": "1" if item.is_active else "",
    }
    form.update(changes)
    return form


def test_the_catalogue_lists_limits_and_default_units(admin, world):
    html = text_of(admin.get("/admin/catalogue/"))
    assert "生活垃圾堆积" in html and "街道城管执法中队" in html and "默认处置单位" in html
    assert "<td>72</td>" in html


def test_editing_an_item_keeps_a_visible_history_and_survives_a_reload(admin, world):
    item = world.items["A01-01"]
    page = f"/admin/catalogue/{item.id}"
    form = item_form(
        item,
        limit_urgent_hours="2",
        limit_normal_hours="48.5",
        default_unit_id=str(world.units["U-WY"].id),
        is_active="",
    )
    response = post_form(admin, page, form, token_from=page)
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(CatalogueItem, item.id)
    assert (item.limit_urgent_hours, item.limit_high_hours, item.limit_normal_hours) == (
        2,
        24,
        48.5,
    )
    assert item.default_unit_id == world.units["U-WY"].id and not item.is_active
    (entry,) = audits("update", "catalogue_item")
    assert entry.detail["changes"]["limit_urgent_hours"] == [4.0, 2.0]
    html = text_of(admin.get(page))
    assert "紧急时限: 4 → 2" in html and "一般时限: 72 → 48.5" in html
    assert "默认处置单位: 街道城管执法中队 → 小区物业服务企业(按网格)" in html
    assert "管理员" in html  # who
    # Saving the same values again records nothing new.
    post_form(admin, page, item_form(item), token_from=page)
    assert len(audits("update", "catalogue_item")) == 1
    # The shipped file stays the default: a plain re-load keeps the back office's edits.
    data = {
        "categories": [{"code": "A01", "kind": "affair", "name_zh": "社区环境", "name_en": "E"}],
        "items": [
            {
                "code": "A01-01",
                "category": "A01",
                "name_zh": "生活垃圾堆积",
                "name_en": "A01-01",
                "default_unit": "U-CGZD",
                "limits_hours": {"urgent": 4, "high": 24, "normal": 72},
            }
        ],
    }
    loading.load_catalogue(db.session, data)
    db.session.commit()
    db.session.expire_all()
    item = db.session.get(CatalogueItem, item.id)
    assert item.limit_urgent_hours == 2 and not item.is_active


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"limit_urgent_hours": "abc"}, "limit_urgent_hours", "请填写小时数"),
        ({"limit_high_hours": "-3"}, "limit_high_hours", "时限须在"),
        ({"limit_normal_hours": "nan"}, "limit_normal_hours", "时限须在"),
        ({"limit_normal_hours": "100000"}, "limit_normal_hours", "时限须在"),
        ({"limit_urgent_hours": "30"}, "limit_urgent_hours", "紧急时限不能长于较急时限"),
        ({"default_unit_id": "99999"}, "unit_id", "请从列表中选择单位"),
    ],
)
def test_a_refused_item_change_says_why_and_changes_nothing(admin, world, changes, field, message):
    item = world.items["A01-01"]
    page = f"/admin/catalogue/{item.id}"
    form = item_form(item, is_active="", **changes)
    response = post_form(admin, page, form, token_from=page)
    assert response.status_code == 422
    html = text_of(response)
    assert message in html and f'id="{field}-error"' in html
    db.session.expire_all()
    item = db.session.get(CatalogueItem, item.id)
    assert item.is_active and item.limit_urgent_hours == 4
    assert audits("update") == []


def test_a_disabled_unit_cannot_become_a_default(admin, world):
    unit = world.units["U-GD"]
    unit.is_active = False
    db.session.commit()
    item = world.items["A01-01"]
    page = f"/admin/catalogue/{item.id}"
    response = post_form(
        admin, page, item_form(item, default_unit_id=str(unit.id)), token_from=page
    )
    assert response.status_code == 422 and "此单位已停用" in text_of(response)


def test_unknown_records_are_404(admin, world):
    assert admin.get("/admin/staff/99999").status_code == 404
    assert admin.get("/admin/units/99999").status_code == 404
    assert admin.get("/admin/catalogue/99999").status_code == 404
    _ = dt  # dates are read by the views
