"""`flask register|addresses|staff|units import` and `flask imports …`: the page's pipeline."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from sqlalchemy import func, select

from server.extensions import db
from server.imports.models import ImportFile, ImportRun
from server.population.models import Resident
from tests.server.import_world import csv_bytes, household_rows


def invoke(app, *args):
    return CliRunner().invoke(app.cli, list(args), catch_exceptions=False)


def test_a_dry_run_prints_the_report_and_exits_1_on_errors(office, app, tmp_path):
    rows = household_rows()
    rows[1][3] = "明年"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(rows))
    result = invoke(app, "register", "import", str(bad), "--apply")
    assert result.exit_code == 1 and "row 2 [出生日期] date_unreadable" in result.output
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 0


def test_import_apply_and_list_and_apply_later(office, app, tmp_path):
    good = tmp_path / "登记.csv"
    good.write_bytes(csv_bytes(household_rows()))
    first = invoke(app, "register", "import", str(good))
    assert first.exit_code == 0 and "(register, checked;" in first.output
    run_id = first.output.split()[1]
    listed = invoke(app, "imports", "list")
    assert run_id in listed.output and "checked" in listed.output
    applied = invoke(app, "imports", "apply", run_id)
    assert "applied" in applied.output
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 4


def test_a_column_can_be_mapped_on_the_command_line(office, app, tmp_path):
    rows = household_rows()
    rows[0][1] = "居民名"
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes(rows))
    assert invoke(app, "register", "import", str(path)).exit_code == 1
    result = invoke(app, "register", "import", str(path), "--map", "name=居民名", "--apply")
    assert result.exit_code == 0 and "applied" in result.output


def test_templates_and_the_category_table(office, app, tmp_path):
    assert "wrote" in invoke(app, "imports", "template", "staff", str(tmp_path / "s.csv")).output
    assert (tmp_path / "s.csv").read_bytes().decode("utf-8-sig").startswith("用户名,姓名,角色")
    result = invoke(app, "register", "categories", "重点关注老人", "living_alone")
    assert "重点关注老人\tliving_alone" in result.output


def test_pruning_withdraws_old_runs_and_drops_their_files(office, app, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes(household_rows()))
    invoke(app, "register", "import", str(path))
    old = db.session.scalar(select(ImportRun).where(ImportRun.kind == "register"))
    old.created_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    db.session.commit()
    assert "1 import runs withdrawn" in invoke(app, "imports", "prune", "--days", "14").output
    db.session.expire_all()
    assert db.session.get(ImportRun, old.id).state == "superseded"
    assert db.session.get(ImportFile, old.id) is None
