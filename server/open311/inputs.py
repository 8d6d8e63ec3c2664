"""Parse and check the form of `POST requests` and the filters of `GET requests`.

Plain values in, plain values out: the view hands over the form as `{name: [values]}`, so
repeated keys are seen (and refused) rather than silently collapsed to the first one.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from server.exceptions import InvalidInput
from server.locations import point_from_text
from server.params import in_calendar

MAX_DESCRIPTION = 4000  # the spec's limit
MAX_FIELD = 200
MAX_TEXT_ANSWER = 4000
MAX_LIST_IDS = 100
WINDOW = dt.timedelta(days=90)

_TAG = re.compile(r"<[^>]*>")
# C0/C1 controls except tab and newline: never stored (they break XML 1.0 and terminals).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,30}$")

KNOWN_FIELDS = frozenset(
    {
        "api_key",
        "jurisdiction_id",
        "service_code",
        "lat",
        "long",
        "address_string",
        "address_id",
        "email",
        "device_id",
        "account_id",
        "first_name",
        "last_name",
        "phone",
        "description",
        "media_url",
    }
)


def clean_text(value: str, *, limit: int, name: str) -> str:
    """Text without HTML tags or control characters, trimmed; refused past `limit`."""
    text = _CONTROLS.sub("", _TAG.sub("", value)).strip()
    if len(text) > limit:
        raise InvalidInput(_l("This text is too long."), field=name, details={"max": limit})
    return text


def single(form: dict[str, list[str]], name: str) -> str:
    """The one value of `name` ("" when absent or empty: the spec treats empty as absent)."""
    values = form.get(name, [])
    if len(values) > 1:
        raise InvalidInput(_l("This parameter was given more than once."), field=name)
    return values[0].strip() if values else ""


def coordinate(text: str, name: str, low: float, high: float) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(_l("Not a number."), field=name) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidInput(_l("Out of range."), field=name)
    return value


@dataclass(frozen=True)
class NewRequest:
    """A checked `POST requests` form (answers are checked against the item later)."""

    service_code: str
    lon: float | None
    lat: float | None
    address_string: str
    description: str
    caller_name: str
    caller_phone: str
    media_url: str
    account_id: str
    device_id: str
    answers: dict[str, list[str]] = field(default_factory=dict)


def parse_new_request(form: dict[str, list[str]]) -> NewRequest:
    """Check the form's shape; raises InvalidInput naming the first field at fault."""
    answers: dict[str, list[str]] = {}
    for name, values in form.items():
        match = _ATTRIBUTE.match(name)
        if match:
            code, is_list = match.group(1), bool(match.group(2))
            if code in answers or (not is_list and len(values) > 1):
                raise InvalidInput(_l("This parameter was given more than once."), field=name)
            answers[code] = [v for v in values if v.strip()]
        elif name not in KNOWN_FIELDS:
            raise InvalidInput(_l("Unknown parameter."), field=name[:80])
    code = single(form, "service_code")
    if not code:
        raise InvalidInput(_l("service_code is required."), field="service_code")
    point = point_from_text(single(form, "long"), single(form, "lat"), lon_field="long")
    lon, lat = point if point else (None, None)
    address = clean_text(single(form, "address_string"), limit=MAX_FIELD, name="address_string")
    if lat is None and not address:
        if single(form, "address_id"):
            raise InvalidInput(
                _l("address_id is not supported here: send lat and long, or address_string."),
                field="address_id",
            )
        raise InvalidInput(
            _l("A location is required: lat and long, or address_string."), field="lat"
        )
    phone = single(form, "phone")
    if phone and not _PHONE.match(phone):
        raise InvalidInput(_l("Not a phone number."), field="phone")
    media_url = single(form, "media_url")
    if media_url and (len(media_url) > 500 or not re.match(r"^https?://[^\s<>\"]+$", media_url)):
        raise InvalidInput(_l("media_url must be an http(s) URL."), field="media_url")
    name = " ".join(
        clean_text(single(form, f), limit=30, name=f) for f in ("last_name", "first_name")
    ).strip()
    single(form, "email")  # accepted and dropped: we do not mail residents (docs/open311.md)
    return NewRequest(
        service_code=code[:32],
        lon=lon,
        lat=lat,
        address_string=address,
        description=clean_text(
            single(form, "description"), limit=MAX_DESCRIPTION, name="description"
        ),
        caller_name=name,
        caller_phone=phone.replace(" ", "").replace("-", ""),
        media_url=media_url,
        account_id=clean_text(single(form, "account_id"), limit=64, name="account_id"),
        device_id=clean_text(single(form, "device_id"), limit=64, name="device_id"),
        answers=answers,
    )


def check_answers(questions: list[dict[str, Any]], answers: dict[str, list[str]]) -> dict[str, Any]:
    """Answers checked against the item's questions: types, list keys, required ones.

    Returns {code: value} with numbers as numbers and lists as lists.
    """
    by_code = {q["code"]: q for q in questions}
    checked: dict[str, Any] = {}
    for code, values in answers.items():
        question = by_code.get(code)
        name = f"attribute[{code[:64]}]"
        if question is None:
            raise InvalidInput(_l("This service has no such attribute."), field=name)
        if values:
            checked[code] = _answer(question, values, name)
    for question in questions:
        if question.get("required") and question["code"] not in checked:
            raise InvalidInput(
                _l("This attribute is required."), field=f"attribute[{question['code']}]"
            )
    return checked


def _answer(question: dict[str, Any], values: list[str], name: str) -> Any:
    datatype = question.get("datatype", "string")
    keys = {v["key"] for v in question.get("values", [])}
    if datatype == "multivaluelist":
        if any(v not in keys for v in values):
            raise InvalidInput(_l("Not one of the listed values."), field=name)
        return list(dict.fromkeys(values))
    if len(values) > 1:
        raise InvalidInput(_l("This attribute takes one value."), field=name)
    value = values[0].strip()
    if datatype == "singlevaluelist":
        if value not in keys:
            raise InvalidInput(_l("Not one of the listed values."), field=name)
        return value
    if datatype == "number":
        number = coordinate(value, name, -1e12, 1e12)
        return int(number) if number is not None and number.is_integer() else number
    if datatype == "datetime":
        return parse_time(value, name, ZoneInfo("UTC")).isoformat()
    limit = MAX_TEXT_ANSWER if datatype == "text" else MAX_FIELD
    return clean_text(value, limit=limit, name=name)


def parse_time(text: str, name: str, zone: ZoneInfo) -> dt.datetime:
    """A W3C date-time; without an offset it is read in `zone` (lenient: many clients do it)."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            _l("Not a date and time (e.g. 2026-11-01T00:00:00+08:00)."), field=name
        ) from None
    if not in_calendar(value):  # 0001-01-01 or 9999-12-31: a window around it overflows
        raise InvalidInput(
            _l("Not a date and time between 1900 and 2100."), code="invalid_datetime", field=name
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


@dataclass(frozen=True)
class RequestFilter:
    """`GET requests` filters: ids override everything else."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: frozenset[str] = frozenset()
    page: int = 1
    page_size: int = 1000


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))


def _positive(text: str, name: str, default: int, high: int) -> int:
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise InvalidInput(_l("Out of range."), field=name, details={"min": 1, "max": high})
    return int(text)


def parse_filter(args: dict[str, list[str]], *, now: dt.datetime, zone: ZoneInfo) -> RequestFilter:
    """Filters with the spec's defaults: the last 90 days, at most 90 days, at most 1000 rows."""
    ids = _comma_list(single(args, "service_request_id"))
    if len(ids) > MAX_LIST_IDS:
        raise InvalidInput(_l("Too many ids."), field="service_request_id")
    page = _positive(single(args, "page"), "page", 1, 100_000)
    page_size = _positive(single(args, "page_size"), "page_size", 1000, 1000)
    if ids:
        return RequestFilter(ids=ids, page=page, page_size=page_size)
    statuses = frozenset(_comma_list(single(args, "status")))
    if statuses - {"open", "closed"}:
        raise InvalidInput(_l("status is open, closed or both."), field="status")
    start_text, end_text = single(args, "start_date"), single(args, "end_date")
    start = parse_time(start_text, "start_date", zone) if start_text else None
    end = parse_time(end_text, "end_date", zone) if end_text else None
    if start is None and end is None:
        end = now
    if start is None:
        start = end - WINDOW  # type: ignore[operator]
    if end is None:
        end = start + WINDOW
    if end < start:
        raise InvalidInput(_l("end_date is before start_date."), field="end_date")
    if end - start > WINDOW:
        raise InvalidInput(_l("The date range may span at most 90 days."), field="end_date")
    return RequestFilter(
        service_codes=_comma_list(single(args, "service_code")),
        start=start,
        end=end,
        statuses=statuses,
        page=page,
        page_size=page_size,
    )
