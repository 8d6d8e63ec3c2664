"""Chinese resident identity numbers (公民身份号码, GB 11643-1999): check digit, birth date, sex.

Plain functions, no Flask: the register import checks every row with them, and the register
pages (search by the last digits) use ``tail``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
CHECK_CHARS = "10X98765432"  # index: weighted sum mod 11
TAIL_LENGTH = 4  # the office searches by the last four characters (…123X)


class IdNumberError(ValueError):
    """Why a string is not a valid identity number; ``rule`` is a register rule code."""

    def __init__(self, rule: str, detail: str = "") -> None:
        super().__init__(rule)
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A checked 18-character number, with what it says about its holder."""

    number: str
    birth_date: dt.date
    sex: str  # "M" | "F": the 17th digit is odd for men
    upgraded_from_15: bool = False

    @property
    def tail(self) -> str:
        return self.number[-TAIL_LENGTH:]


def check_char(first17: str) -> str:
    """The 18th character of a number whose first 17 digits are given.

    >>> check_char("11010519491231002")
    'X'
    """
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def clean(text: str) -> str:
    """Spaces and full-width characters out, a lower-case x up.

    >>> clean(" １１０１０５ 19491231002x ")
    '11010519491231002X'
    """
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text)).upper()


def parse_id_number(text: str, *, today: dt.date | None = None) -> IdNumber:
    """Check a number and read birth date and sex; raise IdNumberError naming the rule.

    Old 15-digit numbers (issued before 1999: YYMMDD, no check digit) are upgraded to 18.

    >>> parse_id_number("11010519491231002X").sex, parse_id_number("11010519491231002X").birth_date
    ('F', datetime.date(1949, 12, 31))
    >>> parse_id_number("110105491231002").number
    '11010519491231002X'
    >>> parse_id_number("110105194912310021")
    Traceback (most recent call last):
    ...
    server.population.idnumbers.IdNumberError: id_check_digit
    """
    number = clean(text)
    upgraded = False
    if re.fullmatch(r"\d{15}", number):
        first17 = f"{number[:6]}19{number[6:]}"
        number, upgraded = first17 + check_char(first17), True
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise IdNumberError("id_format", number)
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("id_birth_date", number[6:14]) from None
    if born.year < 1880 or (today is not None and born > today):
        raise IdNumberError("id_birth_date", number[6:14])
    if not upgraded and number[17] != check_char(number[:17]):
        raise IdNumberError("id_check_digit", number[17])
    return IdNumber(number, born, "M" if int(number[16]) % 2 else "F", upgraded)


def tail(text: str) -> str:
    """The last characters the office types to find someone ("123x" → "123X").

    >>> tail("11010519491231002x")
    '002X'
    """
    return clean(text)[-TAIL_LENGTH:]


def masked(number: str) -> str:
    """What a page (or an import report) shows: the first and last characters only.

    >>> masked("11010519491231002X"), masked("12345")
    ('1*************002X', '*****')
    """
    if len(number) <= TAIL_LENGTH + 2:
        return "*" * len(number)
    return number[:1] + "*" * (len(number) - 1 - TAIL_LENGTH) + number[-TAIL_LENGTH:]
