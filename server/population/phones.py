"""Phone numbers as register files write them, normalised to one form.

Mobiles become 11 digits (13912345678); landlines keep their area code with a dash
(021-62345678); a Shanghai landline written without its area code gets 021. Plain functions.
"""

from __future__ import annotations

import re
import unicodedata

MOBILE = re.compile(r"1[3-9]\d{9}")
SEPARATORS = re.compile(r"[/／;；,，、]|\s{2,}")


class PhoneError(ValueError):
    """The text holds no phone number we can read."""


def split_phones(text: str) -> list[str]:
    """Several numbers in one cell ("139…/021-6…"), in order.

    >>> split_phones("13912345678 / 62345678")
    ['13912345678', '62345678']
    """
    return [part.strip() for part in SEPARATORS.split(text or "") if part.strip()]


def normalise_phone(text: str, *, default_area: str = "021") -> str:
    """One number in its stored form; raise PhoneError when it is not a phone number.

    >>> normalise_phone("+86 139-1234-5678")
    '13912345678'
    >>> normalise_phone("(021)6234 5678")
    '021-62345678'
    >>> normalise_phone("62345678")
    '021-62345678'
    >>> normalise_phone("12345")
    Traceback (most recent call last):
    ...
    server.population.phones.PhoneError: 12345
    """
    raw = unicodedata.normalize("NFKC", text or "").strip()
    extension = ""
    found = re.search(r"(?:转|ext\.?|x)\s*(\d{1,6})$", raw, flags=re.IGNORECASE)
    if found:
        extension, raw = f"-{found.group(1)}", raw[: found.start()]
    digits = re.sub(r"[\s\-()（）.+]", "", raw)
    if not digits.isdigit():
        raise PhoneError(text)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (11, 10, 12):
            digits = digits[len(prefix) :]
            break
    if MOBILE.fullmatch(digits):
        return digits
    if re.fullmatch(r"0\d{2,3}\d{7,8}", digits):
        area_len = 3 if digits[:2] in ("01", "02") else 4
        return f"{digits[:area_len]}-{digits[area_len:]}{extension}"
    if re.fullmatch(r"[2-9]\d{7}", digits):
        return f"{default_area}-{digits}{extension}"
    raise PhoneError(text)
