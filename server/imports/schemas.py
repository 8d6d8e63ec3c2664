"""marshmallow schemas of the import API: the upload form and a run as answered."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from server.imports.operations import KIND_NAMES

__all__ = [
    "ImportFileSchema",
    "ImportKindArgs",
    "ImportRunSchema",
    "UploadFormSchema",
    "parse_mapping",
]


class ImportFileSchema(Schema):
    """The uploaded file: required here (a grid may name a kept upload instead, a table may not)."""

    file = fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary"},
    )


class UploadFormSchema(Schema):
    """The multipart form fields that go with the file."""

    full = fields.Boolean(
        load_default=False,
        metadata={"description": "The file is the whole list: what it lacks is flagged."},
    )
    datum = fields.String(
        load_default=None,
        validate=validate.Length(max=40),
        metadata={"description": "Addresses: wgs84, gcj02, bd09 or EPSG:NNNN."},
    )
    sheet = fields.String(load_default=None, validate=validate.Length(max=100))
    mapping = fields.String(
        load_default=None,
        validate=validate.Length(max=8000),
        metadata={"description": 'JSON object field → header, e.g. {"name": "居民名"}.'},
    )

    @validates("mapping")
    def _mapping(self, value: str | None, **_: Any) -> None:
        parse_mapping(value)


def parse_mapping(value: str | None) -> dict[str, str] | None:
    """The mapping field as a dict of short strings; ValidationError otherwise."""
    if not value:
        return None
    try:
        found = json.loads(value)
    except ValueError:
        raise ValidationError("mapping is not JSON") from None
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(k) <= 40 and len(v) <= 100
        for k, v in found.items()
    ):
        raise ValidationError("mapping is an object of field → header strings")
    return found


class ImportKindArgs(Schema):
    kind = fields.String(load_default=None, validate=validate.OneOf(KIND_NAMES))


class ImportRunSchema(Schema):
    id = fields.String()
    kind = fields.String()
    state = fields.String(metadata={"description": "checked | refused | applied | superseded"})
    filename = fields.String()
    file_sha256 = fields.String()
    size_bytes = fields.Integer()
    source = fields.Dict()
    mapping = fields.Dict()
    options = fields.Dict()
    counts = fields.Dict()
    report = fields.Dict()
    created_at = fields.String(allow_none=True)
    applied_at = fields.String(allow_none=True)
