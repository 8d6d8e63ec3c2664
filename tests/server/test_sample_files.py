"""docs/samples/ holds the files `flask demo load` imports (regenerate: flask demo files
docs/samples), and each of them checks cleanly as the office's own file would."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from server.demo.district import build_district
from server.demo.files import all_samples

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
TODAY = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def generated() -> dict[str, bytes]:
    return all_samples(build_district(), TODAY)


def rows_of(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize(
    "name", ["register-sample.xlsx", "addresses-sample.csv", "staff-sample.csv", "units-sample.csv"]
)
def test_the_shipped_sample_is_what_the_demo_imports(generated, name):
    shipped = (SAMPLES / name).read_bytes()
    if name.endswith(".xlsx"):
        assert rows_of(shipped) == rows_of(generated[name])
    else:
        assert shipped == generated[name]


def test_the_register_sample_holds_only_invented_identity_numbers(generated):
    rows = rows_of(generated["register-sample.xlsx"])
    assert rows[0][4] == "公民身份号码" and len(rows) > 700
    assert all(str(r[4]).startswith("99") for r in rows[1:])  # 99: no such province


def test_the_units_sample_checks_cleanly(office):
    run = office.check("units", (SAMPLES / "units-sample.csv").read_bytes())
    assert run.state == "checked" and run.counts["units"] == 19, run.report["problems"][:3]
