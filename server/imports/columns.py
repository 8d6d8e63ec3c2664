"""Columns: which header means which field (the spellings real files use), and the mapping step.

Each kind of import lists its fields with the header variants seen in real files; a file's
headers are matched after normalising (full-width, spaces, "*", "（必填）"), and whatever
cannot be matched can be mapped by hand (page, API or ``--map 字段=表头``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from server.imports.report import RowProblem, problem


@dataclass(frozen=True)
class FieldSpec:
    """One field of an import: its name, labels, the headers that mean it, and its limits."""

    name: str
    zh: str
    en: str
    variants: tuple[str, ...]
    required: bool = False
    max_length: int = 200

    @property
    def template_header(self) -> str:
        """The header the downloadable template uses (the first variant)."""
        return self.variants[0]


def header_key(text: str) -> str:
    """A header as compared: half-width, lower case, no spaces, marks or notes in brackets.

    >>> header_key(" 公民身份号码（必填）* ")
    '公民身份号码'
    >>> header_key("Phone No.")
    'phoneno'
    """
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = re.sub(r"[(\[【][^)\]】]*[)\]】]", "", text)
    return re.sub(r"[\s*:：.、/_\-]+", "", text)


def index_of(specs: Sequence[FieldSpec]) -> dict[str, str]:
    """Normalised header → field name, for every variant of every field."""
    table: dict[str, str] = {}
    for spec in specs:
        for variant in (spec.name, spec.zh, spec.en, *spec.variants):
            table.setdefault(header_key(variant), spec.name)
    return table


def scorer(specs: Sequence[FieldSpec], extra: Sequence[str] = ()) -> Callable[[str], int]:
    """How much a cell looks like one of our headers: 1 for a known header, else 0."""
    known = set(index_of(specs)) | {header_key(h) for h in extra}
    return lambda text: int(bool(text) and header_key(text) in known)


@dataclass
class Mapping:
    """Field name → column index in the file's header, and the header text it came from."""

    columns: dict[str, int]
    headers: list[str]

    def header(self, field: str) -> str | None:
        index = self.columns.get(field)
        return self.headers[index] if index is not None else None

    def to_dict(self) -> dict[str, str]:
        return {name: self.headers[index] for name, index in self.columns.items()}


def build_mapping(
    specs: Sequence[FieldSpec],
    headers: list[str],
    overrides: dict[str, str] | None = None,
) -> tuple[Mapping, list[RowProblem]]:
    """Match headers to fields (first column wins), then apply the uploader's overrides.

    >>> specs = [FieldSpec("name", "姓名", "Name", ("姓名",), required=True)]
    >>> mapping, found = build_mapping(specs, ["序号", "姓 名"])
    >>> mapping.columns, [p.rule for p in found]
    ({'name': 1}, ['ignored_column'])
    """
    table = index_of(specs)
    by_name = {spec.name: spec for spec in specs}
    columns: dict[str, int] = {}
    found: list[RowProblem] = []
    overrides = {k: v for k, v in (overrides or {}).items() if k in by_name and v is not None}
    claimed = {header_key(v) for v in overrides.values() if v}
    for index, header in enumerate(headers):
        key = header_key(header)
        if not key or key in claimed:
            continue
        name = table.get(key)
        if name is None:
            found.append(problem("ignored_column", column=header))
        elif name in columns:
            spec = by_name[name]
            found.append(
                problem("duplicate_column", column=header, field_zh=spec.zh, field_en=spec.en)
            )
        else:
            columns[name] = index
    keys = [header_key(h) for h in headers]
    for name, header in overrides.items():
        if not header:  # mapped to nothing: the uploader says the file lacks it
            columns.pop(name, None)
        elif header_key(header) in keys:
            columns[name] = keys.index(header_key(header))
        else:
            found.append(problem("mapped_column_absent", column=header, field=name))
    return Mapping(columns, headers), found


def missing_required(specs: Sequence[FieldSpec], mapping: Mapping) -> list[RowProblem]:
    """A missing_column error for each required field no column maps to."""
    return [
        problem(
            "missing_column",
            field=spec.name,
            field_zh=spec.zh,
            field_en=spec.en,
            variants="、".join(spec.variants[:5]),
        )
        for spec in specs
        if spec.required and spec.name not in mapping.columns
    ]
