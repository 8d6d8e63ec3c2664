"""Human labels for the closed vocabularies, in the reader's language (templates: `|label`)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

LABELS: dict[str, Any] = {
    # life-service points and bookings (issue 7)
    "point_convenience": _l("Convenience service point"),
    "point_meal": _l("Elderly meal point"),
    "point_mutual_aid": _l("Neighbourhood mutual-aid point"),
    "point_centre": _l("Service centre"),
    "booking_pending": _l("Waiting for confirmation"),
    "booking_confirmed": _l("Confirmed"),
    "booking_cancelled": _l("Cancelled"),
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
    "blocking": _l("Needs acknowledgement"),
    "warning": _l("Warning"),
    # priorities
    "urgent": _l("Urgent"),
    "high": _l("High"),
    "normal": _l("Normal"),
    # workflow steps and timeline events (server/cases/workflow.py)
    "open": _l("Open the case (立案)"),
    "cancel": _l("Cancel (注销)"),
    "dispatch": _l("Dispatch (派遣)"),
    "start": _l("Start handling"),
    "feedback": _l("Report back (处理反馈)"),
    "close": _l("Check and close (核查结案)"),
    "rework": _l("Send back for rework (返工)"),
    "evaluate": _l("Evaluate"),
    "postpone_requested": _l("Postponement requested"),
    "postponed": _l("Postponed (缓办)"),
    "postpone_refused": _l("Postponement refused"),
    "resumed": _l("Resumed"),
    "escalated": _l("Escalated"),
    "merged": _l("Duplicate merged in"),
    "relocated": _l("Placed on the map"),
    "note": _l("Note"),
    "edit": _l("Edited"),
    "status": _l("Status changed"),
    "assigned": _l("Reassigned"),
    "assignment_override": _l("Assignment overridden"),
    "photo": _l("Photo"),
    # photo purposes, placements, raised-by flags, visit outcomes
    "report": _l("Report photo"),
    "result": _l("Result photo"),
    "check": _l("Check photo"),
    "in": _l("in the cell"),
    "near": _l("near the cell"),
    "unplaced": _l("outside the grid"),
    "unlocated": _l("no point"),
    "leader": _l("Raised by a leader"),
    "media": _l("Raised by the media"),
    "met": _l("Met"),
    "not_home": _l("Not at home"),
    "refused": _l("Refused"),
    # dashboard groups and columns
    "area": _l("Residential area"),
    "cell": _l("Building group"),
    "unit": _l("Unit"),
    "rework_count": _l("Rework count"),
    "on_time": _l("Weight: on-time closure rate"),
    "closure": _l("Weight: closure rate"),
    "visits": _l("Weight: visit coverage"),
    "rework_penalty": _l("Deduction per rework"),
    "flagged_multiplier": _l("Multiplier for leader/media cases"),
    "received": _l("Received"),
    "accepted": _l("Accepted"),
    "due": _l("Due"),
    "closed_on_time": _l("Closed on time"),
    "closure_rate": _l("Closure rate"),
    "on_time_rate": _l("On-time closure rate"),
    "urgent_closure_rate": _l("Urgent: closed"),
    "urgent_on_time_rate": _l("Urgent: on time"),
    "avg_dispatch_hours": _l("Hours to dispatch"),
    "avg_close_hours": _l("Hours to close"),
    "satisfaction": _l("Satisfaction"),
    "visit_coverage": _l("Visit coverage"),
    "score": _l("Score"),
    "total": _l("Total"),
    # what the public sees of a case (server/privacy/declaration.py)
    "disclosure": _l("Public view changed"),
    "disclosure_public": _l("Public, with the description"),
    "disclosure_listed": _l("Public: kind, progress and rough place only"),
    "disclosure_private": _l("Not public"),
    "private_case": _l("Matter about a household (not shown)"),
    # the register (server/register/)
    "active": _l("On the register"),
    "moved_out": _l("Moved out"),
    "deceased": _l("Deceased"),
    "arrival_newborn": _l("Newborn"),
    "arrival_tenant": _l("New tenant"),
    "arrival_other": _l("Other"),
    # conflict resolutions
    "earlier": _l("Kept the earlier"),
    "later": _l("Kept the later"),
    "acknowledged": _l("Reviewed"),
    # unit kinds and catalogue kinds (the admin pages, issue 13)
    "department": _l("Functional department"),
    "stationed_unit": _l("Stationed unit"),
    "property_company": _l("Property company"),
    "repair_team": _l("Emergency repair team"),
    "social_org": _l("Social organisation"),
    "volunteer_team": _l("Volunteer team"),
    "service_provider": _l("Service provider"),
    "affair": _l("Public affair"),
    "service": _l("Service"),
    # what a campaign's targets are (issue 18)
    "campaign_kind_building": _l("Each building"),
    "campaign_kind_household": _l("Each household"),
    "campaign_kind_resident": _l("Each resident"),
}


def label(value: Any) -> str:
    """The label of an enum member or its value; unknown values are shown as they are."""
    key = getattr(value, "value", value)
    return str(LABELS.get(str(key), key))
