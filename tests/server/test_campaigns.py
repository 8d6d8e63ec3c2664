"""A campaign's life in the office: selection, publishing, closing (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from server.campaigns import operations as ops
from server.campaigns.errors import CampaignInvalid, CampaignListUnmatched, CampaignStateConflict
from server.campaigns.listfile import read_list
from server.campaigns.models import Campaign, CampaignCell, CampaignTarget
from server.campaigns.operations import CampaignFields
from server.exceptions import Conflict
from server.extensions import db
from sync.models import ScopeExit
from sync.versions import current_version
from tests.server.campaign_world import CampaignWorld, xlsx_list

TODAY = dt.date(2026, 11, 26)


def _targets(campaign: Campaign) -> list[CampaignTarget]:
    stmt = select(CampaignTarget).where(CampaignTarget.campaign_id == campaign.id)
    return sorted(db.session.scalars(stmt), key=lambda t: (t.cell_code, t.label))


def _preview(cw: CampaignWorld, campaign: Campaign) -> dict[str, int]:
    return ops.preview(db.session, campaign, cw.cells()).per_cell()


# --- selection ---------------------------------------------------------------------------


def test_a_residential_area_means_every_building_group_under_it(campaign_world) -> None:
    cw = campaign_world
    campaign = cw.draft(responsible=["S-A1"])
    assert _preview(cw, campaign) == {"G1": 3, "G2": 1}
    stored = set(db.session.scalars(select(CampaignCell.cell_code)))
    assert stored == {"S-A1", "S-A1-B1", "G1", "G2"}  # a worker on duty below gets it
    narrowed = cw.draft(code="only_g2", responsible=["S"], cells=["G2"])
    assert _preview(cw, narrowed) == {"G2": 1}


def test_care_tags_choose_residents_or_the_homes_that_hold_them(campaign_world) -> None:
    cw = campaign_world
    residents = cw.draft(code="r", target_kind="resident", care_tags=["alone"])
    labels = [t.label for t in ops.preview(db.session, residents, cw.cells()).targets]
    # 孙七 moved out: only active residents count, and their homes only through them.
    assert labels == ["张三 新华路329弄12号101室", "周八 番禺路5号301室"]
    homes = cw.draft(code="h", target_kind="household", care_tags=["alone", "old"])
    assert _preview(cw, homes) == {"G1": 1, "G2": 1, "G3": 1}
    buildings = cw.draft(code="b", target_kind="building", care_tags=["old"], cells=["S-A1"])
    targets = ops.preview(db.session, buildings, cw.cells()).targets
    assert [(t.cell_code, t.label) for t in targets] == [("G2", "新华路329弄12号")]


def test_a_building_spanning_two_cells_is_one_target_per_cell(campaign_world) -> None:
    cw = campaign_world
    campaign = cw.draft(target_kind="building")
    targets = ops.preview(db.session, campaign, cw.cells()).targets
    assert [(t.cell_code, t.label) for t in targets] == [
        ("G1", "新华路329弄12号"),
        ("G1", "新华路329弄14号"),
        ("G2", "新华路329弄12号"),
        ("G3", "番禺路5号"),
    ]
    assert all(t.household_id is None and t.road for t in targets)


def test_an_uploaded_list_matches_keys_addresses_and_buildings(campaign_world) -> None:
    cw = campaign_world
    data = xlsx_list(
        [
            ["名单"],  # a title row above the header
            ["户号", "地址"],
            ["1", None],
            [None, "上海市新华路３２９弄12号102室"],  # another spelling of a household
            [None, "番禺路5号"],  # a building: its households
        ]
    )
    found = read_list(db.session, data, "名单.xlsx")
    assert found.lines == 3
    assert found.households == {cw.homes[k].id for k in ("no:1", "no:2", "no:5")}
    campaign = cw.draft(upload=found)
    assert _preview(cw, campaign) == {"G1": 2, "G3": 1}
    assert campaign.selection["list"] == "名单.xlsx"
    residents = cw.draft(code="r", target_kind="resident", upload=found, care_tags=["alone"])
    assert [t.label for t in ops.preview(db.session, residents, cw.cells()).targets] == [
        "张三 新华路329弄12号101室",
        "周八 番禺路5号301室",
    ]


def test_a_csv_list_of_resident_keys_chooses_those_residents(campaign_world) -> None:
    cw = campaign_world
    data = "登记键\nhh:no:2/王五/\nno:3\n".encode("gb18030")
    found = read_list(db.session, data, "keys.csv")
    campaign = cw.draft(target_kind="resident", upload=found)
    labels = [t.label for t in ops.preview(db.session, campaign, cw.cells()).targets]
    assert labels == ["王五 新华路329弄12号102室", "赵六 新华路329弄12号201室"]


def test_unmatched_lines_refuse_the_whole_list_and_name_their_rows(campaign_world) -> None:
    data = "户号,地址\n1,\n99,\n,火星路1号1室\n".encode()
    with pytest.raises(CampaignListUnmatched) as caught:
        read_list(db.session, data, "bad.csv")
    assert caught.value.unmatched == [
        {"row": 3, "value": "99"},
        {"row": 4, "value": "火星路1号1室"},
    ]
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "campaign_list_unreadable"),
        (b"\xd0\xcf\x11\xe0legacy", "campaign_list_unreadable"),
        ("名字,电话\n张三,1\n".encode(), "campaign_list_unreadable"),
        ("户号\n\n".encode(), "campaign_list_empty"),
    ],
)
def test_a_list_that_cannot_be_read_says_why(campaign_world, data, code) -> None:
    with pytest.raises(CampaignInvalid) as caught:
        read_list(db.session, data, "x.csv")
    assert caught.value.code == code and caught.value.field == "list"


# --- publish and close -------------------------------------------------------------------


def test_publishing_stamps_one_version_on_the_campaign_and_every_target(campaign_world) -> None:
    cw = campaign_world
    campaign = cw.draft(target_kind="resident")
    before = current_version(db.session)
    count = ops.publish(db.session, campaign, cw.cells(), today=TODAY)
    db.session.commit()
    targets = _targets(campaign)
    assert count == len(targets) == 5  # 孙七 moved out
    assert campaign.status == "published" and campaign.published_at is not None
    assert campaign.version == before + 1 == current_version(db.session)
    assert {t.version for t in targets} == {campaign.version}
    assert {t.kind for t in targets} == {"resident"}
    assert all(t.resident_id and t.household_id for t in targets)
    with pytest.raises(CampaignStateConflict):
        ops.publish(db.session, campaign, cw.cells(), today=TODAY)
    with pytest.raises(CampaignStateConflict):
        ops.save_draft(
            db.session,
            CampaignFields(code="x", title_zh="x", form_id=cw.form.id, responsible=["S"]),
            cw.cells(),
            actor_id=None,
            campaign=campaign,
        )


def test_closing_writes_one_scope_exit_per_target_at_a_fresh_version(campaign_world) -> None:
    cw = campaign_world
    campaign = cw.draft()
    ops.publish(db.session, campaign, cw.cells(), today=TODAY)
    db.session.commit()
    published_at = campaign.version
    assert ops.close(db.session, campaign) == 5
    db.session.commit()
    assert campaign.status == "closed" and campaign.closed_at is not None
    assert campaign.version > published_at
    exits = db.session.execute(
        select(ScopeExit.table_name, ScopeExit.row_id, ScopeExit.cell_code, ScopeExit.version)
    ).all()
    expected = {
        ("campaign_targets", t.id.hex, t.cell_code, campaign.version) for t in _targets(campaign)
    }
    assert set(exits) == expected and len(exits) == 5
    with pytest.raises(CampaignStateConflict):
        ops.close(db.session, campaign)


def test_a_draft_cannot_be_closed(campaign_world) -> None:
    with pytest.raises(CampaignStateConflict) as caught:
        ops.close(db.session, campaign_world.draft())
    assert caught.value.code == "campaign_not_published"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"care_tags": ["nobody_has_this"]}, "campaign_unknown_tag"),
        ({"responsible": []}, "campaign_no_cells"),
        ({"responsible": ["NOPE"]}, "campaign_unknown_cell"),
        ({"cells": ["NOPE"]}, "campaign_unknown_cell"),
        ({"target_kind": "street"}, "campaign_target_kind"),
        ({"code": "有空格 x"}, "campaign_code"),
        ({"title_zh": "  "}, "campaign_title"),
        ({"form_id": None}, "campaign_form"),
        ({"starts_on": dt.date(2026, 12, 2), "ends_on": dt.date(2026, 12, 1)}, "campaign_dates"),
        ({"ends_on": None}, "campaign_dates"),
    ],
)
def test_bad_fields_are_refused_and_nothing_is_stored(campaign_world, overrides, code) -> None:
    with pytest.raises(CampaignInvalid) as caught:
        campaign_world.draft(**overrides)
    assert caught.value.code == code
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_form_without_a_published_version_is_refused(campaign_world) -> None:
    cw = campaign_world
    with pytest.raises(CampaignInvalid) as caught:
        cw.draft(form_id=cw.draft_form.id)
    assert caught.value.code == "campaign_form_unpublished"


def test_a_code_is_taken_once(campaign_world) -> None:
    campaign_world.draft()
    with pytest.raises(Conflict) as caught:
        campaign_world.draft(title_zh="again")
    assert caught.value.code == "campaign_code_taken"


def test_publishing_nothing_or_after_the_end_is_refused(campaign_world) -> None:
    cw = campaign_world
    empty = cw.draft(target_kind="resident", care_tags=["old"], cells=["G1"])
    with pytest.raises(CampaignInvalid) as caught:
        ops.publish(db.session, empty, cw.cells(), today=TODAY)
    assert caught.value.code == "campaign_no_targets"
    late = cw.draft(
        code="late", ends_on=TODAY - dt.timedelta(days=1), starts_on=TODAY.replace(day=1)
    )
    with pytest.raises(CampaignInvalid) as caught:
        ops.publish(db.session, late, cw.cells(), today=TODAY)
    assert caught.value.code == "campaign_dates"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CampaignTarget)) == 0


def test_an_identity_number_on_the_list_finds_the_resident_by_its_digest(
    app, campaign_world
) -> None:
    from server.population.identity import app_vault

    cw = campaign_world
    vault = app_vault(app)
    number = "11010119900307123X"
    cw.people["赵六"].id_number_digest = vault.digest(number)
    db.session.commit()
    data = f"身份证号\n{number.lower()}\n".encode()
    found = read_list(db.session, data, "ids.csv", digest=vault.digest)
    assert found.residents == {cw.people["赵六"].id}
    with pytest.raises(CampaignListUnmatched):
        read_list(db.session, data, "ids.csv")  # without the keyring nothing can match
