"""A care tag's visit form (issue 18 §2): a manager picks it on a page or by the API; the
phones learn it at their next pull, with the form's latest published version. Both backends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.accounts import operations as accounts
from server.audit.models import AuditEntry
from server.extensions import db
from server.population.models import CareTag
from tests.server.conftest import csrf_token
from tests.sync.campaign_world import make_form, publish_next_version, version_of
from tests.sync.conftest import PASSWORD, Phone


def tags(session: Any) -> None:
    session.add_all(
        [
            CareTag(code="alone", name_zh="独居老人", name_en="Living alone", visit_every_days=7),
            CareTag(code="old", name_zh="高龄", name_en="Very old", visit_every_days=30),
        ]
    )
    session.commit()


def manager(client: Any) -> Any:
    accounts.create_user(db.session, username="boss", password=PASSWORD, role="manager")
    db.session.commit()
    client.post(
        "/login",
        data={"username": "boss", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    return client


def test_a_manager_picks_a_visit_form_and_the_phones_learn_it(client, phone, world):
    tags(db.session)
    form = make_form(db.session, "elder_visit", versions=2)
    a = phone("wa")
    a.pull()
    assert a.table("care_tags") == {} and a.table("form_versions") == {}
    office = manager(client)
    oversight = office.get("/visits/").get_data(as_text=True)
    assert 'href="/admin/care-tags/"' in oversight  # reached from the visits oversight page
    page = office.get("/admin/care-tags/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "关爱标签的走访表单" in html and "独居老人" in html and "冬季消防检查" in html
    saved = office.post(
        "/admin/care-tags/",
        data={
            "code": "alone",
            "visit_form_id": str(form.id),
            "csrf_token": csrf_token(office, "/admin/care-tags/"),
        },
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(CareTag, "alone").visit_form_id == form.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.subject_type == "care_tag"))
    assert entry is not None and entry.fields == ["visit_form_id"]
    a.pull()
    pulled = a.table("care_tags")
    assert pulled["alone"]["visit_form_id"] == form.id
    assert pulled["old"]["visit_form_id"] is None
    latest = str(version_of(db.session, form, 2))
    assert set(a.table("form_versions")) == {latest}
    fresh = phone("wa")
    first = fresh.pull()[0]
    by_code = {t["code"]: t for t in first["reference"]["care_tags"]}
    assert by_code["alone"]["visit_form_id"] == form.id
    assert set(fresh.table("form_versions")) == {latest}


def test_the_page_refuses_a_form_without_a_published_version(client, world):
    tags(db.session)
    office = manager(client)
    token = csrf_token(office, "/admin/care-tags/")
    for wanted in ("999999", "abc", "1" * 40):
        refused = office.post(
            "/admin/care-tags/",
            data={"code": "alone", "visit_form_id": wanted, "csrf_token": token},
        )
        assert refused.status_code == 422
        assert "请" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CareTag, "alone").visit_form_id is None


def test_the_api_sets_and_clears_a_visit_form_for_managers_only(client, phone, world):
    tags(db.session)
    form = make_form(db.session, "elder_visit")
    boss = accounts.create_user(db.session, username="boss", password=PASSWORD, role="manager")
    db.session.commit()
    headers = Phone(client, boss).headers
    worker = phone("wa").headers
    url = "/api/v1/care-tags/alone"
    assert client.patch(url, json={"visit_form_id": form.id}, headers=worker).status_code == 403
    done = client.patch(url, json={"visit_form_id": form.id}, headers=headers)
    assert done.status_code == 200
    assert done.get_json() == {"code": "alone", "name_zh": "独居老人", "visit_form_id": form.id}
    assert (
        client.patch(
            "/api/v1/care-tags/nobody", json={"visit_form_id": None}, headers=headers
        ).status_code
        == 404
    )
    assert client.patch(url, json={"visit_form_id": 999999}, headers=headers).status_code == 422
    assert client.patch(url, json={"visit_form_id": "1"}, headers=headers).status_code == 422
    a = phone("wa")
    a.pull()
    publish_next_version(db.session, form)
    cleared = client.patch(url, json={"visit_form_id": None}, headers=headers)
    assert cleared.get_json()["visit_form_id"] is None
    a.pull()
    assert a.table("care_tags")["alone"]["visit_form_id"] is None
