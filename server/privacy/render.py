"""Render a case for an audience, field by field, as the declaration says; coarse forms."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_

from server.cases.models import Case
from server.enums import Disclosure
from server.privacy.classes import Audience, DataClass, may_read
from server.privacy.declaration import (
    CASE_EXTRAS,
    COARSE,
    OWN_FIELDS,
    TABLES,
    case_rule,
    class_of,
)

#: Every field a case can be rendered with: its columns, then the derived ones.
CASE_FIELDS: tuple[str, ...] = (*TABLES["cases"].columns, *CASE_EXTRAS)

#: A road (2–5 characters before 路/街/巷/大道, after an optional city and district), then
#: an optional lane (弄) and building number (号, 号楼, 幢, 栋). Nothing after it survives:
#: rooms, floors, landmarks, names.
_BUILDING = re.compile(
    r"^\s*(?:[\u4e00-\u9fff]{2,4}[市区]\s*){0,2}"
    r"[\u4e00-\u9fff]{2,5}(?:大道|路|街|巷)"
    r"(?:\s*\d{1,5}\s*弄)?"
    r"(?:\s*(?:\d{1,5}|[A-Z])\s*(?:号楼|号|幢|栋))?"
)
#: Seven or more digits, maybe broken by spaces or dashes (phones, ID numbers).
_LONG_NUMBER = re.compile(r"\d(?:[\s-]?\d){6,}[\dXx]?")
#: Degrees kept in a public point: 3 decimals is about 110 m north–south, 95 m east–west.
COARSE_DECIMALS = 3


def building_address(address: str | None) -> str | None:
    """The building an address is in, or None when it does not start with a road.

    >>> building_address("长宁区新华路329弄5号302室")
    '长宁区新华路329弄5号'
    >>> building_address("番禺路口东侧50米"), building_address("张阿姨家门口")
    ('番禺路', None)
    """
    match = _BUILDING.match(address or "")
    return re.sub(r"\s+", "", match.group(0)) if match else None


def coarse_degrees(value: float | None) -> float | None:
    """A coordinate to about 100 m.

    >>> coarse_degrees(121.434567)
    121.435
    """
    return None if value is None else round(value, COARSE_DECIMALS)


def scrub(text: str) -> str:
    """Public text with phone and ID numbers hidden (residents write them in anyway).

    >>> scrub("路灯不亮,电话 139 1234 5678")
    '路灯不亮,电话 ***'
    """
    return _LONG_NUMBER.sub("***", text)


_COARSEN = {"address": building_address, "lon": coarse_degrees, "lat": coarse_degrees}
#: Text a reader outside the office may see is scrubbed of numbers on the way out.
_SCRUBBED = frozenset({"description", "reported_text", "title"})


def _extra_value(case: Any, name: str, locale: str) -> Any:
    if name in ("service_code", "service_name"):
        item = getattr(case, "catalogue_item", None)
        if item is None:
            return None
        return item.code if name == "service_code" else item.name(locale)
    if name == "agency":
        unit = getattr(case, "unit", None)
        return (unit.name_en if locale == "en" else unit.name_zh) if unit is not None else None
    if name == "merged":
        return getattr(case, "merged_into_id", None) is not None
    return None  # media_url, reported_text: given by the caller (another table)


def render_case(
    case: Any,
    audience: Audience,
    *,
    fields: Iterable[str] | None = None,
    extra: Mapping[str, Any] | None = None,
    own: bool = False,
    locale: str = "zh",
) -> dict[str, Any]:
    """The fields of `case` that `audience` may read, as the declaration says.

    `case` is a Case or any row with the named attributes (and `disclosure`). A field the
    audience may not read is left out, or given in its coarse form when that one is
    readable. `own` marks the reporter's own case (their text and place are theirs).
    `extra` gives values from other tables (`media_url`, `reported_text`).
    """
    disclosure = Disclosure(case.disclosure)
    outside = not may_read(audience, DataClass.INTERNAL)  # the public and link holders
    out: dict[str, Any] = {}
    for name in CASE_FIELDS if fields is None else fields:
        data_class = class_of(case_rule(name), disclosure)
        if data_class is DataClass.SECRET:
            continue
        if may_read(audience, data_class) or (own and name in OWN_FIELDS):
            value = _value(case, name, extra, locale)
            out[name] = scrub(value) if outside and name in _SCRUBBED and value else value
        elif name in COARSE and may_read(audience, COARSE[name].of(disclosure)):
            out[name] = _COARSEN[name](_value(case, name, extra, locale))
    return out


def _value(case: Any, name: str, extra: Mapping[str, Any] | None, locale: str) -> Any:
    if extra is not None and name in extra:
        return extra[name]
    if name in CASE_EXTRAS:
        return _extra_value(case, name, locale)
    return getattr(case, name)


def listed_publicly(channels: Collection[str]) -> ColumnElement[bool]:
    """SQL: cases a public surface may list (and find by number): not private, and of a
    channel the deployment publishes (`OPEN311_PUBLIC_CHANNELS`)."""
    return and_(Case.disclosure != Disclosure.PRIVATE, Case.channel.in_(list(channels)))
