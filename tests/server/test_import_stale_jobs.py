"""A background check or apply whose process died is not left "checking"/"applying" forever."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from sqlalchemy import func, select, update

from server.extensions import db
from server.imports import jobs, operations
from server.imports.models import ImportRun
from server.population.models import Resident
from sync.db import utcnow
from tests.server.conftest import login
from tests.server.grid_files import auth
from tests.server.import_world import csv_bytes, household_rows

HOUR_AGO = utcnow() - dt.timedelta(hours=1)


def uploaded(office) -> ImportRun:
    """A run recorded for a background check whose thread never ran (the process died)."""
    run = operations.create_run(office.context(), "register", csv_bytes(household_rows()))
    db.session.commit()
    return run


def backdate(run_id, **values) -> None:
    db.session.execute(update(ImportRun).where(ImportRun.id == run_id).values(**values))
    db.session.commit()


def test_a_check_whose_process_died_is_refused_with_a_message_and_can_be_retried(
    office, client, make_user
):
    dead, fresh = uploaded(office), uploaded(office)
    backdate(dead.id, created_at=HOUR_AGO)
    make_user("manager", username="guan.li")
    login(client, "guan.li")
    page = client.get(f"/imports/runs/{dead.id}").get_data(as_text=True)
    assert "检查在后台中断了" in page and "请重新上传文件" in page
    db.session.expire_all()
    run = db.session.get(ImportRun, dead.id)
    assert run.state == "refused" and run.report["problems"][0]["rule"] == "job_interrupted"
    assert "Upload the file again" in run.report["problems"][0]["message_en"]
    assert db.session.get(ImportRun, fresh.id).state == "checking"  # still within the limit
    again = office.apply("register", csv_bytes(household_rows()))
    assert again.state == "applied"


def test_an_apply_whose_process_died_is_checked_again_and_applies(
    office, client, make_user, token_for
):
    run = office.check("register", csv_bytes(household_rows()))
    operations.claim(db.session, run.id)
    db.session.commit()
    backdate(run.id, applied_at=HOUR_AGO)
    token = token_for(make_user("manager"))
    body = client.get(f"/api/v1/imports/runs/{run.id}", headers=auth(token)).get_json()
    assert body["state"] == "checked" and body["applied_at"] is None
    assert body["report"]["problems"][0]["rule"] == "apply_interrupted"
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 0
    operations.apply_run(office.context(), run.id)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 4


def test_a_job_still_running_here_or_within_the_limit_is_left_alone(office, app):
    run = uploaded(office)
    assert jobs.fail_stale(app, db.session) == 0
    app.config["IMPORT_JOB_STALE_SECONDS"] = 60
    later = utcnow() + dt.timedelta(minutes=5)
    alive = jobs.threading.Event()
    thread = jobs._start(app, f"import-check-{run.id}", alive.wait)
    assert jobs.fail_stale(app, db.session, now=later) == 0
    alive.set()
    thread.join()
    assert jobs.fail_stale(app, db.session, now=later) == 1
    db.session.commit()
    listed = CliRunner().invoke(app.cli, ["imports", "list"], catch_exceptions=False)
    assert f"{run.id}  register  refused" in listed.output
