"""GET /api/v1/map/tiles: the tile provider, for the phone and any page (no sign-in)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from server.api.base import Blueprint
from server.maptiles import schemas
from server.maptiles.settings import describe

blp = Blueprint("map_tiles_api", __name__, url_prefix="/api/v1", description="Map tiles")


@blp.route("/map/tiles", methods=["GET"])
@blp.response(200, schemas.TileSettingsSchema)
def tiles() -> Any:
    """The configured online tile provider and the datum its tiles are drawn in.

    Public: the residents' pages draw the same tiles, and browsers send the key anyway.
    """
    settings = current_app.extensions.get("wangge_tiles")
    return describe(settings), 200, {"Cache-Control": "public, max-age=300"}
