"""Finding a catalogue item by typing: pinyin initials anywhere in its name or keywords, or text.

One rule for the office intake form (`server.cases.lookups.catalogue`) and the worker app: the
phone gets each item's `search_initials` (server/fieldsync/wire.py) and matches it the same way
(pwa/js/screens/report.js: `includes`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

_LETTERS = re.compile(r"[^a-z]")


def initials(text: str) -> str:
    """First letters of each syllable, letters only (punctuation dropped): 垃圾堆放 → ljdf.

    >>> initials("生活垃圾堆积、清运不及时")
    'shljdjqybjs'
    """
    return _initials(text)


@lru_cache(maxsize=8192)
def _initials(text: str) -> str:
    return _LETTERS.sub("", "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).lower())


@lru_cache(maxsize=4096)
def _search_initials(name_zh: str, keywords: tuple[str, ...]) -> str:
    return " ".join(dict.fromkeys(i for i in map(initials, (name_zh, *keywords)) if i))


def search_initials(name_zh: str, keywords: Iterable[object] = ()) -> str:
    """The name's initials, then each keyword's, space-separated (what a query is found in).

    >>> search_initials("生活垃圾堆积、清运不及时", ["垃圾堆放", "清运"])
    'shljdjqybjs ljdf qy'
    """
    return _search_initials(name_zh, tuple(str(k) for k in keywords))


def score(
    name_zh: str, keywords: Iterable[object], code: str, q: str, name_en: str = ""
) -> int | None:
    """How well `q` matches (lower is better), or None for no match.

    Letters: the name's initials from their start (0), anywhere in the name's initials (1),
    in a keyword's initials (2), in the English name (3). Anything else: the code from its
    start (0), the Chinese name (1) or a keyword (2) containing it.

    >>> score("湿垃圾堆肥", [], "S06-09", "ljdf")
    1
    >>> score("生活垃圾堆积、清运不及时", ["垃圾堆放"], "A01-01", "LJDF")
    2
    >>> score("邻里纠纷", [], "A07-02", "ljdf") is None
    True
    """
    q = q.strip().lower()
    if not q:
        return None
    words = [str(k) for k in keywords]
    if re.fullmatch(r"[a-z]+", q):
        name = initials(name_zh)
        if name.startswith(q):
            return 0
        if q in name:
            return 1
        if any(q in initials(k) for k in words):
            return 2
        return 3 if q in name_en.lower() else None
    if code.lower().startswith(q):
        return 0
    if q in name_zh.lower():
        return 1
    return 2 if any(q in k.lower() for k in words) else None
