"""The pull's campaigns, targets, form versions and answers (issue 18 §3, §4): targets reach
the phones of each cell's workers and leave them when the campaign closes. Both backends."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.forms.models import FormVersion
from sync.db import utcnow
from tests.sync.campaign_world import (
    answer_args,
    close_campaign,
    make_campaign,
    make_form,
    targets_of,
    version_of,
)
from tests.sync.conftest import Phone, visit_args
from tests.sync.test_scope_changes import hand_over


def test_a_workers_pull_brings_the_campaign_its_form_and_only_their_cells_targets(phone, world):
    form = make_form(db.session, versions=2)
    campaign = make_campaign(db.session, world, form)
    make_campaign(db.session, world, form, status="draft")  # drafts stay in the office
    a = phone("wa")
    a.pull()
    assert set(a.table("campaigns")) == {str(campaign.id)}
    row = a.table("campaigns")[str(campaign.id)]
    assert (row["title_zh"], row["status"], row["form_id"]) == (
        "冬季消防专项检查",
        "published",
        form.id,
    )
    targets = a.table("campaign_targets")
    assert {t["cell_code"] for t in targets.values()} == {"G1"}
    assert set(targets) == {str(t.id) for t in targets_of(db.session, campaign, "G1")}
    assert all(t["campaign_id"] == campaign.id for t in targets.values())
    versions = a.table("form_versions")
    latest = version_of(db.session, form, 2)
    assert set(versions) == {str(latest)}  # the latest published version only
    assert versions[str(latest)]["form_code"] == "fire_check"
    assert versions[str(latest)]["number"] == 2
    assert versions[str(latest)]["definition"]["questions"][1]["name"] == "extinguisher_ok"
    b = phone("wb")
    b.pull()
    assert {t["cell_code"] for t in b.table("campaign_targets").values()} == {"G2"}


def test_a_campaign_published_later_arrives_and_leaves_when_it_closes(phone, world):
    a = phone("wa")
    a.pull()
    assert not a.table("campaigns")
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    a.pull()
    assert set(a.table("campaigns")) == {str(campaign.id)}
    assert len(a.table("campaign_targets")) == 3
    assert set(a.table("form_versions")) == {str(version_of(db.session, form, 1))}
    close_campaign(db.session, campaign)
    pages = a.pull()
    assert not a.table("campaign_targets")
    assert not a.table("campaigns")
    deleted = {
        (c["table"], c["op"]) for page in pages for c in page["changes"] if c["op"] == "delete"
    }
    assert deleted == {("campaign_targets", "delete"), ("campaigns", "delete")}
    fresh = phone("wa")
    fresh.pull()
    assert not fresh.table("campaigns") and not fresh.table("campaign_targets")


def test_a_campaign_of_other_cells_only_is_not_sent(phone, world):
    form = make_form(db.session)
    make_campaign(db.session, world, form, cells=("G2",))
    a = phone("wa")
    a.pull()
    assert not a.table("campaigns") and not a.table("campaign_targets")
    assert not a.table("form_versions")


def test_the_workers_own_answers_reach_their_other_phone(phone, world):
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form)
    version = version_of(db.session, form, 1)
    mine = answer_args(campaign, targets_of(db.session, campaign, "G1")[0], version)
    colleague = answer_args(campaign, targets_of(db.session, campaign, "G1")[1], version)
    a, c = phone("wa"), phone("wc")
    a.add("form.answer", mine)
    c.add("form.answer", colleague)
    a.push()
    c.push()
    second = phone("wa")
    second.pull()
    answers = second.table("form_answers")
    assert set(answers) == {mine["id"]}
    row = answers[mine["id"]]
    assert row["target_id"] == mine["target_id"] and row["values"]["extinguisher_ok"] == "yes"
    assert row["form_version_id"] == version and row["late"] is False
    # Paging one change at a time gives the same replica (keyset order over every table).
    paged = phone("wa")
    paged.pull(limit=1)
    assert paged.replica == second.replica
    close_campaign(db.session, campaign)
    third = phone("wa")
    third.pull()
    assert not third.table("form_answers")  # answers of current campaigns only


def test_the_workers_own_visit_answers_come_with_their_visits(phone, world):
    """A visit's answers are pulled like the visits table: the worker's own, never a
    colleague's of the same cell (nor another cell's)."""
    version = version_of(db.session, make_form(db.session, "elder_visit"), 1)

    def visit_with_answer(p: Phone, home: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        visit = visit_args(home)
        answer = {
            "id": str(uuid.uuid4()),
            "form_version_id": version,
            "visit_id": visit["id"],
            "household_id": str(home),
            "values": {"extinguisher_ok": "yes"},
            "answered_at": utcnow().isoformat(),
        }
        p.add("visit.create", visit)
        p.add("form.answer", answer)
        assert [r["status"] for r in p.push()["results"]] == ["applied", "applied"]
        return visit, answer

    a, c, b = phone("wa"), phone("wc"), phone("wb")
    visit, mine = visit_with_answer(a, world.households["G1"][0])
    visit_with_answer(c, world.households["G1"][1])
    visit_with_answer(b, world.households["G2"][0])
    second = phone("wa")
    second.pull()
    answers = second.table("form_answers")
    assert set(answers) == {mine["id"]}
    row = answers[mine["id"]]
    assert (row["visit_id"], row["household_id"], row["campaign_id"]) == (
        visit["id"],
        visit["household_id"],
        None,
    )
    assert row["values"] == {"extinguisher_ok": "yes"} and row["form_version_id"] == version
    assert visit["id"] in second.table("visits")
    paged = phone("wa")
    paged.pull(limit=1)
    assert paged.replica == second.replica


def test_form_versions_pulled_are_published_and_never_drafts(phone, world):
    form = make_form(db.session)
    from server.forms.store import save_draft
    from tests.sync.campaign_world import fire_definition

    save_draft(db.session, form, fire_definition(extra=True))
    db.session.commit()
    make_campaign(db.session, world, form)
    a = phone("wa")
    a.pull()
    ids = {int(i) for i in a.table("form_versions")}
    published = set(
        db.session.scalars(select(FormVersion.id).where(FormVersion.published_at.is_not(None)))
    )
    assert ids and ids <= published


def _converged(phone: Phone, tables: tuple[str, ...]) -> None:
    fresh = Phone(phone.client, phone.user)
    fresh.pull()
    for table in tables:
        mine = {k: {**v, "version": 0} for k, v in phone.table(table).items()}
        theirs = {k: {**v, "version": 0} for k, v in fresh.table(table).items()}
        assert mine == theirs, table


def test_a_cell_handed_over_moves_its_targets_between_phones(phone, world):
    form = make_form(db.session)
    campaign = make_campaign(db.session, world, form, cells=("G1",))
    a, b = phone("wa"), phone("wb")
    a.pull(), b.pull()
    assert len(a.table("campaign_targets")) == 3 and not b.table("campaign_targets")
    hand_over(world, "G1", "wa", "wb")
    pages = [*a.pull(), *b.pull()]
    assert not any(p.get("reset") for p in pages)  # a transition, not a rebuild
    moved = {(c["table"], c["op"]) for p in pages for c in p["changes"]}
    assert {("campaign_targets", "delete"), ("campaign_targets", "upsert")} <= moved
    assert not a.table("campaign_targets") and not a.table("campaigns")
    assert set(b.table("campaign_targets")) == {
        str(t.id) for t in targets_of(db.session, campaign, "G1")
    }
    assert set(b.table("campaigns")) == {str(campaign.id)}
    assert set(b.table("form_versions")) == {str(version_of(db.session, form, 1))}
    # Form versions are immutable and never deleted: the phone that lost the cell keeps one.
    _converged(a, ("campaigns", "campaign_targets"))
    _converged(b, ("campaigns", "campaign_targets", "form_versions"))
    close_campaign(db.session, campaign)  # the exits name G1: they reach its new worker
    b.pull()
    assert not b.table("campaign_targets") and not b.table("campaigns")


def _office_draft(world: Any, form: Any, code: str, ends_on: Any) -> Any:
    """A draft over the households of B1 saved by the office (server/campaigns/operations.py),
    starting today."""
    import datetime as dt

    from server.campaigns import operations as campaigns
    from server.cases.grid_access import cell_tree

    fields = campaigns.CampaignFields(
        code=code,
        title_zh="入户检查",
        form_id=form.id,
        target_kind="household",
        responsible=["B1"],
        starts_on=dt.date.today(),
        ends_on=ends_on,
    )
    draft = campaigns.save_draft(
        db.session, fields, cell_tree(db.session), actor_id=world.users["office"].id
    )
    db.session.commit()
    return draft


def test_the_office_publish_and_close_reach_the_phones(phone, world):
    """The real publish and close (server/campaigns/operations.py) keep the contract the
    pull and form.answer rely on: targets arrive, answers are kept, then late, then refused."""
    import datetime as dt

    from server.campaigns import operations as campaigns
    from server.cases.grid_access import cell_tree
    from server.forms.models import FormAnswer
    from sync.db import utcnow

    form = make_form(db.session)
    today = dt.date.today()
    campaign = _office_draft(world, form, "fire_2026", today + dt.timedelta(days=30))
    assert campaigns.publish(db.session, campaign, cell_tree(db.session), today=today) == 6
    db.session.commit()
    a = phone("wa")
    a.pull()
    targets = a.table("campaign_targets")
    assert len(targets) == 3 and {t["cell_code"] for t in targets.values()} == {"G1"}
    target_id = sorted(targets)[0]
    version = version_of(db.session, form, 1)

    def answer(at: dt.datetime) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "form_version_id": version,
            "campaign_id": campaign.id,
            "target_id": target_id,
            "values": {"extinguisher_ok": "yes"},
            "answered_at": at.isoformat(),
        }

    on_time, before_close, after_close = (answer(utcnow()) for _ in range(3))
    a.add("form.answer", on_time)
    assert a.push()["results"][0]["status"] == "applied"
    before_close["answered_at"] = (utcnow() - dt.timedelta(minutes=5)).isoformat()
    campaigns.close(db.session, campaign)
    db.session.commit()
    after_close["answered_at"] = (utcnow() + dt.timedelta(hours=1)).isoformat()
    a.add("form.answer", before_close)
    a.add("form.answer", after_close)
    body = a.push()
    assert [r["status"] for r in body["results"]] == ["applied", "rejected"]
    assert body["results"][0]["result"]["late"] is True
    assert body["results"][1]["reason"]["code"] == "CAMPAIGN_CLOSED"
    assert (
        db.session.scalar(select(FormAnswer.late).where(FormAnswer.id == uuid.UUID(on_time["id"])))
        is False
    )
    a.pull()
    assert not a.table("campaign_targets") and not a.table("campaigns")


def test_an_end_date_moved_by_the_office_reaches_the_phones(phone, world):
    """change_end gives the campaign a new version: a phone that pulled it gets the new date
    at its next pull (and keeps its targets)."""
    import datetime as dt

    from server.campaigns import operations as campaigns
    from server.cases.grid_access import cell_tree

    form = make_form(db.session)
    today = dt.date.today()
    first_end = today + dt.timedelta(days=7)
    campaign = _office_draft(world, form, "heat_2026", first_end)
    campaigns.publish(db.session, campaign, cell_tree(db.session), today=today)
    db.session.commit()
    a = phone("wa")
    a.pull()
    (held,) = a.table("campaigns").values()
    assert held["ends_on"] == first_end.isoformat()
    later = today + dt.timedelta(days=21)
    assert campaigns.change_end(db.session, campaign, later, today=today) == first_end
    db.session.commit()
    a.pull()
    (held,) = a.table("campaigns").values()
    assert held["ends_on"] == later.isoformat() and len(a.table("campaign_targets")) == 3


def test_a_form_version_published_during_a_campaign_reaches_the_phones(phone, world):
    """The office publishes version 2 of a running campaign's form (and of a care tag's visit
    form): phones that pulled version 1 get version 2 at their next pull."""
    from server.forms import operations as form_ops
    from server.forms.store import save_draft
    from server.population.models import CareTag
    from tests.sync.campaign_world import fire_definition

    form = make_form(db.session)
    make_campaign(db.session, world, form)
    db.session.add(
        CareTag(code="alone", name_zh="独居老人", name_en="Living alone", visit_every_days=7)
    )
    db.session.commit()
    a = phone("wa")
    a.pull()
    assert set(a.table("form_versions")) == {str(version_of(db.session, form, 1))}
    draft = save_draft(db.session, form, fire_definition(extra=True))
    form_ops.publish(db.session, draft)
    db.session.commit()
    a.pull()
    second = str(version_of(db.session, form, 2))
    assert second in a.table("form_versions")
    assert a.table("form_versions")[second]["number"] == 2


def test_a_care_tags_visit_form_published_again_reaches_the_phones(phone, world):
    from server.forms import care_tags
    from server.forms import operations as form_ops
    from server.forms.store import save_draft
    from server.population.models import CareTag
    from tests.sync.campaign_world import fire_definition

    form = make_form(db.session)
    db.session.add(
        CareTag(
            code="alone",
            name_zh="独居老人",
            name_en="Living alone",
            visit_every_days=7,
            visit_form_id=form.id,
        )
    )
    care_tags.stamp(db.session)
    db.session.commit()
    a = phone("wa")
    a.pull()
    assert set(a.table("form_versions")) == {str(version_of(db.session, form, 1))}
    form_ops.publish(db.session, save_draft(db.session, form, fire_definition(extra=True)))
    db.session.commit()
    a.pull()
    assert str(version_of(db.session, form, 2)) in a.table("form_versions")
