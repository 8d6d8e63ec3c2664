"""Bytes of an uploaded table (XLSX or CSV) → a header and a stream of numbered rows.

What real office files bring, handled here: XLSX read with openpyxl in read-only mode (rows
stream, memory stays flat); title rows above the header and merged header cells (merge
ranges are read from the sheet's XML, which read-only mode does not expose); hidden
sheets skipped and said so; thousands of formatted blank rows at the end skipped; CSV in
UTF-8 with or without BOM, UTF-16 (Excel's "Unicode text", tab-separated), or
GBK/GB18030, detected and named; legacy .xls refused with a clear message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from server.imports.report import RowProblem, problem

HEADER_SCAN_ROWS = 20
#: Merge ranges sit after the rows in the sheet's XML; a sheet bigger than this (a
#: decompression bomb, or far beyond MAX_ROWS) is not scanned to its end for them.
MERGE_SCAN_MAX_BYTES = 512 * 1024 * 1024
MERGE_REF = re.compile(rb'<mergeCell ref="([A-Z]+\d+:[A-Z]+\d+)"')
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
Row = tuple[int, list[Any]]  # (the sheet's row number, values aligned with the headers)


class UnreadableTable(Exception):
    """Nothing can be read; ``problems`` say why (file-level, with row where known)."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(problems[0].message_en if problems else "unreadable")
        self.problems = problems


@dataclass
class Table:
    """A header row and the rows after it (a one-shot stream)."""

    headers: list[str]
    header_row: int
    rows: Iterator[Row]
    source: dict[str, Any] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)


def _text(value: Any) -> str:
    return "" if value is None else re.sub(r"\s+", "", str(value))


def _blank(values: tuple[Any, ...] | list[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def read_table(data: bytes, *, score: Callable[[str], int], sheet: str | None = None) -> Table:
    """Open ``data`` and find its header: the row among the first 20 whose cells ``score``
    highest (merged cells spread). Raise UnreadableTable when there is nothing to import."""
    if not data or not data.strip():
        raise UnreadableTable([problem("empty_file")])
    if data.startswith(XLS_MAGIC):
        raise UnreadableTable(
            [problem("unreadable_file", detail="旧版 .xls / legacy .xls: save as .xlsx")]
        )
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, score, sheet)
    return _read_csv(data, score)


# --- XLSX --------------------------------------------------------------------------------


def _merged_ranges(data: bytes, worksheet_path: str) -> list[tuple[int, int, int, int]]:
    """(min_col, min_row, max_col, max_row) of every merge, scanning the XML in chunks."""
    found: set[bytes] = set()
    tail = b""
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(worksheet_path) as xml:
        scanned = 0
        while (chunk := xml.read(1 << 20)) and scanned < MERGE_SCAN_MAX_BYTES:
            scanned += len(chunk)
            block = tail + chunk
            found.update(MERGE_REF.findall(block))
            tail = block[-64:]  # a reference cut by the chunk boundary is found whole next time
    return sorted(range_boundaries(ref.decode()) for ref in found)  # type: ignore[misc]


def _choose_sheet(workbook: Any, wanted: str | None) -> tuple[Any, list[RowProblem]]:
    notes: list[RowProblem] = []
    sheets = list(workbook.worksheets)
    visible = [s for s in sheets if getattr(s, "sheet_state", "visible") == "visible"]
    if wanted:
        chosen = next((s for s in sheets if s.title == wanted), None)
        if chosen is None:
            names = "、".join(s.title for s in sheets)
            raise UnreadableTable(
                [problem("unreadable_file", detail=f"no sheet {wanted}: {names}")]
            )
        return chosen, notes
    for hidden in sheets:
        if hidden not in visible:
            notes.append(problem("hidden_sheet_skipped", sheet=hidden.title))
    if not visible:
        raise UnreadableTable([problem("unreadable_file", detail="no visible sheet")])
    chosen = visible[0]
    others = [s.title for s in visible[1:] if s.max_row and s.max_row > 1]
    if others:
        notes.append(problem("other_sheets", sheet=chosen.title, others="、".join(others)))
    return chosen, notes


def _read_xlsx(data: bytes, score: Callable[[str], int], wanted: str | None) -> Table:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise UnreadableTable([problem("unreadable_file", detail=type(error).__name__)]) from None
    worksheet, notes = _choose_sheet(workbook, wanted)
    merges = _merged_ranges(data, worksheet._worksheet_path)
    stream = enumerate(worksheet.iter_rows(values_only=True), start=1)
    head = [(n, list(values)) for n, values in _take(stream, HEADER_SCAN_ROWS)]
    spread, merged_used = _spread_merges(head, merges)
    header_row, headers = _find_header(spread, score)
    if merged_used:
        notes.append(problem("merged_header", ranges="、".join(merged_used)))
    rest = (r for r in head if r[0] > header_row)

    def rows() -> Iterator[Row]:
        for number, values in _chain(rest, stream):
            if not _blank(values):
                yield number, _fit(list(values), len(headers))
        workbook.close()

    source = {"format": "xlsx", "sheet": worksheet.title, "header_row": header_row}
    return Table(headers, header_row, rows(), source, notes)


def _take(stream: Iterator[tuple[int, Any]], count: int) -> list[tuple[int, Any]]:
    taken = []
    for item in stream:
        taken.append(item)
        if len(taken) == count:
            break
    return taken


def _chain(first: Iterator[Row], then: Iterator[tuple[int, Any]]) -> Iterator[Row]:
    yield from first
    for number, values in then:
        yield number, list(values)


def _spread_merges(
    head: list[Row], merges: list[tuple[int, int, int, int]]
) -> tuple[list[Row], list[str]]:
    """Copy each merged range's top-left text into its other cells (header rows only)."""
    rows = {n: list(v) for n, v in head}
    used = []
    for min_col, min_row, max_col, max_row in merges:
        if min_row not in rows or min_row > HEADER_SCAN_ROWS:
            continue
        top_left = rows[min_row][min_col - 1] if min_col - 1 < len(rows[min_row]) else None
        for r in range(min_row, max_row + 1):
            if r not in rows:
                continue
            row = rows[r]
            row.extend([None] * (max_col - len(row)))
            for c in range(min_col, max_col + 1):
                if row[c - 1] is None:
                    row[c - 1] = top_left
        used.append(_range_name(min_col, min_row, max_col, max_row))
    return [(n, rows[n]) for n, _ in head], used


def _range_name(min_col: int, min_row: int, max_col: int, max_row: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{max_row}"


def _find_header(head: list[Row], score: Callable[[str], int]) -> tuple[int, list[str]]:
    best: tuple[int, int, list[Any]] | None = None
    for number, values in head:
        points = sum(score(_text(v)) for v in values)
        if points > 0 and (best is None or points > best[0]):
            best = (points, number, values)
    if best is None:
        raise UnreadableTable([problem("no_header", rows=HEADER_SCAN_ROWS)])
    _, number, values = best
    headers = [_text(v) for v in values]
    while headers and not headers[-1]:
        headers.pop()
    return number, headers


def _fit(values: list[Any], width: int) -> list[Any]:
    return values[:width] + [None] * (width - len(values))


# --- CSV ---------------------------------------------------------------------------------


def decode_csv(data: bytes) -> tuple[str, str, list[RowProblem]]:
    """Text, encoding name and notes; UnreadableTable naming the row of the first bad byte.

    >>> decode_csv("姓名,性别".encode("gbk"))[1]
    'GB18030'
    >>> decode_csv(b"\\xef\\xbb\\xbfname")[:2]
    ('name', 'UTF-8')
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16", []
        except UnicodeDecodeError as error:
            raise _bad_encoding(data, error.start) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "UTF-8", []
    except UnicodeDecodeError as error:
        utf8_offset = error.start
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise _bad_encoding(data, max(utf8_offset, error.start)) from None
    return text, "GB18030", [problem("encoding_detected", encoding="GBK/GB18030")]


def _bad_encoding(data: bytes, offset: int) -> UnreadableTable:
    row = data.count(b"\n", 0, offset) + 1
    return UnreadableTable([problem("bad_encoding", row=row, offset=offset)])


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines()[:HEADER_SCAN_ROWS] if line.strip()), "")
    return max((",", "\t", ";", "|"), key=first.count)


def _read_csv(data: bytes, score: Callable[[str], int]) -> Table:
    text, encoding, notes = decode_csv(data)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    stream = ((n, list(v)) for n, v in enumerate(_lines(reader), start=1))
    head = _take(stream, HEADER_SCAN_ROWS)  # type: ignore[arg-type]
    header_row, headers = _find_header(head, score)
    rest = (r for r in head if r[0] > header_row)

    def rows() -> Iterator[Row]:
        for number, values in _chain(rest, stream):
            if not _blank(values):
                yield number, _fit(values, len(headers))

    source = {
        "format": "csv",
        "encoding": encoding,
        "delimiter": {"\t": "tab"}.get(delimiter, delimiter),
        "header_row": header_row,
    }
    return Table(headers, header_row, rows(), source, notes)


def _lines(reader: Any) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as error:
        raise UnreadableTable(
            [problem("unreadable_file", row=reader.line_num, detail=str(error))]
        ) from None


# --- the checked rows, kept for applying ------------------------------------------------


class RowCache:
    """The rows of a checked file as compressed JSON lines, so applying (a later request,
    maybe another process) re-checks them without parsing the XLSX again."""

    def __init__(self) -> None:
        self._zip = zlib.compressobj(6)
        self._parts: list[bytes] = []

    def add(self, number: int, values: list[Any]) -> None:
        line = json.dumps([number, [_plain(v) for v in values]], ensure_ascii=False)
        self._parts.append(self._zip.compress(line.encode("utf-8") + b"\n"))

    def finish(self) -> bytes:
        self._parts.append(self._zip.flush())
        return b"".join(self._parts)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and "$date" in value:
        text = value["$date"]
        return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
    return value


def cached_table(blob: bytes, headers: list[str], source: dict[str, Any]) -> Table:
    """The Table a RowCache holds (headers and source as the first reading found them)."""

    def rows() -> Iterator[Row]:
        unzip = zlib.decompressobj()
        rest = b""
        for start in range(0, len(blob), 1 << 16):
            rest += unzip.decompress(blob[start : start + (1 << 16)])
            *lines, rest = rest.split(b"\n")
            for line in lines:
                number, values = json.loads(line)
                yield number, [_typed(v) for v in values]
        rest += unzip.flush()
        for line in rest.split(b"\n"):
            if line:
                number, values = json.loads(line)
                yield number, [_typed(v) for v in values]

    return Table(headers, int(source.get("header_row", 1)), rows(), dict(source), [])
