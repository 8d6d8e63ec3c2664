"""Downloadable templates: each kind's Chinese headers and one example row (invented data)."""

from __future__ import annotations

from typing import Any

from server.exports.cells import csv_bytes, xlsx_bytes

EXAMPLES: dict[str, dict[str, Any]] = {
    "register": {
        "household_no": "XH-0001",
        "name": "张桂英",
        "gender": "女",
        "birth": "1942-05-17",
        "id_number": "",
        "phone": "13800001234",
        "relation": "户主",
        "address": "新华路329弄12号302室",
        "category": "独居老人、高龄",
        "notes": "",
    },
    "addresses": {
        "code": "310105-XH-000001",
        "address": "新华路329弄12号",
        "alias": "新华小区12号楼",
        "lon": 121.42545,
        "lat": 31.20382,
    },
    "staff": {
        "username": "zhang.wei",
        "display_name": "张伟",
        "role": "网格员",
        "phone": "13800002345",
        "cells": "XH-01-01-001、XH-01-01-002",
        "duty": "网格员",
        "rank": "A角",
        "active": "是",
    },
    "units": {
        "code": "CN-HOUSING",
        "name_zh": "区房管局",
        "kind": "职能部门",
        "phone": "021-62345678",
        "address": "长宁区XX路1号",
        "active": "是",
    },
    "catalogue": {
        "code": "A05-01",
        "name_zh": "电线裸露、私拉电线",
        "kind": "事务",
        "category": "A05",
        "limit_urgent_hours": 2,
        "limit_high_hours": 24,
        "limit_normal_hours": 72,
        "default_unit": "U-GCQX",
        "keywords": "电线、漏电、裸露",
        "active": "是",
    },
}


def rows(kind: str) -> list[list[Any]]:
    """The header row (Chinese, as the importer recognises it) and the example row."""
    from server.imports.operations import get_kind

    specs = get_kind(kind).specs
    example = EXAMPLES.get(kind, {})
    return [
        [spec.template_header for spec in specs],
        [example.get(spec.name, "") for spec in specs],
    ]


SHEETS = {
    "register": "人口登记",
    "addresses": "标准地址",
    "staff": "工作人员",
    "units": "单位",
    "catalogue": "受理目录",
}


def template(kind: str, fmt: str = "xlsx") -> bytes:
    table = rows(kind)
    return csv_bytes(table) if fmt == "csv" else xlsx_bytes(table, sheet=SHEETS.get(kind, kind))
