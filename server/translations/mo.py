"""Compile the Chinese table (zh_messages.ZH) into a gettext .mo file, with the stdlib only.

The package build runs this (setup.py), so every install path — a wheel, `pip install .`,
`pip install -e .`, `make setup` — serves Chinese without Babel or `make` at build time.
`make translations` still builds the .po from the extracted ids and fails on any id the
table lacks (server/translations/build.py); this module compiles the same pairs.
"""

from __future__ import annotations

import array
import struct
from pathlib import Path

HEADER = (
    "Content-Type: text/plain; charset=UTF-8\nLanguage: zh\nPlural-Forms: nplurals=1; plural=0;\n"
)


def mo_bytes(messages: dict[str, str]) -> bytes:
    """A GNU .mo catalogue of `messages` (msgid → msgstr), ids sorted as gettext requires."""
    table = {"": HEADER, **{k: v for k, v in messages.items() if k}}
    entries = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in table.items())
    ids = strs = b""
    offsets = []
    for key, value in entries:
        offsets.append((len(ids), len(key), len(strs), len(value)))
        ids += key + b"\0"
        strs += value + b"\0"
    count = len(entries)
    key_start = 7 * 4 + 16 * count
    value_start = key_start + len(ids)
    key_offsets: list[int] = []
    value_offsets: list[int] = []
    for id_offset, id_length, str_offset, str_length in offsets:
        key_offsets += [id_length, id_offset + key_start]
        value_offsets += [str_length, str_offset + value_start]
    header = struct.pack("<Iiiiiii", 0x950412DE, 0, count, 7 * 4, 7 * 4 + count * 8, 0, 0)
    return header + array.array("i", key_offsets + value_offsets).tobytes() + ids + strs


def write_catalogue(messages: dict[str, str], out_dir: Path) -> Path:
    """Write `out_dir/zh/LC_MESSAGES/messages.mo` (atomically) and return its path."""
    target = out_dir / "zh" / "LC_MESSAGES" / "messages.mo"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".mo.partial")
    partial.write_bytes(mo_bytes(messages))
    partial.replace(target)
    return target
