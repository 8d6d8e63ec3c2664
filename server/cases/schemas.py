"""Form and query schemas of the case pages (marshmallow: one place parses input)."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from server.enums import CaseStatus, Channel, Disclosure, Priority
from server.locations import WholePointSchema
from server.params import BoundedInteger

_blank_to_none = (
    "catalogue_item_id",
    "lon",
    "lat",
    "unit_id",
    "assignee_id",
    "cell_code",
    "source_flag",
    "disclosure",
    "score",
    "status",
)


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE

    @pre_load
    def blanks(self, data: Any, **_: Any) -> dict[str, Any]:
        out = dict(data)
        for name in _blank_to_none:
            if out.get(name) == "":
                out[name] = None
        return out


class IntakeForm(_Form, WholePointSchema):
    channel = fields.Enum(Channel, by_value=True, required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    title = fields.String(load_default="", validate=validate.Length(max=200))
    catalogue_item_id = BoundedInteger(load_default=None, allow_none=True)
    priority = fields.Enum(Priority, by_value=True, load_default=Priority.NORMAL)
    address = fields.String(load_default="", validate=validate.Length(max=200))
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    cell_code = fields.String(load_default=None, allow_none=True)
    caller_name = fields.String(load_default="", validate=validate.Length(max=60))
    caller_phone = fields.String(load_default="", validate=validate.Regexp(r"^[0-9+\- ]{0,32}$"))
    channel_ref = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=64)
    )
    source_flag = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(["leader", "media"])
    )
    #: None: the channel's default (server/privacy/declaration.py).
    disclosure = fields.Enum(Disclosure, by_value=True, load_default=None, allow_none=True)


class IntakeNextForm(_Form):
    """What the desk does right after registering: nothing, 立案, or 立案 and 派遣 (one form)."""

    then = fields.String(load_default="", validate=validate.OneOf(["", "open", "dispatch"]))
    unit_id = BoundedInteger(load_default=None, allow_none=True)
    assignee_id = BoundedInteger(load_default=None, allow_none=True)
    dispatch_note = fields.String(load_default="", validate=validate.Length(max=4000))


class DisclosureForm(_Form):
    disclosure = fields.Enum(Disclosure, by_value=True, required=True)


class StepForm(_Form):
    to_status = fields.Enum(CaseStatus, by_value=True, required=True)
    note = fields.String(load_default="", validate=validate.Length(max=4000))
    unit_id = BoundedInteger(load_default=None, allow_none=True)
    assignee_id = BoundedInteger(load_default=None, allow_none=True)


class QueueArgs(_Form):
    view = fields.String(
        load_default="open",
        validate=validate.OneOf(["open", "review", "soon", "overdue", "mine", "unplaced", "all"]),
    )
    status = fields.Enum(CaseStatus, by_value=True, load_default=None, allow_none=True)
    q = fields.String(load_default="", validate=validate.Length(max=100))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))


class RatingForm(_Form):
    score = fields.Integer(required=True, validate=validate.Range(1, 5))
    comment = fields.String(load_default="", validate=validate.Length(max=1000))
