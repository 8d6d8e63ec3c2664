"""Marshmallow schema of the tile settings' answer (documents GET /api/v1/map/tiles)."""

from __future__ import annotations

from marshmallow import Schema, fields

from server.maptiles.settings import DATUMS


class TileSettingsSchema(Schema):
    enabled = fields.Boolean(required=True, metadata={"description": "False: no tiles."})
    url = fields.String(
        allow_none=True,
        metadata={"description": "Leaflet URL template ({z}/{x}/{y}, maybe {s}); key filled in."},
    )
    datum = fields.String(
        allow_none=True,
        metadata={
            "description": "What the tiles are drawn in: "
            + " | ".join(DATUMS)
            + ". gcj02: draw WGS-84 data shifted into GCJ-02, shift taps back."
        },
    )
    attribution = fields.String(metadata={"description": "Credit to show (plain text)."})
    max_zoom = fields.Integer(metadata={"description": "Deepest zoom the provider serves."})
    subdomains = fields.List(fields.String(), metadata={"description": "Values of {s}."})
