"""Residents' rating links: one live code per case, and a code used ten times at once rates once.

Issue 12 §6: every request for a rating link minted another live code, and ten concurrent
uses of one code raised an unhandled unique-constraint error (500).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from sqlalchemy import func, select

from server.cases.models import Case
from server.cases.workflow import Actor
from server.enums import CaseStatus, Channel
from server.evaluation import operations as evaluation
from server.evaluation.models import CaseRating, RatingRequest
from server.extensions import db
from server.residents.operations import rating_code
from tests.live import LiveServer
from tests.server.backoffice_world import T0, post_form
from tests.server.conftest import login

USES = 10
WEEK = dt.timedelta(days=7)


def closed_case(number: str = "XH-R-1") -> Case:
    case = Case(
        id=uuid.uuid4(),
        number=number,
        channel=Channel.HOTLINE,
        status=CaseStatus.CLOSED,
        title="路灯不亮",
        description="弄口路灯",
        address="新华路329弄",
        version=1,
        field_versions={},
    )
    db.session.add(case)
    db.session.commit()
    return case


def live_codes(case: Case, at: dt.datetime) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(RatingRequest)
            .where(
                RatingRequest.case_id == case.id,
                RatingRequest.used_at.is_(None),
                RatingRequest.expires_at > at,
            )
        )
    )


def test_asking_again_for_a_rating_link_ends_the_earlier_one(app: Any, world: Any) -> None:
    case = closed_case()
    desk = app.test_client()
    login(desk, "d1")
    codes = []
    for _ in range(3):
        answer = post_form(desk, f"/cases/{case.id}/rating", {"mode": "link"}, token_from="/cases/")
        assert answer.status_code == 303
        link = parse_qs(urlparse(answer.headers["Location"]).query)["rating_link"][0]
        codes.append(link.rsplit("/", 1)[-1])
    assert len(set(codes)) == 3
    resident = app.test_client()
    for old in codes[:2]:
        page = resident.get(f"/rate/{old}")
        assert page.status_code == 404 and "此评价链接已失效" in page.get_data(as_text=True)
    assert resident.get(f"/rate/{codes[2]}").status_code == 200
    assert live_codes(case, T0) == 1


def test_a_resident_pressing_rate_twice_has_one_working_link(app: Any) -> None:
    case = closed_case()
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    first = rating_code(db.session, case, at=earlier, valid=WEEK)
    second = rating_code(db.session, case, at=earlier + dt.timedelta(seconds=1), valid=WEEK)
    db.session.commit()
    assert live_codes(case, earlier + dt.timedelta(seconds=2)) == 1
    client = app.test_client()
    assert client.get(f"/rate/{first}").status_code == 404
    assert client.get(f"/rate/{second}").status_code == 200


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def test_ten_uses_of_one_code_at_once_give_one_rating_and_clear_refusals(
    app: Any, database_url: str, tmp_path: Path
) -> None:
    """Real concurrency: a real server with several workers, ten threads, one code."""
    case = closed_case()
    code = evaluation.issue_rating_link(
        db.session, case, Actor.resident(), at=dt.datetime.now(dt.UTC), valid=WEEK
    )
    db.session.commit()
    server = LiveServer(database_url, tmp_path / "live", workers=4)
    server.start()
    try:
        url = f"{server.url}/rate/{code}"
        sessions = [requests.Session() for _ in range(USES)]
        forms = [_csrf(s.get(url, timeout=30).text) for s in sessions]  # each opened the page
        start = threading.Barrier(USES)

        def rate(i: int) -> tuple[int, str]:
            start.wait(timeout=30)
            answer = sessions[i].post(
                url, data={"score": "5", "comment": f"第{i}次", "csrf_token": forms[i]}, timeout=60
            )
            return answer.status_code, answer.text

        with ThreadPoolExecutor(max_workers=USES) as pool:
            answers = list(pool.map(rate, range(USES)))
    finally:
        server.stop()
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) - {200} == {409}, statuses
    for status, text in answers:
        if status != 200:  # a page that says why, in Chinese, not an error page
            assert "此链接已使用过,案件已评价。" in text
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(CaseRating)) == 1
    rated = db.session.get(Case, case.id)
    assert rated is not None and rated.status == CaseStatus.EVALUATED
    assert db.session.scalar(select(RatingRequest.used_at)) is not None
