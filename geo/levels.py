"""The four grid levels, their Chinese names and the parent order between them."""

from __future__ import annotations

from enum import StrEnum

from geo.errors import UnknownLevelError


class Level(StrEnum):
    """A grid level; the value is the stable machine name stored and sent on the wire."""

    STREET = "street"  # 街道 subdistrict
    RESIDENTIAL_AREA = "residential_area"  # 居民区
    BLOCK = "block"  # 块区
    BUILDING_GROUP = "building_group"  # 楼组

    @property
    def depth(self) -> int:
        """0 for street … 3 for building group.

        >>> Level.BLOCK.depth
        2
        """
        return _ORDER.index(self)

    @property
    def name_zh(self) -> str:
        """The Chinese name used by street offices.

        >>> Level.BUILDING_GROUP.name_zh
        '楼组'
        """
        return _NAMES_ZH[self]

    @property
    def parent(self) -> Level | None:
        """The level one above, or None for a street.

        >>> Level.BUILDING_GROUP.parent
        <Level.BLOCK: 'block'>
        >>> Level.STREET.parent is None
        True
        """
        depth = self.depth
        return _ORDER[depth - 1] if depth else None


_ORDER = (Level.STREET, Level.RESIDENTIAL_AREA, Level.BLOCK, Level.BUILDING_GROUP)
_NAMES_ZH = {
    Level.STREET: "街道",
    Level.RESIDENTIAL_AREA: "居民区",
    Level.BLOCK: "块区",
    Level.BUILDING_GROUP: "楼组",
}
# Spellings seen in real files besides the machine names: the Chinese level names,
# "subdistrict" (the usual English for 街道) and the 居委 short form of 居民区.
_ALIASES = {
    **{level.value: level for level in _ORDER},
    **{zh: level for level, zh in _NAMES_ZH.items()},
    "subdistrict": Level.STREET,
    "residential area": Level.RESIDENTIAL_AREA,
    "building group": Level.BUILDING_GROUP,
    "居委": Level.RESIDENTIAL_AREA,
    "居委会": Level.RESIDENTIAL_AREA,
}

LEVELS_DEEPEST_FIRST = tuple(reversed(_ORDER))


def parse_level(text: object) -> Level:
    """Return the level named by ``text`` (machine name or Chinese); raise UnknownLevelError.

    >>> parse_level("块区")
    <Level.BLOCK: 'block'>
    >>> parse_level(" Building_Group ")
    <Level.BUILDING_GROUP: 'building_group'>
    >>> parse_level("district")
    Traceback (most recent call last):
    ...
    geo.errors.UnknownLevelError: unknown grid level: 'district'
    """
    if isinstance(text, str):
        key = text.strip().lower()
        level = _ALIASES.get(key) or _ALIASES.get(key.replace("-", "_"))
        if level is not None:
            return level
    raise UnknownLevelError(f"unknown grid level: {text!r}", text=str(text))
