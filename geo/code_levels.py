"""Levels (and parents) of cells derived from their codes, for files without a level property.

Surveyors' files often carry only a code and a name. Grid codes in Chinese street offices
grow by appending a part to the parent's code, so the code itself says the level. The rule
(documented in docs/grids.md, with a preview on the upload page before anything is kept):

1. The code is cut into **segments** at ``-``, ``_``, ``.``, ``/`` and spaces.
2. A leading all-digit segment of **9 digits** is the street's code (GB/T 2260 county code
   + 3-digit street number, e.g. 310105004 新华路街道): one segment. One of **12 digits** is
   a residents' committee's code (the national statistical code, the street's 9 digits + 3,
   e.g. 310105004001): two segments, street + residential area. Any other all-digit leading
   segment longer than 4 digits cannot be read (15- or 18-digit local schemes differ from
   city to city): those cells need a level property or a default level.
3. The number of segments is the level: 1 street, 2 residential area, 3 block,
   4 building group; more is not a level.
4. The parent, when the feature names none, is the code without its last segment (a
   12-digit code's parent is its first 9 digits).

So 310105004 → 310105004001 → 310105004001-01 → 310105004001-01-03, and
S → S-R1 → S-R1-B1 → S-R1-B1-G1. Codes of a scheme where the street is not part of the code
(R1, R1-B1 …) come out one level too high: the preview shows it, and such files are imported
with their level property or a default level instead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from geo.levels import Level

_SEPARATORS = re.compile(r"[-_./\s]+")
_ORDER = (Level.STREET, Level.RESIDENTIAL_AREA, Level.BLOCK, Level.BUILDING_GROUP)
_STREET_DIGITS, _COMMITTEE_DIGITS, _PLAIN_NUMBER_DIGITS = 9, 12, 4


def code_segments(code: str) -> list[str] | None:
    """The code's segments as the rule counts them (a 12-digit head splits 9 + 3), or None.

    >>> code_segments("310105004001-01"), code_segments("S-R1"), code_segments("3101050040011")
    (['310105004', '001', '01'], ['S', 'R1'], None)
    """
    parts = [p for p in _SEPARATORS.split(code.strip()) if p]
    if not parts:
        return None
    head = parts[0]
    if head.isdigit() and len(head) > _PLAIN_NUMBER_DIGITS:
        if len(head) == _COMMITTEE_DIGITS:
            return [head[:_STREET_DIGITS], head[_STREET_DIGITS:], *parts[1:]]
        if len(head) != _STREET_DIGITS:
            return None
    return parts


def level_from_code(code: str) -> Level | None:
    """The level the code's pattern gives, or None when the rule cannot say.

    >>> [level_from_code(c) for c in ("310105004", "310105004001", "310105004001-01")]
    [<Level.STREET: 'street'>, <Level.RESIDENTIAL_AREA: 'residential_area'>, <Level.BLOCK: 'block'>]
    >>> level_from_code("S-R1-B1-G1"), level_from_code("A-B-C-D-E"), level_from_code("")
    (<Level.BUILDING_GROUP: 'building_group'>, None, None)
    """
    parts = code_segments(code)
    if parts is None or len(parts) > len(_ORDER):
        return None
    return _ORDER[len(parts) - 1]


def parent_from_code(code: str) -> str | None:
    """The parent's code by the same rule (the code without its last segment), or None.

    >>> parent_from_code("310105004001-01-03"), parent_from_code("310105004001")
    ('310105004001-01', '310105004')
    >>> parent_from_code("310105004") is None, parent_from_code("S_R1")
    (True, 'S')
    """
    parts = code_segments(code)
    if parts is None or len(parts) < 2:
        return None
    text = code.strip()
    if len(parts) == 2 and text.isdigit():  # a 12-digit committee code: its street
        return text[:_STREET_DIGITS]
    cut = [m.start() for m in _SEPARATORS.finditer(text)]
    return text[: cut[-1]] if cut else None


@dataclass
class LevelPreview:
    """What the rule makes of a file's codes: counts per level, examples, unreadable codes."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    underivable: list[str] = field(default_factory=list)
    underivable_count: int = 0

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict.

        >>> preview_levels(["310105004", "310105004001", "x-y-z-w-v"]).to_dict()["counts"]
        {'street': 1, 'residential_area': 1}
        """
        return {
            "rule": "code_pattern",
            "counts": self.counts,
            "examples": self.examples,
            "underivable": self.underivable,
            "underivable_count": self.underivable_count,
        }


def preview_levels(codes: Iterable[str], examples: int = 3) -> LevelPreview:
    """Apply the rule to every code; keep counts per level and a few example codes.

    >>> preview_levels(["S", "S-R1", "S-R2", "S-R1-B1"]).counts
    {'street': 1, 'residential_area': 2, 'block': 1}
    """
    counts: Counter[Level] = Counter()
    preview = LevelPreview()
    for code in codes:
        level = level_from_code(code) if code else None
        if level is None:
            preview.underivable_count += 1
            if len(preview.underivable) < examples:
                preview.underivable.append(code)
            continue
        counts[level] += 1
        shown = preview.examples.setdefault(level.value, [])
        if len(shown) < examples:
            shown.append(code)
    preview.counts = {level.value: counts[level] for level in _ORDER if counts[level]}
    preview.examples = {k: preview.examples[k] for k in preview.counts}
    return preview
