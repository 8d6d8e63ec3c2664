"""marshmallow schemas of the accounts API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    device_id = fields.UUID(required=True, metadata={"description": "Minted once by the app."})
    device_name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "e.g. 'Redmi Note 12 (Chrome)'"},
    )


class RenewRequestSchema(Schema):
    token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The device's current (or recently expired) bearer token."},
    )


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()


class TokenResponseSchema(Schema):
    token = fields.String(metadata={"description": "Bearer token; shown once, store it safely."})
    token_type = fields.String()
    device_id = fields.UUID()
    user = fields.Nested(UserSchema)
    expires_at = fields.DateTime(
        metadata={"description": "When the token stops working unless renewed before."}
    )
    expires_in = fields.Integer(
        metadata={"description": "Seconds until then (phones' clocks may be off)."}
    )


class MeSchema(Schema):
    user = fields.Nested(UserSchema)
    device_id = fields.UUID(allow_none=True)
