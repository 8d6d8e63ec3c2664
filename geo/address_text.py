"""Chinese street addresses as text: normalised, parsed into road/lane/number/room, keyed.

Register files and address lists spell one door many ways: full-width digits (３２９),
spaces, 「上海市长宁区」 in front or not, 幢/栋/号楼 for 号, 12-302 for 12号302室, Chinese
numerals (三二九弄), a floor (3楼) between building and flat. Two spellings of the same door
give the same ``AddressKey``; its ``building_key()`` is what register rows are matched on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Administrative prefixes dropped before parsing: city, district, subdistrict, committee.
_PREFIX = re.compile(
    r"^(?:中国)?(?:上海市?|[^\d路街巷弄号]{1,6}?市)?(?:[^\d路街巷弄号]{1,6}?区)?"
    # 新华路街道 holds a road's name; 法华镇路 is a road, not a town (镇) in front of 路.
    r"(?:[^\d]{1,8}?街道|[^\d路街巷弄号]{1,6}?镇(?![路街巷道\d]))?"
    r"(?:[^\d路街巷弄号]{1,8}?居委会?)?"
)
_NOISE = re.compile(r"[\s,，、。·.;；:：'\"“”‘’()（）\[\]【】<>《》]+")
_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[〇零一二两三四五六七八九十百]+(?=支弄|弄|号|幢|栋|座|室|楼|层)")
# Unit words: what each spelling means.
_BUILDING_WORDS = re.compile(r"(\d+[A-Za-z]?)(?:号楼|号|幢|栋|座)")
_PARSE = re.compile(
    # A road ends in 路/街/巷 …; files that drop the 路 (新华329弄) give the text before the digits.
    r"^(?P<road>.*?(?:大道|公路|路|街|巷|村|浜|坊|里)|[^\d]+?)?"
    r"(?:(?P<lane>\d+)弄)?"
    r"(?:(?P<sublane>\d+)支弄)?"
    r"(?:(?P<number>\d+[A-Za-z]?)号)?"
    r"(?:(?:\d+)(?:楼|层)(?=\d|$))?"  # a floor before the flat (3楼302室), or alone
    r"(?:-?(?P<room>\d+[A-Za-z]?)(?:室|房)?)?$"
)


def _cn_to_int(text: str) -> int:
    """Chinese numerals as written on doors: 三二九 → 329, 二十一 → 21, 一百零五 → 105."""
    if "十" not in text and "百" not in text:
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    total, current = 0, 0
    for char in text:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_DIGITS[char]
    return total + current


@lru_cache(maxsize=1 << 16)  # a register repeats each address once per household member
def normalise(text: str) -> str:
    """The address as one canonical string: half-width, no spaces or punctuation, no city or
    district in front, Chinese numerals as digits, 幢/栋/号楼 as 号, a dash as 号…室.

    >>> normalise("上海市长宁区新华路 ３２９弄 12号楼 302室")
    '新华路329弄12号302室'
    >>> normalise("新华路三二九弄十二幢3楼302")
    '新华路329弄12号3楼302'
    >>> normalise("新华路329弄12-302")
    '新华路329弄12号302'
    """
    text = unicodedata.normalize("NFKC", text or "")
    text = _NOISE.sub("", text)
    text = text.replace("—", "-").replace("－", "-").replace("_", "-")
    text = _PREFIX.sub("", text, count=1)
    text = _CN_NUMBER.sub(lambda m: str(_cn_to_int(m.group(0))), text)
    text = _BUILDING_WORDS.sub(r"\1号", text)
    # 12-302 / 12号-302: building then flat.
    text = re.sub(r"(\d+[A-Za-z]?)号?-(\d+[A-Za-z]?)(?:室|房)?$", r"\1号\2", text)
    text = re.sub(r"号(\d+[A-Za-z]?)(?:室|房)$", r"号\1室", text)
    text = text.upper() if re.search(r"\d[a-z]", text) else text
    return unicodedata.normalize("NFKC", text)  # removals may leave combinable neighbours


@dataclass(frozen=True, slots=True)
class AddressKey:
    """The parts of an address that identify a door; empty strings for parts not given."""

    road: str
    lane: str = ""
    sublane: str = ""
    number: str = ""
    room: str = ""

    def building_key(self) -> str:
        """Road, lane, sub-lane and number: what a standard address (门牌) names.

        >>> parse("新华路329弄12号302室").building_key()
        '新华路|329||12'
        """
        return "|".join((self.road, self.lane, self.sublane, self.number))

    def text(self) -> str:
        """The address written the standard way.

        >>> parse("新华路 329 弄 5 支弄 12 号 302").text()
        '新华路329弄5支弄12号302室'
        """
        parts = [self.road]
        parts += [f"{self.lane}弄"] if self.lane else []
        parts += [f"{self.sublane}支弄"] if self.sublane else []
        parts += [f"{self.number}号"] if self.number else []
        parts += [f"{self.room}室"] if self.room else []
        return "".join(parts)


@lru_cache(maxsize=1 << 16)
def parse(text: str) -> AddressKey | None:
    """Parse an address into its parts, or None when no road and number can be told apart.

    >>> parse("长宁区新华路329号")
    AddressKey(road='新华路', lane='', sublane='', number='329', room='')
    >>> parse("新华路329弄12号3楼302室").room, parse("新华路329弄12号3楼").number
    ('302', '12')
    >>> parse("随便写的") is None
    True
    """
    canonical = normalise(text)
    match = _PARSE.match(canonical)
    if match is None or not match.group("road"):
        return None
    lane, sublane = match.group("lane") or "", match.group("sublane") or ""
    number, room = match.group("number") or "", match.group("room") or ""
    if not number and not lane:
        return None
    if not number and room and not canonical.endswith(("室", "房")):
        number, room = room, ""  # 新华路329弄12: the last number is the building's
    return AddressKey(
        match.group("road"),
        lane.lstrip("0") or lane,
        sublane.lstrip("0") or sublane,
        number.lstrip("0") or number,
        room,
    )


def building_key(text: str) -> str | None:
    """The building key of an address text, or None when it cannot be parsed.

    >>> building_key("新华路３２９弄１２幢") == building_key("上海市新华路329弄12号302室")
    True
    """
    key = parse(text)
    return key.building_key() if key else None
