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

    Letters: the name's initials from their start, or exactly a keyword's (0: the term the
    desk has in mind); a keyword's from their start (1); anywhere in the name's (2) or a
    keyword's (3) initials; in the English name (4). Anything else: the code from its start
    (0), the Chinese name (1) or a keyword (2) containing it.

    >>> score("湿垃圾堆肥", [], "S06-09", "ljdf")
    2
    >>> score("生活垃圾堆积、清运不及时", ["垃圾堆放"], "A01-01", "LJDF")
    0
    >>> score("邻里纠纷", [], "A07-02", "ljdf") is None
    True
    """
    q = q.strip().lower()
    if not q:
        return None
    words = [str(k) for k in keywords]
    if re.fullmatch(r"[a-z]+", q):
        name, terms = initials(name_zh), [initials(k) for k in words]
        ranks = (
            (0, name.startswith(q) or q in terms),
            (1, any(t.startswith(q) for t in terms)),
            (2, q in name),
            (3, any(q in t for t in terms)),
            (4, q in name_en.lower()),
        )
        return next((rank for rank, hit in ranks if hit), None)
    if code.lower().startswith(q):
        return 0
    if q in name_zh.lower():
        return 1
    return 2 if any(q in k.lower() for k in words) else None
