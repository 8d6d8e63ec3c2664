"""marshmallow schemas of the grid API: uploads, versions, locate, cells, duties."""

from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from server.enums import CellLevel, DutyRole
from server.params import BoundedInteger

LEVELS = [level.value for level in CellLevel]


class ImportFormSchema(Schema):
    """The multipart form fields that go with the file."""

    datum = fields.String(load_default="wgs84", validate=validate.Length(min=1, max=40))
    name = fields.String(load_default=None, validate=validate.Length(max=200))
    code_property = fields.String(load_default="code", validate=validate.Length(min=1, max=64))
    name_property = fields.String(load_default="name", validate=validate.Length(min=1, max=64))
    level_property = fields.String(load_default="level", validate=validate.Length(max=64))
    parent_property = fields.String(load_default="parent_code", validate=validate.Length(max=64))
    repair = fields.Boolean(load_default=False)
    attach_to_published = fields.Boolean(
        load_default=False,
        metadata={"description": "The file holds lower levels under the published grid's cells."},
    )
    background = fields.Boolean(
        load_default=False, metadata={"description": "Always answer 202 with a job to poll."}
    )
    swap_axes = fields.Boolean(
        load_default=False,
        metadata={"description": "Read every position as [lat, lon] (or [northing, easting])."},
    )
    default_level = fields.String(
        load_default=None,
        validate=validate.OneOf([*LEVELS, ""]),
        metadata={"description": "Level of features without one."},
    )
    level_from_code = fields.Boolean(
        load_default=False,
        metadata={"description": "Derive missing levels (and parents) from the codes."},
    )
    upload_id = BoundedInteger(
        load_default=None,
        validate=validate.Range(1, 2**31 - 1),
        metadata={"description": "Read a stored upload again (from a report) instead of a file."},
    )


class FileSchema(Schema):
    file = fields.Raw(
        load_default=None,
        metadata={"type": "string", "format": "binary", "description": "or upload_id"},
    )


class PublishSchema(Schema):
    acknowledge_displacement = fields.Boolean(
        load_default=False,
        metadata={"description": "Publish a grid that moved as a whole (needs a reason)."},
    )
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class ReportSchema(Schema):
    has_errors = fields.Boolean()
    error_count = fields.Integer()
    blocking_count = fields.Integer()
    warning_count = fields.Integer()
    feature_count = fields.Integer()
    counts_by_rule = fields.Dict()
    problems = fields.List(fields.Dict())
    repairs = fields.List(fields.Dict())
    datum_used = fields.String(allow_none=True)


class VersionSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    status = fields.String()
    source_datum = fields.String()
    source_filename = fields.String(allow_none=True)
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)
    retired_at = fields.DateTime(allow_none=True)
    cell_count = fields.Integer()
    publishable = fields.Boolean()


class VersionDetailSchema(VersionSchema):
    report = fields.Dict()


class ImportResultSchema(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "The draft version."})
    job_id = fields.UUID(allow_none=True)
    job_url = fields.String(allow_none=True)
    state = fields.String()
    stage = fields.String()
    done = fields.Integer()
    total = fields.Integer()
    report = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)


class PublishResultSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    retired_id = fields.Integer(allow_none=True)
    moved_cases = fields.Integer()
    diff = fields.Dict(allow_none=True)
    displacement = fields.Dict(allow_none=True)


class ImpactSchema(Schema):
    version_id = fields.Integer()
    against_version_id = fields.Integer(allow_none=True)
    open_cases = fields.Integer()
    cases_moving = fields.Integer()
    cases_leaving_grid = fields.Integer()
    cases_changing_hands = fields.Integer()
    people_of_cases = fields.Integer()
    duties_orphaned = fields.Integer()
    people_orphaned = fields.Integer()
    households_moving = fields.Integer()
    residents_moving = fields.Integer()
    removed_cells_with_households = fields.List(fields.String())
    displacement = fields.Dict(allow_none=True)
    diff = fields.Dict(allow_none=True)


class DatumArgs(Schema):
    datum = fields.String(load_default="wgs84", validate=validate.Length(min=1, max=40))


def _finite(value: float) -> None:
    if not math.isfinite(value):
        raise ValidationError("Must be a finite number.")


class LocateArgs(DatumArgs):
    lon = fields.Float(required=True, validate=_finite)
    lat = fields.Float(required=True, validate=_finite)


class CellsArgs(DatumArgs):
    bbox = fields.String(
        load_default=None,
        metadata={"description": "min_lon,min_lat,max_lon,max_lat in the given datum"},
    )
    level = fields.String(load_default=None, validate=validate.OneOf(LEVELS))
    version = BoundedInteger(load_default=None, metadata={"description": "default: published"})

    @validates("bbox")
    def _bbox(self, value: str | None, **_: Any) -> None:
        if value is None:
            return
        parts = value.split(",")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            raise ValidationError("Four numbers: min_lon,min_lat,max_lon,max_lat.") from None
        if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
            raise ValidationError("Four numbers: min_lon,min_lat,max_lon,max_lat.")
        if numbers[0] > numbers[2] or numbers[1] > numbers[3]:
            raise ValidationError("The minimum is larger than the maximum.")


class PersonSchema(Schema):
    duty_id = fields.Integer()
    user_id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    phone = fields.String(allow_none=True)
    role = fields.String()
    rank = fields.String()
    cell_code = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)


class CellRefSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()


class ResponsibilitySchema(Schema):
    cell_code = fields.String()
    found_at = fields.String(allow_none=True)
    fell_back = fields.Boolean()
    path = fields.List(fields.String())
    people = fields.List(fields.Nested(PersonSchema))


class LocateResultSchema(Schema):
    status = fields.String(metadata={"description": "in, near or none"})
    distance_m = fields.Float(allow_none=True)
    lon = fields.Float(metadata={"description": "the point in WGS-84"})
    lat = fields.Float()
    grid_version_id = fields.Integer(allow_none=True)
    path = fields.List(fields.Nested(CellRefSchema))
    responsible = fields.Nested(ResponsibilitySchema, allow_none=True)


class PeopleArgs(Schema):
    on = fields.Date(load_default=None)
    role = fields.String(load_default=None, validate=validate.OneOf([r.value for r in DutyRole]))


class DutySchema(Schema):
    id = fields.Integer()
    cell_code = fields.String()
    username = fields.String(attribute="user.username")
    role = fields.String()
    rank = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)


class DutyCreateSchema(Schema):
    cell_code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role = fields.String(load_default="grid_worker", validate=validate.Length(min=1, max=32))
    deputy = fields.Boolean(load_default=False)
    starts_on = fields.Date(load_default=None)
    ends_on = fields.Date(load_default=None)


class DutyListArgs(Schema):
    cell_code = fields.String(load_default=None)
    username = fields.String(load_default=None)
    current_on = fields.Date(load_default=None)


class DutyEndArgs(Schema):
    last_day = fields.Date(load_default=None)


class GapSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    covered_by = fields.String(allow_none=True)


class OverrideSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    assignee = fields.String(load_default=None)
    unit_id = BoundedInteger(load_default=None)
