"""marshmallow schemas of the sync API: the push envelope, one schema per mutation, pulls."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from server.cases.operations import EDITABLE_FIELDS
from server.enums import CaseStatus, Priority
from server.locations import WholePointSchema
from sync.ids import canonical_id, parse_id
from sync.text import is_storable_text

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="a lower-case hex SHA-256")
MAX_BATCH = 2000

# Every argument is checked against what its column holds and what the pages can show, so a
# value out of range is rejected here (INVALID_ARGS naming the field) rather than failing in
# the database; the engine still isolates anything that slips through (sync/engine.py).

#: Device times outside [EARLIEST, LATEST) are no clock's: a dead clock battery gives 1970 or
#: 1980, a 32-bit overflow 1901. The margins keep every local-time sum (+14 h, a year ahead)
#: inside Python's calendar, which year 1 at +08:00 or 9999-12-31 at -14:00 would leave.
EARLIEST_DEVICE_TIME = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST_DEVICE_TIME = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
#: Half the Earth's circumference: no position is vaguer than that.
MAX_ACCURACY_M = 20_000_000.0
#: A visit's residents seen and a report's photos (generous: a dormitory, a long patrol).
MAX_RESIDENTS_SEEN = 500
MAX_PHOTOS = 100


def plausible_device_time(value: dt.datetime) -> bool:
    """Whether an aware device time is one a phone clock can mean (see EARLIEST_DEVICE_TIME).

    >>> plausible_device_time(dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    True
    >>> plausible_device_time(dt.datetime.fromisoformat("0001-01-01T00:00:00+08:00"))
    False
    """
    return EARLIEST_DEVICE_TIME <= value < LATEST_DEVICE_TIME


def first_error_field(messages: Any) -> str | None:
    """The dotted path of the first field marshmallow complains about ("_schema" for the
    arguments as a whole), for a rejection's `details.field`.

    >>> first_error_field({"changes": {"title": ["Longer than maximum length 200."]}})
    'changes.title'
    >>> first_error_field({"residents_seen": {3: ["Not a valid UUID."]}})
    'residents_seen.3'
    """
    path: list[str] = []
    while isinstance(messages, dict) and messages:
        key = next(iter(messages))
        path.append(str(key))
        messages = messages[key]
    return ".".join(path) or None


def _lon() -> fields.Float:
    return fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))


def _lat() -> fields.Float:
    return fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))


def _accuracy() -> fields.Float:
    return fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(0, MAX_ACCURACY_M)
    )


def _text(max_len: int, **kwargs: Any) -> fields.String:
    kwargs.setdefault("load_default", "")
    return fields.String(validate=validate.Length(max=max_len), **kwargs)


def _device_time() -> fields.AwareDateTime:
    return fields.AwareDateTime(
        default_timezone=dt.UTC,
        load_default=None,
        allow_none=True,
        validate=validate.Range(
            EARLIEST_DEVICE_TIME,
            LATEST_DEVICE_TIME,
            max_inclusive=False,
            error="a time from 1900 to 2199 (UTC)",
        ),
    )


# --- the envelope -------------------------------------------------------------------------


class MutationSchema(Schema):
    """One outbox entry. Only the envelope is checked here; `args` are checked per name, so
    one bad record is rejected on its own instead of failing the whole batch."""

    seq = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    op_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=40))
    args = fields.Dict(required=True)
    # Kept as text: a garbled device time is stored as unknown, never a reason to refuse.
    recorded_at_device = fields.String(load_default=None, allow_none=True)
    base_version = fields.Integer(load_default=None, allow_none=True, strict=True)


class _FastNested(fields.Nested):
    """`Nested` that tries a hand-written loader first (see `fast_loader`)."""

    def __init__(self, nested: type[Schema], fast: Callable[[Any], Any], **kwargs: Any) -> None:
        super().__init__(nested, **kwargs)
        self._fast = fast

    def _load(self, value: Any, partial: Any = None) -> Any:
        loaded = self._fast(value) if partial is None else None
        return loaded if loaded is not None else super()._load(value, partial)


class _FastList(fields.List):
    """`List` of `_FastNested` that loads a list of plain entries in one pass of the
    hand-written loader (marshmallow's per-item field machinery costs ~1.5 µs an entry); any
    entry it does not answer sends the whole list through `List` for its verdict."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        inner = self.inner
        if type(value) is list and isinstance(inner, _FastNested) and not kwargs.get("partial"):
            fast = inner._fast
            loaded = [fast(item) for item in value]
            if None not in loaded:
                return loaded
        return super()._deserialize(value, attr, data, **kwargs)


class PushSchema(Schema):
    device_id = fields.UUID(required=True)
    schema_version = fields.Integer(required=True, strict=True)
    device_now = fields.String(load_default=None, allow_none=True)
    mutations = _FastList(
        _FastNested(MutationSchema, lambda raw: fast_mutation(raw)),
        required=True,
        validate=validate.Length(max=MAX_BATCH),
    )


class PullArgsSchema(Schema):
    cursor = fields.String(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=5000))


class ResolveConflictSchema(Schema):
    choice = fields.String(
        required=True, validate=validate.OneOf(["earlier", "later", "acknowledged"])
    )
    note = _text(1000)


class ConflictListArgsSchema(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "all"]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


# --- one schema per mutation ----------------------------------------------------------------


class _Args(Schema):
    class Meta:
        unknown = RAISE


class _PointArgs(_Args, WholePointSchema):
    """Arguments carrying a location: `lon` and `lat` make a whole point or are both absent."""


class VisitCreateArgs(_PointArgs):
    id = fields.UUID(required=True)
    household_id = fields.UUID(required=True)
    visited_at = _device_time()
    outcome = fields.String(
        load_default="met", validate=validate.OneOf(["met", "not_home", "refused"])
    )
    residents_seen = fields.List(
        fields.UUID(), load_default=list, validate=validate.Length(max=MAX_RESIDENTS_SEEN)
    )
    situation = _text(4000)
    needs = _text(4000)
    follow_up = _text(4000)
    lon = _lon()
    lat = _lat()
    accuracy_m = _accuracy()
    corrects_visit_id = fields.UUID(load_default=None, allow_none=True)
    case_id = fields.UUID(load_default=None, allow_none=True)


class CaseReportArgs(_PointArgs):
    id = fields.UUID(required=True)
    title = _text(200)
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    address = _text(200)
    catalogue_code = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=64)
    )
    priority = fields.String(
        load_default=Priority.NORMAL.value, validate=validate.OneOf([p.value for p in Priority])
    )
    lon = _lon()
    lat = _lat()
    accuracy_m = _accuracy()
    photos = fields.List(
        fields.String(validate=SHA256), load_default=list, validate=validate.Length(max=MAX_PHOTOS)
    )
    #: The household visit that found it ("转为案件"): channel `visit`, never public.
    visit_id = fields.UUID(load_default=None, allow_none=True)


class CaseNoteArgs(_Args):
    id = fields.UUID(required=True)
    case_id = fields.UUID(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class PhotoAttachArgs(_PointArgs):
    sha256 = fields.String(required=True, validate=SHA256)
    case_id = fields.UUID(load_default=None, allow_none=True)
    visit_id = fields.UUID(load_default=None, allow_none=True)
    purpose = fields.String(
        load_default="report", validate=validate.OneOf(["report", "result", "check"])
    )
    lon = _lon()
    lat = _lat()
    accuracy_m = _accuracy()
    captured_at_device = _device_time()

    @validates_schema
    def _one_target(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("case_id") is None) == (data.get("visit_id") is None):
            raise ValidationError("name exactly one of case_id and visit_id")


class CaseFieldsSchema(_Args):
    title = fields.String(validate=validate.Length(max=200))
    description = fields.String(validate=validate.Length(max=4000))
    address = fields.String(validate=validate.Length(max=200))
    priority = fields.String(validate=validate.OneOf([p.value for p in Priority]))


assert set(CaseFieldsSchema().fields) == set(EDITABLE_FIELDS)


class CaseSetFieldsArgs(_Args):
    case_id = fields.UUID(required=True)
    changes = fields.Nested(CaseFieldsSchema, required=True)

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("changes"):
            raise ValidationError("no field to change", "changes")


_STATUSES = [s.value for s in CaseStatus]


class CaseTransitionArgs(_Args):
    case_id = fields.UUID(required=True)
    from_status = fields.String(required=True, data_key="from", validate=validate.OneOf(_STATUSES))
    to_status = fields.String(required=True, data_key="to", validate=validate.OneOf(_STATUSES))
    note = _text(4000)


#: A form answer's values: at most one per question of the largest form (server/forms/).
MAX_ANSWER_VALUES = 300


class FormAnswerArgs(_Args):
    """A filled-in form (docs/sync-protocol.md §form.answer): about a campaign's target
    (campaign_id and target_id) or a visit (visit_id, household_id, maybe resident_id)."""

    id = fields.UUID(required=True)
    form_version_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    campaign_id = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 2**31 - 1)
    )
    target_id = fields.UUID(load_default=None, allow_none=True)
    visit_id = fields.UUID(load_default=None, allow_none=True)
    household_id = fields.UUID(load_default=None, allow_none=True)
    resident_id = fields.UUID(load_default=None, allow_none=True)
    #: Question name → answer; checked against the named version by the handler.
    values = fields.Dict(
        keys=fields.String(), required=True, validate=validate.Length(max=MAX_ANSWER_VALUES)
    )
    answered_at = fields.AwareDateTime(
        required=True,
        default_timezone=dt.UTC,
        validate=validate.Range(
            EARLIEST_DEVICE_TIME,
            LATEST_DEVICE_TIME,
            max_inclusive=False,
            error="a time from 1900 to 2199 (UTC)",
        ),
    )

    @validates_schema
    def _one_subject(self, data: dict[str, Any], **kwargs: Any) -> None:
        campaign = data.get("campaign_id") is not None or data.get("target_id") is not None
        visit = data.get("visit_id") is not None
        if campaign == visit:
            raise ValidationError("answer either a campaign's target or a visit")
        if campaign and (data.get("campaign_id") is None or data.get("target_id") is None):
            raise ValidationError("a campaign answer names campaign_id and target_id")


#: Each mutation name's argument schema: the registry (server/fieldsync/operations.py) loads
#: with these, and tests generate arguments from them, so a new name is covered by both.
MUTATION_ARGS: dict[str, type[Schema]] = {
    "visit.create": VisitCreateArgs,
    "case.report": CaseReportArgs,
    "case.note": CaseNoteArgs,
    "case.set_fields": CaseSetFieldsArgs,
    "case.transition": CaseTransitionArgs,
    "photo.attach": PhotoAttachArgs,
    "form.answer": FormAnswerArgs,
}


# --- hand-written loaders for the two shapes a phone sends by the thousand ---------------------
#
# marshmallow costs ~50 µs per mutation, more than the database does. These return exactly
# what the schema's `load` would, for the plain inputs a phone sends, and None for anything
# else (an unknown key, a wrong type, a value out of range), which then goes through the
# schema for its verdict and messages. tests/sync/test_fast_loaders.py checks the equivalence
# with hypothesis.


class _NotPlain(Exception):
    """Raised inside a hand-written loader for a value it leaves to the schema (cheaper than
    a sentinel: checking for one compares it with every value, UUIDs in Python)."""


def _uuid(value: Any) -> uuid.UUID:
    if type(value) is not str:
        raise _NotPlain
    try:
        return parse_id(value)  # a uuid.UUID that keeps its text (sync/ids.py)
    except ValueError:
        raise _NotPlain from None


def _opt_uuid(raw: dict[str, Any], key: str) -> uuid.UUID | None:
    value = raw.get(key)
    return None if value is None else _uuid(value)


def _opt_float(
    raw: dict[str, Any], key: str, low: float | None, high: float | None
) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if type(value) not in (int, float):
        raise _NotPlain
    try:
        value = float(value)
    except OverflowError:  # an int too large for a float: the schema says so
        raise _NotPlain from None
    if not math.isfinite(value):
        raise _NotPlain
    if (low is not None and value < low) or (high is not None and value > high):
        raise _NotPlain
    return value


def _text_or(raw: dict[str, Any], key: str, max_len: int, default: str = "") -> str:
    """The text at `key` if it is plain: short enough, and storable by any database (so the
    engine's generic screen of the arguments can be skipped, `sync.handlers.Handler.load_plain`)."""
    value = raw.get(key, default)
    if type(value) is str and len(value) <= max_len and is_storable_text(value):
        return value
    raise _NotPlain


_MUTATION_KEYS = frozenset(MutationSchema().fields)


def fast_mutation(raw: Any) -> dict[str, Any] | None:
    """MutationSchema().load(raw) for a plain entry, else None (ask the schema)."""
    if type(raw) is not dict or not raw.keys() <= _MUTATION_KEYS:
        return None
    seq, name, args = raw.get("seq"), raw.get("name"), raw.get("args")
    base, recorded = raw.get("base_version"), raw.get("recorded_at_device")
    try:
        op_id = _uuid(raw.get("op_id"))
    except _NotPlain:
        return None
    if (
        type(seq) is not int
        or seq < 1
        or type(name) is not str
        or not 1 <= len(name) <= 40
        or type(args) is not dict
        or (recorded is not None and type(recorded) is not str)
        or (base is not None and type(base) is not int)
    ):
        return None
    return {
        "seq": seq,
        "op_id": op_id,
        "name": name,
        "args": dict(args),
        "recorded_at_device": recorded,
        "base_version": base,
    }


_VISIT_KEYS = frozenset(VisitCreateArgs().fields)
_OUTCOMES = frozenset({"met", "not_home", "refused"})


def _visit_head(raw: Any) -> tuple[dt.datetime | None, list[Any], str] | None:
    """A visit's `visited_at` (parsed), `residents_seen` (unchecked list) and `outcome`, if
    `raw` is a dict of the schema's keys and these are plain, else None."""
    if type(raw) is not dict or not raw.keys() <= _VISIT_KEYS:
        return None
    visited_at = raw.get("visited_at")
    if visited_at is not None:
        if type(visited_at) is not str:
            return None
        try:
            visited_at = dt.datetime.fromisoformat(visited_at)
        except ValueError:
            return None
        if visited_at.tzinfo is None or visited_at.utcoffset() is None:
            visited_at = visited_at.replace(tzinfo=dt.UTC)
        if not plausible_device_time(visited_at):
            return None
    seen = raw.get("residents_seen", [])
    if type(seen) is not list or len(seen) > MAX_RESIDENTS_SEEN:
        return None
    outcome = raw.get("outcome", "met")
    if type(outcome) is not str or outcome not in _OUTCOMES:
        return None
    return visited_at, seen, outcome


def plain_visit_fields(raw: Any) -> tuple[Any, ...] | None:
    """What `fast_visit_create(raw)` loads, as the tuple the push's plain path writes
    (server/fieldsync/visits.py), for args that name no case, correct no visit and give every
    id in its canonical text; else None. The ids stay text (`sync.ids.canonical_id`):
    (id, household_id, visited_at, residents_seen, outcome, situation, needs, follow_up, lon,
    lat, accuracy_m). tests/sync/test_plain_visits.py holds the two loaders to the same values."""
    head = _visit_head(raw)
    if head is None or raw.get("case_id") is not None or raw.get("corrects_visit_id") is not None:
        return None
    visited_at, seen, outcome = head
    visit_id, household_id = canonical_id(raw.get("id")), canonical_id(raw.get("household_id"))
    if visit_id is None or household_id is None or not all(map(canonical_id, seen)):
        return None
    try:
        fields = (
            visit_id,
            household_id,
            visited_at,
            seen,
            outcome,
            _text_or(raw, "situation", 4000),
            _text_or(raw, "needs", 4000),
            _text_or(raw, "follow_up", 4000),
            _opt_float(raw, "lon", -180, 180),
            _opt_float(raw, "lat", -90, 90),
            _opt_float(raw, "accuracy_m", 0, MAX_ACCURACY_M),
        )
    except _NotPlain:
        return None
    if (fields[8] is None) != (fields[9] is None):  # half a point: the schema says so
        return None
    return fields


def fast_visit_create(raw: Any) -> dict[str, Any] | None:
    """VisitCreateArgs().load(raw) for plain args, else None (ask the schema).

    Plain args are also storable as they are (`sync.text.first_unstorable` finds nothing: the
    keys are the schema's, ids and times parsed, numbers finite, texts checked by `_text_or`),
    so the engine skips its generic screen for them (`Handler.load_plain`)."""
    head = _visit_head(raw)
    if head is None:
        return None
    visited_at, seen, outcome = head
    try:
        loaded = {
            "id": _uuid(raw.get("id")),
            "household_id": _uuid(raw.get("household_id")),
            "visited_at": visited_at,
            "outcome": outcome,
            "residents_seen": [_uuid(r) for r in seen],
            "situation": _text_or(raw, "situation", 4000),
            "needs": _text_or(raw, "needs", 4000),
            "follow_up": _text_or(raw, "follow_up", 4000),
            "lon": _opt_float(raw, "lon", -180, 180),
            "lat": _opt_float(raw, "lat", -90, 90),
            "accuracy_m": _opt_float(raw, "accuracy_m", 0, MAX_ACCURACY_M),
            "corrects_visit_id": _opt_uuid(raw, "corrects_visit_id"),
            "case_id": _opt_uuid(raw, "case_id"),
        }
    except _NotPlain:
        return None
    if (loaded["lon"] is None) != (loaded["lat"] is None):  # half a point: the schema says so
        return None
    return loaded
