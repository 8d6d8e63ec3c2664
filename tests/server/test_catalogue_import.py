"""The catalogue (受理目录) through the import pipeline: XLSX/CSV, matched by item code."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from server.audit.models import AuditEntry
from server.catalogue import loading
from server.catalogue.models import CatalogueCategory, CatalogueItem
from server.extensions import db
from server.imports import templates
from server.imports.models import ImportReview
from tests.server.import_world import csv_bytes, xlsx_bytes

SAMPLE = Path(__file__).parents[2] / "docs" / "samples" / "catalogue-sample.csv"
HEADER = [
    "编码",
    "名称",
    "大类",
    "小类",
    "紧急时限（小时）",
    "较急时限（小时）",
    "一般时限（小时）",
    "默认处置单位编码",
    "启用",
]


def rows() -> list[list[object]]:
    return [
        list(HEADER),
        ["A05-01", "电线裸露", "事务", "A05", 1, 12, 48, "U-GCQX", "是"],
        ["A08-01", "电梯困人后续", "事务", "电梯安全", 2, 8, 24, "U-WY", "是"],
        ["S09-01", "代办证件", "服务", "便民代办", 24, 72, 168, "", "是"],
    ]


@pytest.fixture
def catalogue(office):
    loading.load_catalogue(db.session, loading.read_toml(loading.DATA_FILE))
    db.session.commit()
    return office


def item(code: str) -> CatalogueItem:
    return db.session.scalar(select(CatalogueItem).where(CatalogueItem.code == code))


def test_items_are_updated_and_created_by_code_then_a_reimport_changes_nothing(catalogue):
    before = item("A05-01")
    old_version = before.version
    run = catalogue.apply("catalogue", xlsx_bytes(rows(), title="受理目录"))
    assert run.counts["items_created"] == 2 and run.counts["items_updated"] == 1
    assert run.counts["categories_created"] == 2
    changed = item("A05-01")
    assert changed.limit_urgent_hours == 1.0 and changed.version > old_version
    lift = item("A08-01")
    assert lift.category.name_zh == "电梯安全" and lift.category.code == "A08"
    assert lift.default_unit.code == "U-WY" and lift.pinyin_initials == "dtkrhx"
    assert item("S09-01").category.code == "S09" and item("S09-01").default_unit_id is None
    history = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.subject_type == "catalogue_item", AuditEntry.subject_id == str(changed.id)
        )
    ).all()
    assert [e.action for e in history] == ["update"]
    assert history[0].detail["changes"]["limit_urgent_hours"] == [2.0, 1.0]
    again = catalogue.apply("catalogue", csv_bytes(rows()))
    assert again.counts["items_created"] == 0 and again.counts["items_updated"] == 0
    assert again.counts["categories_new"] == 0
    assert db.session.scalar(select(func.count()).select_from(CatalogueCategory)) == 17


@pytest.mark.parametrize(
    "row, column, rule",
    [
        (["A05-01", "电线", "事物", "A05", 1, 2, 3, "", "是"], "大类", "catalogue_kind_unknown"),
        (["A05-01", "电线", "服务", "A05", 1, 2, 3, "", "是"], "小类", "category_kind_mismatch"),
        (
            ["A05-01", "电线", "事务", "A05", 9, 2, 3, "", "是"],
            "较急时限（小时）",
            "time_limits_order",
        ),
        (
            ["A05-01", "电线", "事务", "A05", "两小时", 2, 3, "", ""],
            "紧急时限（小时）",
            "number_unreadable",
        ),
        (
            ["A05-01", "电线", "事务", "A05", 0, 2, 3, "", "是"],
            "紧急时限（小时）",
            "time_limit_invalid",
        ),
        (
            ["A05-01", "电线", "事务", "A05", 1, 2, "", "", "是"],
            "一般时限（小时）",
            "required_missing",
        ),
        (
            ["A05-01", "电线", "事务", "A05", 1, 2, 3, "U-NONE", "是"],
            "默认处置单位编码",
            "unit_unknown",
        ),
        (["A05-01", "电线", "事务", "A05", 1, 2, 3, "", "也许"], "启用", "bool_unreadable"),
        (["A01-01", "重复", "事务", "A01", 1, 2, 3, "", "是"], "编码", "duplicate_key"),
    ],
)
def test_a_bad_row_is_refused_naming_row_column_and_value_and_nothing_changes(
    catalogue, row, column, rule
):
    data = rows()
    data[2] = ["A01-01", "生活垃圾", "事务", "A01", 4, 12, 24, "U-LHSR", "是"]
    data[3] = row
    run = catalogue.check("catalogue", csv_bytes(data))
    assert run.state == "refused"
    found = [p for p in run.report["problems"] if p["rule"] == rule]
    assert found and found[0]["row"] == 4 and found[0]["column"] == column
    assert f"第 4 行“{column}”" in found[0]["message_zh"] and "Row 4" in found[0]["message_en"]
    assert found[0]["severity"] == "error"
    assert item("A05-01").limit_urgent_hours == 2.0 and item("A08-01") is None


def test_a_full_reimport_flags_the_missing_items_and_disables_none(catalogue):
    run = catalogue.apply("catalogue", csv_bytes(rows()), full=True)
    assert run.counts["flagged_for_review"] == 148 - 1
    reviews = db.session.scalars(
        select(ImportReview).where(ImportReview.subject_type == "catalogue_items")
    ).all()
    assert len(reviews) == 147 and {r.reason for r in reviews} == {"missing_from_file"}
    assert item("A01-01").is_active
    assert db.session.scalar(select(func.count()).select_from(CatalogueItem)) == 150


def test_the_sample_and_the_template_import_cleanly(catalogue):
    sample = catalogue.check("catalogue", SAMPLE.read_bytes())
    assert sample.state == "checked" and sample.counts["errors"] == 0, sample.report
    assert sample.counts["items"] == 148 and sample.counts["items_new"] == 0
    assert sample.counts["items_changed"] == 0  # the sample is the shipped catalogue
    template = catalogue.check("catalogue", templates.template("catalogue", "xlsx"))
    assert template.state == "checked" and template.counts["items_changed"] == 1


def test_a_formula_in_a_name_is_kept_as_text_with_a_warning(catalogue):
    data = rows()
    data[1][1] = '=HYPERLINK("http://x","y")'
    run = catalogue.apply("catalogue", csv_bytes(data))
    assert "formula_text" in run.report["counts_by_rule"]
    assert item("A05-01").name_zh == '=HYPERLINK("http://x","y")'


def test_the_command_line_imports_a_catalogue(catalogue, app, tmp_path):
    path = tmp_path / "目录.xlsx"
    path.write_bytes(xlsx_bytes(rows()))
    result = CliRunner().invoke(
        app.cli, ["catalogue", "import", str(path), "--apply"], catch_exceptions=False
    )
    assert result.exit_code == 0 and "(catalogue, applied;" in result.output
    assert item("A08-01") is not None
    data = rows()
    data[1][2] = "事物"
    path.write_bytes(xlsx_bytes(data))
    bad = CliRunner().invoke(app.cli, ["catalogue", "import", str(path)], catch_exceptions=False)
    assert bad.exit_code == 1 and "row 2 [大类] catalogue_kind_unknown" in bad.output
