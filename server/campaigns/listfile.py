"""An uploaded target list (CSV or XLSX) → the households and residents it names.

Columns, found by their header among the first 20 rows (server/imports/tabular.py reads the
file: encodings, title rows, merged headers): 登记键 (a household's or resident's register
key as the register import made it), 身份证号 (matched by its keyed digest, never stored),
户号, 地址. A line names the first of these it fills. An address with a room is a household;
one without (新华路329弄12号) is every household of that building. A line that matches
nothing is reported by its row; any such line refuses the whole list, nothing is kept.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.address_text import normalise, parse
from server.campaigns.errors import CampaignInvalid, CampaignListUnmatched
from server.imports.tabular import UnreadableTable, read_table
from server.population.models import Household, Resident

MAX_LINES = 50_000
#: Unmatched lines named in the message itself (all of them are in the details).
SHOWN = 5
HEADERS: dict[str, tuple[str, ...]] = {
    "register_key": ("登记键", "登记编号", "registerkey", "register_key", "key"),
    "id_number": ("身份证号", "公民身份号码", "身份证号码", "身份证", "idnumber", "id_number"),
    "household_no": ("户号", "户编号", "户籍号", "家庭编号", "household_no", "householdno"),
    "address": ("地址", "住址", "门牌地址", "居住地址", "家庭住址", "现住址", "address"),
}
FIELD_OF = {text: name for name, texts in HEADERS.items() for text in texts}


@dataclass
class ListMatch:
    """The ids a list named, and its size."""

    name: str
    lines: int = 0
    households: set[uuid.UUID] = field(default_factory=set)
    residents: set[uuid.UUID] = field(default_factory=set)


def _score(text: str) -> int:
    return 1 if text.lower() in FIELD_OF else 0


class _Register:
    """The register's keys, loaded once per list."""

    def __init__(self, session: Session) -> None:
        self.by_key: dict[str, tuple[str, uuid.UUID]] = {}
        self.by_address: dict[str, list[uuid.UUID]] = defaultdict(list)
        self.by_building: dict[str, list[uuid.UUID]] = defaultdict(list)
        stmt = select(Household.id, Household.register_key, Household.address)
        for hid, key, address in session.execute(stmt):
            if key:
                self.by_key[key] = ("household", hid)
            self.by_address[normalise(address)].append(hid)
            parts = parse(address)
            if parts is not None:
                self.by_building[parts.building_key()].append(hid)
        self.by_digest: dict[str, list[uuid.UUID]] = defaultdict(list)
        stmt2 = select(Resident.id, Resident.register_key, Resident.id_number_digest)
        for rid, key, digest in session.execute(stmt2):
            if key:
                self.by_key[key] = ("resident", rid)
            if digest:
                self.by_digest[digest].append(rid)


def read_list(
    session: Session,
    data: bytes,
    name: str,
    *,
    digest: Callable[[str], str] | None = None,
) -> ListMatch:
    """Match every line of the list; CampaignListUnmatched names the lines that match nothing,
    CampaignInvalid says why a file cannot be read."""
    try:
        table = read_table(data, score=_score)
    except UnreadableTable as error:
        problem = error.problems[0] if error.problems else None
        detail = problem.message_zh if problem else ""
        raise CampaignInvalid(
            _l(
                "The list cannot be read: %(detail)s Give a CSV or XLSX file with a header "
                "row naming 登记键, 身份证号, 户号 or 地址.",
                detail=detail,
            ),
            code="campaign_list_unreadable",
            field="list",
        ) from None
    columns = [(i, FIELD_OF.get(h.lower())) for i, h in enumerate(table.headers)]
    known = [(i, f) for i, f in columns if f is not None]
    register = _Register(session)
    found = ListMatch(name=name[:200])
    unmatched: list[dict[str, Any]] = []
    for number, values in table.rows:
        line = _first(values, known)
        if line is None:
            continue
        found.lines += 1
        if found.lines > MAX_LINES:
            raise CampaignInvalid(
                _l("The list has more than %(n)d lines.", n=MAX_LINES),
                code="campaign_list_too_long",
                field="list",
            )
        kind, text = line
        if not _match(register, kind, text, found, digest):
            unmatched.append({"row": number, "value": text[:80]})
    if unmatched:
        shown = "、".join(str(u["row"]) for u in unmatched[:SHOWN])
        raise CampaignListUnmatched(
            _l(
                "%(n)d line(s) of the list match nothing on the register (rows %(rows)s). "
                "Nothing was kept: correct or remove them and upload again.",
                n=len(unmatched),
                rows=shown + ("…" if len(unmatched) > SHOWN else ""),
            ),
            unmatched,
        )
    if not found.lines:
        raise CampaignInvalid(
            _l("The list has no lines under its header."), code="campaign_list_empty", field="list"
        )
    return found


def _first(values: list[Any], known: list[tuple[int, str]]) -> tuple[str, str] | None:
    for index, kind in known:
        value = values[index] if index < len(values) else None
        text = "" if value is None else str(value).strip()
        if text:
            return kind, text
    return None


def _match(
    register: _Register,
    kind: str,
    text: str,
    found: ListMatch,
    digest: Callable[[str], str] | None,
) -> bool:
    if kind == "register_key":
        hit = register.by_key.get(text)
        if hit is None:
            return False
        (found.households if hit[0] == "household" else found.residents).add(hit[1])
        return True
    if kind == "id_number":
        people = register.by_digest.get(digest(text.upper())) if digest else None
        found.residents.update(people or ())
        return bool(people)
    if kind == "household_no":
        hit = register.by_key.get(f"no:{text}")
        if hit is not None:
            found.households.add(hit[1])
        return hit is not None
    homes = register.by_address.get(normalise(text))
    if not homes:
        parts = parse(text)
        if parts is not None and not parts.room:
            homes = register.by_building.get(parts.building_key())
    found.households.update(homes or ())
    return bool(homes)
