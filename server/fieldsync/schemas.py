"""marshmallow schemas of the sync API: the push envelope, one schema per mutation, pulls."""

from __future__ import annotations

import datetime as dt
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

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="a lower-case hex SHA-256")
MAX_BATCH = 2000


def _lon() -> fields.Float:
    return fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))


def _lat() -> fields.Float:
    return fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))


def _text(max_len: int, **kwargs: Any) -> fields.String:
    kwargs.setdefault("load_default", "")
    return fields.String(validate=validate.Length(max=max_len), **kwargs)


def _device_time() -> fields.AwareDateTime:
    return fields.AwareDateTime(default_timezone=dt.UTC, load_default=None, allow_none=True)


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


class PushSchema(Schema):
    device_id = fields.UUID(required=True)
    schema_version = fields.Integer(required=True, strict=True)
    device_now = fields.String(load_default=None, allow_none=True)
    mutations = fields.List(
        fields.Nested(MutationSchema), required=True, validate=validate.Length(max=MAX_BATCH)
    )


class PullArgsSchema(Schema):
    cursor = fields.String(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000))


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


class VisitCreateArgs(_Args):
    id = fields.UUID(required=True)
    household_id = fields.UUID(required=True)
    visited_at = _device_time()
    outcome = fields.String(
        load_default="met", validate=validate.OneOf(["met", "not_home", "refused"])
    )
    residents_seen = fields.List(fields.UUID(), load_default=list)
    situation = _text(4000)
    needs = _text(4000)
    follow_up = _text(4000)
    lon = _lon()
    lat = _lat()
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))
    corrects_visit_id = fields.UUID(load_default=None, allow_none=True)
    case_id = fields.UUID(load_default=None, allow_none=True)


class CaseReportArgs(_Args):
    id = fields.UUID(required=True)
    title = _text(200)
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    address = _text(200)
    catalogue_code = fields.String(load_default=None, allow_none=True)
    priority = fields.String(
        load_default=Priority.NORMAL.value, validate=validate.OneOf([p.value for p in Priority])
    )
    lon = _lon()
    lat = _lat()
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))
    photos = fields.List(fields.String(validate=SHA256), load_default=list)


class CaseNoteArgs(_Args):
    id = fields.UUID(required=True)
    case_id = fields.UUID(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class PhotoAttachArgs(_Args):
    sha256 = fields.String(required=True, validate=SHA256)
    case_id = fields.UUID(load_default=None, allow_none=True)
    visit_id = fields.UUID(load_default=None, allow_none=True)
    purpose = fields.String(
        load_default="report", validate=validate.OneOf(["report", "result", "check"])
    )
    lon = _lon()
    lat = _lat()
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))
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
