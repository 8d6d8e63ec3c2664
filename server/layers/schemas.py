"""Marshmallow schemas of the base-layer API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class LayerImportFormSchema(Schema):
    """The multipart form fields that go with the file."""

    kind = fields.String(required=True, validate=validate.OneOf(("roads", "buildings", "poi")))
    datum = fields.String(load_default="wgs84", validate=validate.Length(min=1, max=40))
    name = fields.String(load_default=None, validate=validate.Length(max=200))
    attribution = fields.String(load_default=None, validate=validate.Length(max=300))
    swap_axes = fields.Boolean(load_default=False)
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Report only."})


class LayerFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class LayerSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    status = fields.String()
    source_datum = fields.String()
    source_filename = fields.String(allow_none=True)
    attribution = fields.String(allow_none=True)
    feature_count = fields.Integer()
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


class LayerDetailSchema(LayerSchema):
    report = fields.Dict()


class LayerImportResultSchema(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "The draft (none: dry run)."})
    report = fields.Dict()


class LayerPublishResultSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    retired_id = fields.Integer(allow_none=True)


class LayerFeaturesQuerySchema(Schema):
    bbox = fields.String(
        required=True, metadata={"description": "min_lon,min_lat,max_lon,max_lat (WGS-84)"}
    )
    kinds = fields.String(load_default="", metadata={"description": "roads,buildings,poi"})
