"""A small office for import tests: a published grid, care tags, four standard doors, and
helpers that write register files as real XLSX or CSV bytes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from openpyxl import Workbook

from server.catalogue import loading
from server.extensions import db
from server.grid import operations as grid_operations
from server.imports import categories, operations
from server.imports.kinds import Context
from server.imports.wiring import make_context
from server.population.idnumbers import check_char
from tests.server.grid_files import grid_bytes

TODAY = dt.date(2026, 12, 1)
REGISTER_HEADER = (
    "户号",
    "姓名",
    "性别",
    "出生日期",
    "公民身份号码",
    "联系电话",
    "与户主关系",
    "地址",
    "人员类别",
)
#: Standard doors, each in one building group of tests/server/grid_files.py's grid.
DOORS = [
    ["标准地址编码", "标准地址", "经度", "纬度"],
    ["A1", "新华路329弄12号", 121.4225, 31.2025],  # R1-B1-G1
    ["A2", "新华路329弄14号", 121.4275, 31.2025],  # R1-B1-G2
    ["A3", "番禺路100号", 121.4325, 31.2075],  # R2-B2-G1
    ["A4", "法华镇路535弄1号", 121.4375, 31.2075],  # R2-B2-G2
]


def id_number(born: str, sequence: str = "12", sex: str = "F") -> str:
    """A well-formed invented number (region 99xxxx: no such province) born ``YYYYMMDD``."""
    first17 = f"990105{born}0{sequence[0]}{'1' if sex == 'M' else '2'}"
    return first17 + check_char(first17)


def csv_bytes(rows: Sequence[Sequence[Any]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[Any]], *, title: str = "登记", setup: Any = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    if setup is not None:
        setup(book, sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def person(
    no: str,
    name: str,
    sex: str,
    born: str,
    relation: str,
    address: str,
    category: str = "",
    phone: str = "",
    with_id: bool = True,
) -> list[Any]:
    number = id_number(born.replace("-", ""), sex=("M" if sex == "男" else "F")) if with_id else ""
    return [no, name, sex, born, number, phone, relation, address, category]


def household_rows() -> list[list[Any]]:
    """Two households, four people, one with two care tags."""
    return [
        list(REGISTER_HEADER),  # a copy: tests change header cells
        person(
            "H1",
            "张桂英",
            "女",
            "1942-05-17",
            "户主",
            "新华路329弄12号302室",
            "独居老人、高龄",
            "13800001234",
        ),
        person("H2", "李建国", "男", "1968-03-02", "户主", "番禺路100号101室", "", "021-62345678"),
        person("H2", "王丽", "女", "1970-07-21", "配偶", "番禺路100号101室", "", "13800002345"),
        person("H2", "李明", "男", "1996-11-30", "子女", "番禺路100号101室", "残疾人"),
    ]


@dataclass
class Office:
    """Helpers bound to the test's app: check, apply, and a context like the CLI's."""

    def context(self, **options: Any) -> Context:
        ctx = make_context(db.session, None, options=options)
        ctx.today = TODAY
        return ctx

    def check(
        self, kind: str, data: bytes, mapping: dict[str, str] | None = None, **options: Any
    ) -> Any:
        run, _checked = operations.check_file(
            self.context(**options), kind, data, filename=f"test.{kind}", mapping=mapping
        )
        db.session.commit()
        return run

    def apply(self, kind: str, data: bytes, **options: Any) -> Any:
        run = self.check(kind, data, **options)
        assert run.state == "checked", run.report["problems"][:5]
        operations.apply_run(self.context(**options), run.id)
        db.session.commit()
        return run

    def rules(self, kind: str, data: bytes, **options: Any) -> list[tuple[int | None, str]]:
        run = self.check(kind, data, **options)
        return [(p["row"], p["rule"]) for p in run.report["problems"]]


@pytest.fixture
def office(app: Any) -> Office:
    """A published grid, the shipped care tags and category table, four standard doors."""
    outcome = grid_operations.import_grid(
        db.session, None, grid_bytes(), grid_operations.ImportOptions(name="test grid")
    )
    assert outcome.version is not None
    grid_operations.publish_grid(db.session, None, outcome.version.id, near_m=50.0, today=TODAY)
    loading.load_care_tags(db.session, loading.read_toml(loading.CARE_TAGS_FILE))
    categories.load_defaults(db.session)
    db.session.commit()
    world = Office()
    world.apply("addresses", csv_bytes(DOORS))
    return world
