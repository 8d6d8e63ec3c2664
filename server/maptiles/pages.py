"""What the pages' maps need: the tile settings and the map tools' words, as one JSON."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _

from server.maptiles.settings import describe

#: Building level: house numbers and footprints are readable (base-layers.js labels at 18).
BUILDING_ZOOM = 18


def map_tools_config() -> dict[str, Any]:
    """The tile provider (as ``GET /api/v1/map/tiles`` says it) and the controls' texts."""
    return {
        "tiles": describe(current_app.extensions.get("wangge_tiles")),
        "building_zoom": BUILDING_ZOOM,
        "messages": {
            "locate": _("Locate me"),
            "locating": _("Finding where you are…"),
            "located": _("Placed at your position (within about %(m)s m).", m="{m}"),
            "denied": _(
                "Location is not allowed: allow this site to use your location in the "
                "browser's settings, or click the map."
            ),
            "unavailable": _("Your position cannot be found right now: click the map instead."),
            "building": _("Zoom to building level"),
        },
    }


def init_app(app: Flask) -> None:
    app.add_template_global(map_tools_config, "map_tools_config")
