"""The audit page reads in words: actions, subjects by name or number, fields by label."""

from __future__ import annotations

import re
import uuid
from html import unescape

from server.audit import operations as audit
from server.cases.models import Case
from server.enums import CaseStatus, Channel
from server.extensions import db
from server.population.models import Household, Resident
from tests.server.conftest import login


def _seed(admin_id: int, worker_id: int) -> dict[str, str]:
    case = Case(number="XH-2026-000123", channel=Channel.HOTLINE, status=CaseStatus.REPORTED)
    household = Household(
        address="新华路329弄12号301室", road="新华路", building="12", cell_code="G1"
    )
    db.session.add_all([case, household])
    db.session.flush()
    resident = Resident(household_id=household.id, name="王秀英", gender="F")
    db.session.add(resident)
    db.session.flush()
    gone = uuid.uuid4()
    context = audit.AccessContext(admin_id, ip="10.0.0.7", request_id="req-1")
    for action, kind, subject, fields in (
        ("read", "case_caller", case.id, ["caller_name", "caller_phone"]),
        ("update", "resident", resident.id, ["phone", "id_number"]),
        ("read", "household", household.id, ["residents", "visits"]),
        ("update", "user", worker_id, ["role", "unit_id"]),
        ("read", "resident", gone, ["name"]),
        ("read", "visit_log", "page", ["situation", "needs"]),
    ):
        audit.record(db.session, context, action=action, subject_type=kind,
                     subject_id=subject, fields=fields)  # fmt: skip
    db.session.commit()
    return {"case": str(case.id), "resident": str(resident.id), "gone": str(gone)}


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))  # attributes (hover titles) are not read


def test_the_audit_page_names_actions_subjects_and_fields_in_chinese(client, make_user):
    admin = make_user("admin", username="root")
    worker = make_user("worker", username="w1", display_name="周杰")
    ids = _seed(admin.id, worker.id)
    login(client, "root")
    html = client.get("/audit/").get_data(as_text=True)
    text = _visible_text(html)
    for words in ("查看", "案件来电人", "XH-2026-000123", "来电人、来电人电话", "已修改", "居民",
                  "王**", "电话、公民身份号码", "新华路329弄12号301室", "工作人员", "周杰",
                  "已删除", "走访记录"):  # fmt: skip
        assert words in text, words
    for raw in (*ids.values(), "case_caller", "caller_phone", "read", "id_number", "王秀英"):
        assert raw not in text, raw
    assert "修改时间" not in text  # "update" is an action, not the column "Changed (time)"
    assert ids["gone"] in html  # kept for support, in the hover title only


def test_english_on_request(client, make_user):
    admin = make_user("admin", username="root")
    worker = make_user("worker", username="w1", display_name="Zhou Jie")
    _seed(admin.id, worker.id)
    login(client, "root")
    text = _visible_text(client.get("/audit/?lang=en").get_data(as_text=True))
    assert "Caller of a case" in text and "Caller, Caller's phone" in text
