"""Build messages.po for Chinese from the extracted template and the ZH table, then compile it.

Run by `make translations`: `python -m server.translations.build messages.pot`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from server.translations.zh_messages import ZH

HERE = Path(__file__).parent


def build(template: Path, out: Path | None = None) -> list[str]:
    """Write messages.{po,mo} into `out` (default: zh/LC_MESSAGES beside this module);
    return the ids that have no translation."""
    with template.open("rb") as handle:
        pot = read_po(handle)
    catalog = Catalog(locale="zh", domain="messages", project="Wangge")
    missing = []
    for message in pot:
        if not message.id:
            continue
        text = ZH.get(message.id)
        if text is None:
            missing.append(message.id)
        catalog.add(message.id, text or "", locations=message.locations)
    out = out or HERE / "zh" / "LC_MESSAGES"
    out.mkdir(parents=True, exist_ok=True)
    with (out / "messages.po").open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)
    with (out / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return missing


if __name__ == "__main__":
    gaps = build(Path(sys.argv[1]))
    for msgid in gaps:
        print(f"untranslated: {msgid!r}", file=sys.stderr)
    sys.exit(1 if gaps else 0)
