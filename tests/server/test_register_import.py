"""The population register import: checks per row, all-or-nothing apply, idempotent re-import."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from server.audit.models import AuditEntry
from server.exceptions import Conflict
from server.extensions import db
from server.imports import operations
from server.imports.models import ImportFile, ImportReview, ImportRun
from server.population.models import Household, Resident, ResidentTag
from tests.server.import_world import (
    REGISTER_HEADER,
    csv_bytes,
    household_rows,
    id_number,
    person,
    xlsx_bytes,
)


def count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)))


def test_a_clean_register_creates_households_in_their_building_groups(office):
    run = office.apply("register", xlsx_bytes(household_rows()))
    assert run.state == "applied" and run.counts["residents_created"] == 4
    homes = {h.register_key: h for h in db.session.scalars(select(Household))}
    assert homes["no:H1"].cell_code == "R1-B1-G1" and homes["no:H1"].address_match == "matched"
    assert homes["no:H2"].cell_code == "R2-B2-G1" and homes["no:H2"].room == "101"
    tags = set(db.session.scalars(select(ResidentTag.tag_code)))
    assert tags == {"living_alone", "aged_80_plus", "disability"}
    phones = set(db.session.scalars(select(Resident.phone)))
    assert {"13800001234", "021-62345678"} <= phones


def test_identity_numbers_are_stored_sealed_and_never_in_clear(office):
    office.apply("register", xlsx_bytes(household_rows()))
    number = household_rows()[1][4]
    resident = db.session.scalar(select(Resident).where(Resident.name == "张桂英"))
    assert number not in (resident.id_number_sealed or "")
    assert resident.id_number_digest and resident.id_tail_digest
    assert office.context().vault.open(resident.id_number_sealed) == number


def test_importing_the_same_file_again_changes_nothing(office):
    data = xlsx_bytes(household_rows())
    office.apply("register", data)
    versions = sorted(db.session.scalars(select(Resident.version)))
    updates = db.session.scalar(select(func.count()).where(AuditEntry.action == "update"))
    again = office.apply("register", data)
    assert again.counts["residents_unchanged"] == 4 and again.counts["households_unchanged"] == 2
    assert again.counts["residents_created"] == again.counts["residents_updated"] == 0
    assert sorted(db.session.scalars(select(Resident.version))) == versions
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "update")) == updates


def test_a_changed_phone_updates_only_that_person_with_an_audited_reason(office):
    rows = household_rows()
    office.apply("register", xlsx_bytes(rows))
    rows[3][5] = "139 1234 5678"
    run = office.apply("register", xlsx_bytes(rows))
    assert run.counts["residents_updated"] == 1
    resident = db.session.scalar(select(Resident).where(Resident.name == "王丽"))
    assert resident.phone == "13912345678"
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "update", AuditEntry.subject_type == "resident"
        )
    )
    assert entry.subject_id == str(resident.id) and entry.fields == ["phone"]
    assert str(run.id) in entry.detail["reason"]


def test_people_missing_from_a_full_re_import_are_flagged_never_deleted(office):
    rows = household_rows()
    office.apply("register", xlsx_bytes(rows))
    run = office.apply("register", xlsx_bytes(rows[:-1]), full=True)
    assert run.counts["residents_missing"] == 1 and count(Resident) == 4
    review = db.session.scalar(
        select(ImportReview).where(ImportReview.reason == "missing_from_file")
    )
    gone = db.session.get(Resident, __import__("uuid").UUID(review.subject_id))
    assert gone.name == "李明"


def test_someone_marked_moved_out_is_no_news_when_a_full_file_no_longer_lists_them(office):
    rows = household_rows()
    office.apply("register", xlsx_bytes(rows))
    left = db.session.scalar(select(Resident).where(Resident.name == "李明"))
    left.status, left.status_on, left.status_reason = "moved_out", dt.date(2026, 11, 1), "迁出"
    db.session.commit()
    run = office.apply("register", xlsx_bytes(rows[:-1]), full=True)
    assert run.counts["residents_missing"] == 0 and count(Resident) == 4
    assert db.session.get(Resident, left.id).status == "moved_out"


def test_a_file_with_a_blocking_error_applies_nothing(office):
    rows = household_rows()
    rows[2][4] = rows[2][4][:-1] + ("0" if rows[2][4][-1] != "0" else "1")  # wrong check digit
    run = office.check("register", xlsx_bytes(rows))
    assert run.state == "refused" and count(Resident) == 0
    with pytest.raises(Conflict):
        operations.apply_run(office.context(), run.id)
    assert count(Resident) == count(Household) == 0


def test_a_run_is_recorded_with_who_when_hash_and_counts_and_audited(office):
    data = xlsx_bytes(household_rows())
    run = office.apply("register", data)
    import hashlib

    stored = db.session.get(ImportRun, run.id)
    assert stored.file_sha256 == hashlib.sha256(data).hexdigest() and stored.applied_at
    assert db.session.get(ImportFile, run.id) is None  # the file is not kept once applied
    actions = set(
        db.session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == str(run.id)))
    )
    assert {"import_check", "import_apply"} <= actions


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda r: r.__setitem__(4, "99010519420517002"), "id_format"),
        (
            lambda r: r.__setitem__(4, r[4][:-1] + ("1" if r[4][-1] != "1" else "2")),
            "id_check_digit",
        ),
        (lambda r: r.__setitem__(3, "1943-05-17"), "id_birth_mismatch"),
        (lambda r: r.__setitem__(2, "男"), "id_sex_mismatch"),
        (lambda r: r.__setitem__(2, "未知"), "sex_unknown"),
        (lambda r: (r.__setitem__(3, "1890-01-01"), r.__setitem__(4, "")), "age_impossible"),
        (lambda r: (r.__setitem__(3, "2030-01-01"), r.__setitem__(4, "")), "age_impossible"),
        (lambda r: r.__setitem__(3, "明年"), "date_unreadable"),
        (lambda r: r.__setitem__(1, ""), "required_missing"),
    ],
)
def test_a_wrong_cell_is_an_error_naming_row_and_column(office, change, rule):
    rows = household_rows()
    change(rows[1])
    run = office.check("register", csv_bytes(rows))
    found = [p for p in run.report["problems"] if p["rule"] == rule]
    assert found and found[0]["severity"] == "error" and found[0]["row"] == 2, run.report
    assert found[0]["column"] in REGISTER_HEADER and run.state == "refused"


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda r: r.__setitem__(5, "12345"), "phone_invalid"),
        (lambda r: r.__setitem__(5, "13800001234/62345678"), "phone_several"),
        (lambda r: r.__setitem__(8, "外星人"), "category_unknown"),
        (lambda r: r.__setitem__(8, "fly_tag"), "category_unknown"),
        (lambda r: r.__setitem__(6, "表舅"), "relation_unknown"),
        (lambda r: r.__setitem__(7, "新华路329弄99号302室"), "address_unmatched"),
        (lambda r: r.__setitem__(7, "不详"), "address_unparsed"),
        (lambda r: r.__setitem__(1, '=HYPERLINK("http://x","点我")'), "formula_text"),
    ],
)
def test_a_doubtful_cell_is_a_warning_and_the_file_still_applies(office, change, rule):
    rows = household_rows()
    change(rows[1])
    run = office.check("register", csv_bytes(rows))
    found = [p for p in run.report["problems"] if p["rule"] == rule]
    assert found and found[0]["severity"] == "warning" and run.state == "checked", run.report


def test_the_same_person_twice_in_a_file_is_an_error(office):
    rows = household_rows()
    rows.append(list(rows[1]))
    assert (6, "duplicate_person") in office.rules("register", csv_bytes(rows))


def test_a_household_without_a_head_is_reported(office):
    rows = household_rows()
    rows[2][6] = "配偶"
    assert (3, "household_no_head") in office.rules("register", csv_bytes(rows))


def test_a_person_already_registered_elsewhere_is_reported_as_moving(office):
    office.apply("register", csv_bytes(household_rows()))
    rows = [REGISTER_HEADER, household_rows()[4]]
    rows[1][0], rows[1][7] = "H1", "新华路329弄12号302室"
    run = office.check("register", csv_bytes(rows))
    assert [p["rule"] for p in run.report["problems"]] == ["person_moves"]
    operations.apply_run(office.context(), run.id)
    db.session.commit()
    moved = db.session.scalar(select(Resident).where(Resident.name == "李明"))
    assert db.session.get(Household, moved.household_id).register_key == "no:H1"


def test_someone_without_an_identity_number_already_elsewhere_is_a_possible_duplicate(office):
    rows = household_rows()
    rows[4][4] = ""
    office.apply("register", csv_bytes(rows))
    again = [
        REGISTER_HEADER,
        person("H9", "李明", "男", "1996-11-30", "户主", "新华路329弄14号201室", with_id=False),
    ]
    assert (2, "possible_duplicate") in office.rules("register", csv_bytes(again))


def test_free_text_categories_follow_the_offices_table(office):
    from server.imports import categories

    rows = household_rows()
    rows[1][8] = "重点关注老人"
    assert (2, "category_unknown") in office.rules("register", csv_bytes(rows))
    categories.set_mapping(db.session, "重点关注老人", "living_alone", actor_id=None)
    db.session.commit()
    office.apply("register", csv_bytes(rows))
    tags = set(db.session.scalars(select(ResidentTag.tag_code)))
    assert "living_alone" in tags


def test_an_old_fifteen_digit_number_is_upgraded_with_a_warning(office):
    rows = household_rows()
    eighteen = id_number("19420517", sex="F")
    rows[1][4] = eighteen[:6] + eighteen[8:17]
    run = office.check("register", csv_bytes(rows))
    assert [p["rule"] for p in run.report["problems"]] == ["id_upgraded"]


def test_the_office_maps_an_unknown_category_on_its_page(office, client, make_user):
    from tests.server.conftest import login

    rows = household_rows()
    rows[1][8] = "重点关注老人"
    office.check("register", csv_bytes(rows))
    make_user("manager", username="guan.li")
    login(client, "guan.li")
    page = client.get("/imports/categories").get_data(as_text=True)
    assert "重点关注老人 × 1" in page and "孤老" in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    saved = client.post(
        "/imports/categories",
        data={"csrf_token": token, "text": "重点关注老人", "tag_code": "living_alone"},
    )
    assert saved.status_code == 302
    refused = client.post(
        "/imports/categories", data={"csrf_token": token, "text": "x", "tag_code": "no_such_tag"}
    )
    assert refused.status_code == 302
    run = office.check("register", csv_bytes(rows))
    assert "category_unknown" not in run.report["counts_by_rule"]
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.subject_type == "category_mapping")
    )
    assert entry.detail["tag_code"] == "living_alone"


def test_a_household_first_imported_without_its_number_is_found_again_with_it(office):
    rows = household_rows()
    for row in rows[1:]:
        row[0] = ""
    office.apply("register", csv_bytes(rows))
    home = db.session.scalar(select(Household).where(Household.address == "番禺路100号101室"))
    home.notes = "有一只狗"
    db.session.commit()
    run = office.apply("register", csv_bytes(household_rows()))
    assert run.counts["households_created"] == 0 and count(Household) == 2
    db.session.expire_all()
    assert db.session.get(Household, home.id).notes == "有一只狗"  # the office's own note stays


def test_several_phones_keep_the_first_as_the_phone_and_the_rest_in_the_notes(office):
    rows = household_rows()
    rows[0].append("备注")
    rows[1][5] = "13800000001/021-12345678、6234 5678；12345"
    rows[1].append("腿脚不便")
    rows[3][5] = "13800002345、13800002345"  # the same number twice is one number
    run = office.apply("register", csv_bytes(rows))
    found = {p["rule"]: p for p in run.report["problems"] if p["row"] == 2}
    assert found["phone_invalid"]["value"] == "12345"
    assert "13800000001 作为联系电话" in found["phone_several"]["message_zh"]
    people = {r.name: r for r in db.session.scalars(select(Resident))}
    assert people["张桂英"].phone == "13800000001"
    assert people["张桂英"].notes == "腿脚不便；其他电话：021-12345678、021-62345678"
    assert people["王丽"].phone == "13800002345" and people["王丽"].notes == ""
    again = office.apply("register", csv_bytes(rows))
    assert again.counts["residents_changed"] == 0 and again.counts["residents_unchanged"] == 4
