"""The office's form pages (/forms/, issue 18 item 1), SQLite and PostgreSQL: create, edit a
draft (problems named per question), publish (then read-only), a new draft from the latest,
XLSForm import with its report and export. Bad input is a clear 4xx and stores nothing.
Who may open the pages at all is in tests/server/test_authorization_matrix.py."""

from __future__ import annotations

import copy
import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from server.extensions import db
from server.forms.models import Form, FormVersion
from tests.forms.forms_world import fire_choices, fire_settings, fire_survey, fire_xlsform, xlsx
from tests.forms.test_definition import fire_form
from tests.server.backoffice_world import form_token, post_form
from tests.server.conftest import login


@pytest.fixture
def manager(world: Any, client: Any) -> Any:
    login(client, "mgr")
    return client


def fire() -> dict[str, Any]:
    """The fire form with case rules on the test world's catalogue items."""
    data = fire_form()
    data["questions"][2]["opens_case"]["catalogue_item"] = "A05-01"
    data["questions"][4]["opens_case"]["catalogue_item"] = "A01-09"
    return data


def counts() -> tuple[int, int]:
    db.session.expire_all()
    forms = db.session.scalar(select(func.count()).select_from(Form))
    versions = db.session.scalar(select(func.count()).select_from(FormVersion))
    return int(forms or 0), int(versions or 0)


def new_form(client: Any, code: str = "fire_check_2026", title: str = "冬季消防安全检查") -> str:
    answer = post_form(client, "/forms/", {"code": code, "title": title}, token_from="/forms/")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return str(answer.headers["Location"])


def save(client: Any, url: str, data: Any) -> Any:
    token = form_token(client, url)
    return client.post(url + "/definition.json", json=data, headers={"X-CSRFToken": token})


def test_a_manager_makes_a_form_edits_its_draft_and_publishes_it(manager: Any) -> None:
    page = manager.get("/forms/").get_data(as_text=True)
    assert "表单" in page and "新建表单" in page and "导入 XLSForm" in page
    editor = new_form(manager)
    assert re.search(r"/forms/\d+/versions/1$", editor)
    html = manager.get(editor).get_data(as_text=True)
    assert "手机预览" in html and 'id="form-setup"' in html and "草稿" in html

    answer = save(manager, editor, fire())
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["definition"] == fire()
    assert counts() == (1, 1)

    published = post_form(manager, editor + "/publish", {}, token_from=editor)
    assert published.status_code == 302
    form_page = manager.get(published.headers["Location"]).get_data(as_text=True)
    assert "已发布" in form_page and "版本 1" in form_page
    assert "只读" in manager.get(editor).get_data(as_text=True)

    # published: read-only; a change is a 409 and the stored definition stays
    changed = fire()
    changed["questions"][0]["label"]["zh"] = "改了"
    refused = save(manager, editor, changed)
    assert refused.status_code == 409 and refused.get_json()["code"] == "form_version_published"
    assert post_form(manager, editor + "/publish", {}, token_from=editor).status_code == 409
    db.session.expire_all()
    assert db.session.scalar(select(FormVersion.definition)) == fire()

    # a new draft starts from the latest published version
    form_id = editor.split("/")[2]
    started = post_form(manager, f"/forms/{form_id}/draft", {}, token_from=editor)
    assert started.headers["Location"].endswith(f"/forms/{form_id}/versions/2")
    assert counts() == (1, 2)
    second = db.session.scalar(select(FormVersion).where(FormVersion.number == 2))
    assert second is not None and second.definition == fire() and not second.is_published
    again = post_form(manager, f"/forms/{form_id}/draft", {}, token_from=editor)
    assert again.headers["Location"].endswith("/versions/2") and counts() == (1, 2)


@pytest.mark.parametrize(
    ("change", "codes"),
    [
        ("cycle", {("condition_cycle", "has_ext")}),
        ("duplicate_choice", {("duplicate_choice", "hazards")}),
        ("unknown_item", {("opens_case_unknown_item", "ext_valid")}),
        ("bad_condition", {("bad_condition", "count")}),
        ("not_json", None),
        ("deep_json", None),
        ("list", {("not_an_object", None)}),
    ],
)
def test_a_refused_draft_names_each_problem_and_stores_nothing(
    manager: Any, change: str, codes: Any
) -> None:
    editor = new_form(manager)
    assert save(manager, editor, fire()).status_code == 200
    before = copy.deepcopy(fire())
    data: Any = fire()
    if change == "cycle":
        data["questions"][0]["relevant"] = "${count} > 0"
    elif change == "duplicate_choice":
        data["questions"][4]["choices"][1]["value"] = "storage"
    elif change == "unknown_item":
        data["questions"][2]["opens_case"]["catalogue_item"] = "A02-03"  # not in this catalogue
    elif change == "bad_condition":
        data["questions"][3]["relevant"] = "count-selected(${hazards}) > 1"
    elif change == "list":
        data = [fire()]
    if change in ("not_json", "deep_json"):
        token = form_token(manager, editor)
        answer = manager.post(
            editor + "/definition.json",
            data="{not json" if change == "not_json" else "[" * 100_000 + "]" * 100_000,
            content_type="application/json",
            headers={"X-CSRFToken": token},
        )
        assert answer.status_code in (400, 422)
    else:
        answer = save(manager, editor, data)
        assert answer.status_code == 422
        body = answer.get_json()
        found = {(p["code"], p.get("question")) for p in body["details"]["problems"]}
        assert codes <= found
        assert all(p["message_zh"] for p in body["details"]["problems"])
    db.session.expire_all()
    assert db.session.scalar(select(FormVersion.definition)) == before
    assert counts() == (1, 1)


def test_a_new_form_needs_a_good_code_and_title_and_a_free_code(manager: Any) -> None:
    new_form(manager)
    for data, field_text in (
        ({"code": "防火", "title": "x"}, "编码以字母开头"),
        ({"code": "ok_code", "title": ""}, "中文标题"),
        ({"code": "fire_check_2026", "title": "又一个"}, "已有"),
    ):
        answer = post_form(manager, "/forms/", data, token_from="/forms/")
        assert answer.status_code in (409, 422)
        assert field_text in answer.get_data(as_text=True)
    assert counts() == (1, 1)


def test_an_xlsform_comes_in_as_a_new_form_and_goes_out_again(manager: Any) -> None:
    token = form_token(manager, "/forms/")
    answer = manager.post(
        "/forms/import",
        data={
            "csrf_token": token,
            "code": "odk_fire",
            "file": (io.BytesIO(fire_xlsform()), "f.xlsx"),
        },
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html
    assert (
        "已导入为“冬季消防安全检查”的草稿（版本 1）" in html and "start" in html
    )  # metadata fields named as left out
    form = db.session.scalar(select(Form).where(Form.code == "odk_fire"))
    assert form is not None and form.title_zh == "冬季消防安全检查"
    version = form.versions[0]
    exported = manager.get(f"/forms/{form.id}/versions/{version.number}/form.xlsx")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == 'attachment; filename="odk_fire-v1.xlsx"'
    sheets = load_workbook(io.BytesIO(exported.data)).sheetnames
    assert sheets == ["survey", "choices", "settings"]


def test_an_xlsform_with_unsupported_features_is_refused_with_the_report(manager: Any) -> None:
    survey = fire_survey()
    survey.insert(3, ["begin group", "g1", "分组", None, None, None, None, None, None])
    survey.append(["end group", None, None, None, None, None, None, None, None])
    survey.append(["calculate", "total", None, None, None, None, None, None, None])
    data = xlsx({"survey": survey, "choices": fire_choices(), "settings": fire_settings()})
    token = form_token(manager, "/forms/")
    answer = manager.post(
        "/forms/import",
        data={"csrf_token": token, "code": "odk_fire", "file": (io.BytesIO(data), "f.xlsx")},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "没有导入" in html and "begin group" in html and "calculate" in html
    assert 'data-code="unsupported_type"' in html
    assert counts() == (0, 0)
    # leaving out what is unsupported: it comes over, each left-out thing listed
    answer = manager.post(
        "/forms/import",
        data={
            "csrf_token": token,
            "code": "odk_fire",
            "lenient": "1",
            "file": (io.BytesIO(data), "f.xlsx"),
        },
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "未导入" in html and "begin group" in html
    assert counts() == (1, 1)


def test_an_unreadable_or_missing_file_is_a_422_and_stores_nothing(manager: Any) -> None:
    editor = new_form(manager)
    form_id = editor.split("/")[2]
    token = form_token(manager, "/forms/")
    junk = manager.post(
        f"/forms/{form_id}/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"not a zip"), "f.xlsx")},
    )
    assert junk.status_code == 422 and "无法读取此文件" in junk.get_data(as_text=True)
    missing = manager.post("/forms/import", data={"csrf_token": token, "code": "x_form"})
    assert missing.status_code == 422 and "请选择" in missing.get_data(as_text=True)
    assert counts() == (1, 1)


def test_an_import_into_a_form_replaces_its_open_draft(manager: Any) -> None:
    editor = new_form(manager)
    form_id = editor.split("/")[2]
    token = form_token(manager, editor)
    answer = manager.post(
        f"/forms/{form_id}/import",
        data={"csrf_token": token, "file": (io.BytesIO(fire_xlsform()), "f.xlsx")},
    )
    assert answer.status_code == 200
    assert counts() == (1, 1)
    draft = db.session.scalar(select(FormVersion))
    assert draft is not None and draft.definition["questions"][0]["name"] == "has_extinguisher"


def test_unknown_forms_and_versions_are_404_and_others_are_refused(manager: Any, app: Any) -> None:
    assert manager.get("/forms/987654").status_code == 404
    editor = new_form(manager)
    assert manager.get(editor.replace("/versions/1", "/versions/9")).status_code == 404
    assert save(manager, editor.replace("/versions/1", "/versions/9"), fire()).status_code == 404
    for who in ("d1", "w1"):
        other = app.test_client()
        login(other, who)
        assert other.get("/forms/").status_code == 403
        assert other.get(editor).status_code == 403
    admin = app.test_client()
    login(admin, "admin")
    assert admin.get(editor).status_code == 200
    assert "表单" in admin.get("/").get_data(as_text=True)  # the navigation link
