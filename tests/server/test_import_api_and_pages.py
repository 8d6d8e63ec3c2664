"""The import API and pages: one path with the CLI, gated by role, 4xx for hostile input."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from server.extensions import db
from server.population.models import Resident
from tests.server.conftest import login
from tests.server.grid_files import auth
from tests.server.import_world import csv_bytes, household_rows


def post_file(client, token, kind, data, **form):
    fields = {**{k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()}}
    fields["file"] = (io.BytesIO(data), "register.csv")
    return client.post(
        f"/api/v1/imports/{kind}",
        data=fields,
        headers=auth(token),
        content_type="multipart/form-data",
    )


def test_the_api_checks_then_applies_a_register_file(office, client, make_user, token_for):
    token = token_for(make_user("manager"))
    checked = post_file(client, token, "register", csv_bytes(household_rows()))
    assert checked.status_code == 201, checked.get_json()
    body = checked.get_json()
    assert body["state"] == "checked" and body["counts"]["residents_new"] == 4
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 0
    applied = client.post(f"/api/v1/imports/runs/{body['id']}/apply", headers=auth(token))
    assert applied.status_code == 200 and applied.get_json()["state"] == "applied"
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 4
    again = client.post(f"/api/v1/imports/runs/{body['id']}/apply", headers=auth(token))
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("role", "kind", "status"),
    [
        ("worker", "register", 403),
        ("dispatcher", "register", 403),
        ("gis", "register", 403),
        ("manager", "staff", 403),
        ("gis", "addresses", 201),
        ("admin", "units", 201),
    ],
)
def test_each_kind_is_imported_only_by_the_roles_that_may(
    office, client, make_user, token_for, role, kind, status
):
    from tests.server.import_world import DOORS

    token = token_for(make_user(role))
    data = csv_bytes(
        DOORS
        if kind == "addresses"
        else [["单位编码", "单位名称", "单位类别"], ["U1", "区房管局", "职能部门"]]
    )
    assert post_file(client, token, kind, data).status_code == status


@pytest.mark.parametrize(
    "form",
    [
        {"mapping": "{not json"},
        {"mapping": json.dumps(["a"])},
        {"mapping": json.dumps({"a": 1})},
        {"full": "perhaps"},
        {"sheet": "x" * 500},
    ],
)
def test_hostile_form_fields_are_refused_with_422(office, client, make_user, token_for, form):
    token = token_for(make_user("manager"))
    response = post_file(client, token, "register", csv_bytes(household_rows()), **form)
    assert response.status_code == 422, response.get_json()


def test_unknown_kinds_and_runs_are_4xx_never_5xx(office, client, make_user, token_for):
    token = token_for(make_user("admin"))
    assert post_file(client, token, "passports", b"a,b\r\n").status_code == 422
    assert (
        client.get(f"/api/v1/imports/runs/{uuid.uuid4()}", headers=auth(token)).status_code == 404
    )
    missing = client.post(f"/api/v1/imports/runs/{uuid.uuid4()}/apply", headers=auth(token))
    assert missing.status_code == 404
    no_file = client.post(
        "/api/v1/imports/register", headers=auth(token), data={}, content_type="multipart/form-data"
    )
    assert no_file.status_code == 422


def test_the_page_uploads_shows_the_report_in_chinese_and_applies(office, client, make_user):
    make_user("manager", username="guan.li")
    login(client, "guan.li")
    rows = household_rows()
    rows[1][5] = "12345"
    page = client.get("/imports/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/imports/register/upload",
        data={
            "csrf_token": token,
            "file": (io.BytesIO(csv_bytes(rows)), "登记表.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    report = client.get(response.headers["Location"]).get_data(as_text=True)
    shown = report[report.find("概况") :]
    assert "第 2 行“联系电话”" in report and "不是电话号码" in report, shown[:4000]
    applied = client.post(response.headers["Location"] + "/apply", data={"csrf_token": token})
    assert applied.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 4


def test_templates_have_the_chinese_headers_the_importer_recognises(office, client, make_user):
    make_user("admin", username="root.admin")
    login(client, "root.admin")
    response = client.get("/imports/template/register.xlsx")
    headers = [c.value for c in load_workbook(io.BytesIO(response.data)).active[1]]
    assert headers[:5] == ["户号", "姓名", "性别", "出生日期", "公民身份号码"]
    assert client.get("/imports/template/passports.xlsx").status_code == 404
    assert client.get("/imports/template/register.exe").status_code == 404


def test_a_worker_cannot_open_the_import_pages(office, client, make_user):
    make_user("worker", username="wang.gong")
    login(client, "wang.gong")
    assert client.get("/imports/").status_code == 403


def test_a_large_file_is_checked_and_applied_in_the_background(office, app, client, make_user):
    from server.imports import jobs

    app.config["IMPORT_INLINE_MAX_BYTES"] = 0  # every file counts as large
    make_user("manager", username="guan.li")
    login(client, "guan.li")
    page = client.get("/imports/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/imports/register/upload",
        data={
            "csrf_token": token,
            "file": (io.BytesIO(csv_bytes(household_rows())), "big.csv"),
        },
        content_type="multipart/form-data",
    )
    run_url = response.headers["Location"]
    jobs.wait_for_imports(app)
    assert "已检查，尚未应用" in client.get(run_url).get_data(as_text=True)
    client.post(run_url + "/apply", data={"csrf_token": token})
    jobs.wait_for_imports(app)
    assert "已应用" in client.get(run_url).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 4
    again = client.post(run_url + "/apply", data={"csrf_token": token})
    assert (
        again.status_code == 302
        and db.session.scalar(select(func.count()).select_from(Resident)) == 4
    )


def test_of_two_applies_of_one_run_only_one_goes_on(office):
    from server.exceptions import Conflict
    from server.imports import operations as ops

    run = office.check("register", csv_bytes(household_rows()))
    ops.claim(db.session, run.id)
    with pytest.raises(Conflict):
        ops.claim(db.session, run.id)
