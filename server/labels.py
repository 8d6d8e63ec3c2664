"""Human labels for the closed vocabularies, in the reader's language (templates: `|label`)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

LABELS: dict[str, Any] = {
    # roles
    "worker": _l("Grid worker"),
    "dispatcher": _l("Dispatcher"),
    "gis": _l("GIS staff"),
    "manager": _l("Manager"),
    "admin": _l("Administrator"),
    # cell levels
    "street": _l("Subdistrict"),
    "residential_area": _l("Residential area"),
    "block": _l("Block area"),
    "building_group": _l("Building group"),
    # duty roles and ranks
    "grid_worker": _l("Grid worker"),
    "building_group_leader": _l("Building-group leader"),
    "community_police": _l("Community police"),
    "property_manager": _l("Property manager"),
    "volunteer": _l("Volunteer"),
    "principal": _l("Principal (A)"),
    "deputy": _l("Deputy (B)"),
    # case statuses
    "reported": _l("Reported"),
    "cancelled": _l("Cancelled"),
    "opened": _l("Opened"),
    "dispatched": _l("Dispatched"),
    "handling": _l("Being handled"),
    "handled": _l("Handled, awaiting check"),
    "closed": _l("Closed"),
    "evaluated": _l("Evaluated"),
    # channels
    "hotline": _l("Hotline"),
    "walk_in": _l("Walk-in"),
    "online": _l("Online"),
    "patrol": _l("Patrol"),
    "visit": _l("Visit follow-up"),
    "open311": _l("Partner system (Open311)"),
    # grid versions and report severities
    "draft": _l("Draft"),
    "published": _l("Published"),
    "retired": _l("Retired"),
    "error": _l("Error"),
    "warning": _l("Warning"),
    # priorities
    "urgent": _l("Urgent"),
    "high": _l("High"),
    "normal": _l("Normal"),
}


def label(value: Any) -> str:
    """The label of an enum member or its value; unknown values are shown as they are."""
    key = getattr(value, "value", value)
    return str(LABELS.get(str(key), key))
