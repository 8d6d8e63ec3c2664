"""A feature's properties → its code, name, level and parent code, as the uploader named them.

Files call these fields many things (编码, community_, adcode …); ``PropertyNames`` says which.
A feature without a level gets the chosen default, or the level its code's pattern gives
(``geo.code_levels``), in which case a feature naming no parent gets the code rule's parent too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geo.code_levels import level_from_code, parent_from_code
from geo.errors import GeoError
from geo.levels import Level, parse_level
from geo.problems import FeatureRef, Problem, problem
from geo.structure import RawFeature


@dataclass(frozen=True)
class PropertyNames:
    """Which feature properties hold code, name, level and parent code (None: not in file)."""

    code: str = "code"
    name: str = "name"
    level: str | None = "level"
    parent_code: str | None = "parent_code"


@dataclass(frozen=True)
class LevelChoice:
    """How a feature without a level property gets one: the code rule, else the default."""

    default: Level | None = None
    from_code: bool = False


def text(value: Any) -> str:
    """A property value as stripped text ("" for null/booleans; 3.0 → "3").

    >>> text(3.0), text(None), text(" 新华 ")
    ('3', '', '新华')
    """
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_properties(
    raw: RawFeature, names: PropertyNames, levels: LevelChoice, problems: list[Problem]
) -> tuple[str, str, Level | None, str | None]:
    """Return ``(code, name, level or None, parent code or None)``, reporting what is missing.

    >>> found: list[Problem] = []
    >>> raw = RawFeature(0, {"code": "310105004001-01", "name": "第一块区"}, None)
    >>> read_properties(raw, PropertyNames(), LevelChoice(from_code=True), found)[2:]
    (<Level.BLOCK: 'block'>, '310105004001')
    """
    props = raw.properties
    code, name = text(props.get(names.code)), text(props.get(names.name))
    ref: FeatureRef = {"feature_index": raw.index, "code": code or None, "name": name or None}
    if not code:
        problems.append(problem("code_missing", **ref, field=names.code))
    if not name:
        problems.append(problem("name_missing", **ref, field=names.name))
    level_value = props.get(names.level) if names.level else None
    level: Level | None = levels.default
    if level_value in (None, "") and levels.from_code:
        level = (level_from_code(code) if code else None) or levels.default
        if level is None and code:
            problems.append(problem("level_not_derivable", **ref))
    elif level_value not in (None, "") or levels.default is None:
        try:
            level = parse_level(level_value)
        except GeoError:
            problems.append(problem("level_invalid", **ref, value=level_value))
            level = None
    parent = text(props.get(names.parent_code)) if names.parent_code else ""
    if not parent and levels.from_code and code:
        parent = parent_from_code(code) or ""
    return code, name, level, parent or None
