"""Free-text 人员类别 → care tags: the office's table, seeded with the words files use.

Every 居委会 writes categories its own way (孤老, 独居, 纯老户, 残疾人/持证残疾 …). The
table maps each normalised text to a care tag, or to nothing (known, deliberately no tag);
care tags' own codes and Chinese names always match. Unknown texts are reported, never
guessed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit.operations import AccessContext, record
from server.exceptions import InvalidInput
from server.imports.models import CategoryMapping
from server.population.models import CareTag
from sync.db import utcnow

SEPARATORS = re.compile(r"[、,，;；/／|\s]+")
NOTES = re.compile(r"[(\[【][^)\]】]*[)\]】]")
SPACES = re.compile(r"\s+")

#: The shipped defaults (an office edits them: `flask register categories set TEXT TAG`).
DEFAULTS: dict[str, str | None] = {
    "独居": "living_alone",
    "独居老人": "living_alone",
    "孤老": "living_alone",
    "孤寡老人": "living_alone",
    "纯老": "elderly_only_household",
    "纯老户": "elderly_only_household",
    "纯老家庭": "elderly_only_household",
    "高龄": "aged_80_plus",
    "高龄老人": "aged_80_plus",
    "80岁以上": "aged_80_plus",
    "空巢": "empty_nest",
    "空巢老人": "empty_nest",
    "认知障碍": "cognitive_impairment",
    "失智老人": "cognitive_impairment",
    "残疾": "disability",
    "残疾人": "disability",
    "持证残疾人": "disability",
    "低保": "low_income",
    "低保户": "low_income",
    "低收入": "low_income",
    "低收入家庭": "low_income",
    "困难家庭": "low_income",
    "困境儿童": "child_in_difficulty",
    "大病": "serious_illness",
    "重病": "serious_illness",
    "大病重病": "serious_illness",
    "失独家庭": "family_planning_special",
    "计生特殊家庭": "family_planning_special",
    "计划生育特殊家庭": "family_planning_special",
    "优抚对象": "entitled_groups",
    "重点优抚对象": "entitled_groups",
    # Known words that are not care groups: no tag, and no warning either.
    "一般": None,
    "普通": None,
    "无": None,
    "常住人口": None,
    "户籍人口": None,
    "来沪人员": None,
    "人户分离": None,
}


@lru_cache(maxsize=4096)  # a few dozen distinct texts in a whole register
def normalise(text: str) -> str:
    """A category as compared: half-width, no spaces or brackets' notes.

    >>> normalise(" 独居老人（80岁以上） ")
    '独居老人'
    """
    text = unicodedata.normalize("NFKC", text or "")
    return SPACES.sub("", NOTES.sub("", text))


@lru_cache(maxsize=4096)
def split(text: str) -> tuple[str, ...]:
    """Several categories in one cell.

    >>> split("独居老人、残疾人 / 低保")
    ('独居老人', '残疾人', '低保')
    """
    return tuple(normalise(part) for part in SEPARATORS.split(text or "") if normalise(part))


def lookup_table(session: Session) -> dict[str, str | None]:
    """Every text a category cell may hold → tag code (None: known, no tag)."""
    table: dict[str, str | None] = {}
    for tag in session.scalars(select(CareTag)):
        for text in (tag.code, tag.name_zh, normalise(tag.name_zh), tag.name_en):
            table[normalise(text).lower()] = tag.code
    for text, code in session.execute(select(CategoryMapping.text, CategoryMapping.tag_code)):
        table[text.lower()] = code
    return table


def set_mapping(session: Session, text: str, tag_code: str | None, *, actor_id: int | None) -> None:
    """Map a text to a tag (or to no tag); refuse an unknown tag."""
    key = normalise(text)
    if not key or len(key) > 60:
        raise InvalidInput(_l("Write the category text (at most 60 characters)."), field="text")
    if tag_code and session.get(CareTag, tag_code) is None:
        raise InvalidInput(_l("No care tag %(code)s.", code=tag_code), field="tag_code")
    row = session.scalar(select(CategoryMapping).where(CategoryMapping.text == key))
    if row is None:
        row = CategoryMapping(text=key)
        session.add(row)
    row.tag_code, row.updated_by_id, row.updated_at = tag_code or None, actor_id, utcnow()
    session.flush()
    record(
        session,
        AccessContext(actor_id),
        action="update",
        subject_type="category_mapping",
        subject_id=row.id,
        fields=["tag_code"],
        detail={"text": key, "tag_code": tag_code},
    )


def load_defaults(session: Session) -> int:
    """Add the shipped texts the table lacks (an office's own edits are kept); count added."""
    known = set(session.scalars(select(CategoryMapping.text)))
    tags = set(session.scalars(select(CareTag.code)))
    added = [
        CategoryMapping(text=text, tag_code=code)
        for text, code in DEFAULTS.items()
        if text not in known and (code is None or code in tags)
    ]
    session.add_all(added)
    session.flush()
    return len(added)
