"""THE declaration: the class of every column of every table, and of a case by its disclosure.

Public surfaces, exports and the office map read cases through `server.privacy.render`,
which follows this table; `tests/server/test_privacy_declaration.py` fails when a table or a
column is added without a class here, and `tests/server/test_privacy_walk.py` seeds a marker
into every personal field and walks every route. docs/security.md explains the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from server.enums import Channel, Disclosure
from server.privacy.classes import DataClass

PUBLIC, INTERNAL, PERSONAL = DataClass.PUBLIC, DataClass.INTERNAL, DataClass.PERSONAL
SENSITIVE, CONTACT, SECRET = DataClass.SENSITIVE, DataClass.CONTACT, DataClass.SECRET


@dataclass(frozen=True)
class ByDisclosure:
    """A case field whose class depends on the case's disclosure."""

    public: DataClass
    listed: DataClass
    private: DataClass

    def of(self, disclosure: Disclosure | str) -> DataClass:
        return getattr(self, Disclosure(disclosure).name.lower())  # type: ignore[no-any-return]


Rule = DataClass | ByDisclosure

#: Shown publicly only when the case is public; staff text otherwise; special once private.
TEXT = ByDisclosure(PUBLIC, INTERNAL, SENSITIVE)
#: What a matter is and who handles it: public while listed, staff-only once private.
KIND = ByDisclosure(PUBLIC, PUBLIC, INTERNAL)
#: Where exactly: staff for street matters; a household's door once private.
PLACE = ByDisclosure(INTERNAL, INTERNAL, PERSONAL)
#: What staff wrote about a matter: internal; about a household once private.
STAFF_TEXT = ByDisclosure(INTERNAL, INTERNAL, SENSITIVE)


@dataclass(frozen=True)
class Table:
    """The classes of one table's columns. `default` covers unlisted columns; a table holding
    anything personal has none, so each new column needs its own line."""

    columns: Mapping[str, Rule] = field(default_factory=dict)
    default: DataClass | None = None

    def rule(self, column: str) -> Rule:
        found = self.columns.get(column, self.default)
        if found is None:
            raise KeyError(f"column {column!r} has no declared class")
        return found


TABLES: dict[str, Table] = {
    # --- cases and what hangs on them ----------------------------------------------------
    "cases": Table(
        {
            "id": INTERNAL,
            "number": PUBLIC,
            "channel": INTERNAL,
            "disclosure": INTERNAL,
            "catalogue_item_id": KIND,
            "priority": INTERNAL,
            "status": PUBLIC,
            "title": ByDisclosure(INTERNAL, INTERNAL, SENSITIVE),
            "description": TEXT,
            "address": PLACE,  # its building (coarse form, below) is public while listed
            "lon": PLACE,  # to ~100 m (coarse form) public while listed
            "lat": PLACE,
            "accuracy_m": PLACE,
            "cell_code": INTERNAL,
            "placement": INTERNAL,
            "assignee_id": INTERNAL,
            "unit_id": KIND,
            "reporter_id": INTERNAL,
            "caller_name": CONTACT,
            "caller_phone": CONTACT,
            "device_id": INTERNAL,
            "reported_at": PUBLIC,
            "recorded_at_device": INTERNAL,
            "opened_at": PUBLIC,
            "dispatched_at": PUBLIC,
            "due_at": PUBLIC,
            "handled_at": PUBLIC,
            "closed_at": PUBLIC,
            "rework_count": INTERNAL,
            "postponed": INTERNAL,
            "satisfaction": INTERNAL,
            "paused_since": INTERNAL,
            "paused_seconds": INTERNAL,
            "postpone_reason": STAFF_TEXT,
            "handled_by_id": INTERNAL,
            "closed_by_id": INTERNAL,
            "cancel_reason": STAFF_TEXT,
            "escalation_level": INTERNAL,
            "escalated_at": INTERNAL,
            "merged_into_id": INTERNAL,
            "source_flag": INTERNAL,
            "channel_ref": INTERNAL,
            "version": INTERNAL,
            "field_versions": INTERNAL,
        }
    ),
    "case_events": Table(
        {
            "id": INTERNAL,
            "case_id": INTERNAL,
            "seq": INTERNAL,
            "kind": PUBLIC,  # the steps and their times: the follow page's progress
            "actor_id": INTERNAL,
            "at": PUBLIC,
            "from_status": PUBLIC,
            "to_status": PUBLIC,
            "note": STAFF_TEXT,  # staff notes may name residents
            "data": STAFF_TEXT,
            "after_close": INTERNAL,
            "device_id": INTERNAL,
            "recorded_at_device": INTERNAL,
            "version": INTERNAL,
        }
    ),
    "case_ratings": Table(
        {
            "id": INTERNAL,
            "case_id": INTERNAL,
            "score": INTERNAL,
            "comment": PERSONAL,  # a resident's words about the handling
            "source": INTERNAL,
            "recorded_by_id": INTERNAL,
            "at": INTERNAL,
        }
    ),
    "rating_requests": Table({"code_sha256": SECRET}, default=INTERNAL),
    # Photo bytes are never on a public surface; those of a visit or a private case are
    # SENSITIVE and served only to staff who may read that case or visit (photos/api.py).
    "photos": Table(
        {
            "sha256": INTERNAL,
            "status": INTERNAL,
            "size_bytes": INTERNAL,
            "mime": INTERNAL,
            "width": INTERNAL,
            "height": INTERNAL,
            "taken_at": INTERNAL,
            "lon": PERSONAL,  # EXIF GPS: may be inside a home
            "lat": PERSONAL,
            "exif": PERSONAL,
            "storage_key": INTERNAL,
            "created_at": INTERNAL,
        }
    ),
    "photo_links": Table(
        {
            "id": INTERNAL,
            "photo_sha256": INTERNAL,
            "case_id": INTERNAL,
            "visit_id": INTERNAL,
            "purpose": INTERNAL,
            "added_by_id": INTERNAL,
            "device_id": INTERNAL,
            "lon": PERSONAL,
            "lat": PERSONAL,
            "accuracy_m": PERSONAL,
            "captured_at_device": INTERNAL,
            "after_close": INTERNAL,
            "proof": INTERNAL,  # why the link counts (server/photos/access.py)
            "created_at": INTERNAL,
            "version": INTERNAL,
        }
    ),
    # --- the population register and visits ---------------------------------------------
    # A building (road, lane, number, and the mean point of its households) is a public
    # place: the residents' address lookup offers it. The room and who lives there are not.
    "households": Table(
        {
            "id": INTERNAL,
            "address": PERSONAL,  # holds the room
            "road": PUBLIC,
            "lane": PUBLIC,
            "building": PUBLIC,
            "room": PERSONAL,
            "cell_code": INTERNAL,
            "lon": PERSONAL,
            "lat": PERSONAL,
            "notes": SENSITIVE,
            "created_at": INTERNAL,
            "version": INTERNAL,
            "register_key": PERSONAL,  # 户号 or the normalised address (with the room)
            "address_id": INTERNAL,  # the standard door: a building
            "address_match": INTERNAL,
        }
    ),
    "residents": Table(
        {
            "id": INTERNAL,
            "household_id": PERSONAL,
            "name": PERSONAL,
            "gender": PERSONAL,
            "birth_year": PERSONAL,
            "phone": PERSONAL,  # the grid worker calls the household: not only a callback
            "relation": PERSONAL,
            "notes": SENSITIVE,
            "version": INTERNAL,
            # The identity number (issue 13): sealed with AES-GCM, matched by keyed hashes;
            # shown masked to staff covering the household, in clear only to the roles of
            # ID_NUMBER_REVEAL_ROLES, each reveal audited (server/population/identity_api.py).
            "id_number_sealed": SECRET,
            "id_number_digest": SECRET,
            "id_tail_digest": SECRET,
            "register_key": SECRET,  # id:<digest> or household/name/birth year
            # Moved out or deceased, since when and why (server/register/): about the person.
            "status": PERSONAL,
            "status_on": PERSONAL,
            "status_reason": SENSITIVE,
        }
    ),
    # --- imports of master data (issue 13) ------------------------------------------------
    "standard_addresses": Table(default=PUBLIC),  # doors (标准地址) and their points, no person
    "category_mappings": Table(default=INTERNAL),  # 孤老 → living_alone: a vocabulary
    # An import run's report quotes rows of the file (names, addresses, phones; identity
    # numbers masked); its file is the office's register itself.
    "import_runs": Table(
        {
            "id": INTERNAL,
            "kind": INTERNAL,
            "state": INTERNAL,
            "filename": INTERNAL,
            "file_sha256": INTERNAL,
            "size_bytes": INTERNAL,
            "source": INTERNAL,
            "mapping": INTERNAL,
            "options": INTERNAL,
            "counts": INTERNAL,
            "report": PERSONAL,
            "created_by_id": INTERNAL,
            "created_at": INTERNAL,
            "applied_by_id": INTERNAL,
            "applied_at": INTERNAL,
        }
    ),
    "import_files": Table({"run_id": INTERNAL, "data": SENSITIVE, "rows": SENSITIVE}),
    "import_reviews": Table(
        {
            "id": INTERNAL,
            "run_id": INTERNAL,
            "reason": INTERNAL,
            "subject_type": INTERNAL,
            "subject_id": INTERNAL,
            "detail": PERSONAL,  # the household's address as the file wrote it
            "created_at": INTERNAL,
            "resolved_at": INTERNAL,
            "resolved_by_id": INTERNAL,
            "resolution": INTERNAL,
        }
    ),
    "resident_tags": Table({"resident_id": PERSONAL, "tag_code": SENSITIVE, "since": SENSITIVE}),
    "care_tags": Table(default=INTERNAL),  # the vocabulary (独居老人 …), nobody's data
    # The office's own form definitions (questions and choices), nobody's data.
    "forms": Table(default=INTERNAL),
    "form_versions": Table(default=INTERNAL),
    # Filled-in forms: what a worker recorded about a household, a person or a building.
    "form_answers": Table(
        {
            "id": INTERNAL,
            "form_version_id": INTERNAL,
            "campaign_id": INTERNAL,
            "target_id": INTERNAL,
            "visit_id": INTERNAL,
            "household_id": PERSONAL,
            "resident_id": PERSONAL,
            "cell_code": INTERNAL,
            "worker_id": INTERNAL,
            "device_id": INTERNAL,
            "values": SENSITIVE,  # health, living conditions, hazards at a door
            "answered_at": PERSONAL,
            "received_at": INTERNAL,
            "late": INTERNAL,
            "case_ids": INTERNAL,
            "version": INTERNAL,
        }
    ),
    # Campaigns: the office's plans (internal); their targets name households and people.
    "campaigns": Table(default=INTERNAL),
    "campaign_cells": Table(default=INTERNAL),
    "campaign_targets": Table(
        {
            "id": INTERNAL,
            "campaign_id": INTERNAL,
            "kind": INTERNAL,
            "household_id": PERSONAL,
            "resident_id": PERSONAL,
            "road": PUBLIC,
            "lane": PUBLIC,
            "building": PUBLIC,
            "label": PERSONAL,  # a household's holds its room, a resident's their name
            "cell_code": INTERNAL,
            "version": INTERNAL,
        }
    ),
    "visits": Table(
        {
            "id": INTERNAL,
            "household_id": PERSONAL,
            "worker_id": INTERNAL,
            "device_id": INTERNAL,
            "visited_at": PERSONAL,
            "received_at": INTERNAL,
            "residents_seen": PERSONAL,
            "outcome": PERSONAL,
            "situation": SENSITIVE,
            "needs": SENSITIVE,
            "follow_up": SENSITIVE,
            "lon": PERSONAL,
            "lat": PERSONAL,
            "accuracy_m": PERSONAL,
            "corrects_visit_id": INTERNAL,
            "case_id": INTERNAL,
            "version": INTERNAL,
        }
    ),
    # --- residents' side, life services, Open311 ----------------------------------------
    "resident_reports": Table(
        {
            "id": INTERNAL,
            "case_id": INTERNAL,
            "follow_sha256": SECRET,
            "client_id": SECRET,  # with the app's secret it makes the follow link
            "phone_verified": INTERNAL,
            "created_at": INTERNAL,
        }
    ),
    "phone_codes": Table(
        {
            "id": INTERNAL,
            "phone": CONTACT,
            "code_sha256": SECRET,
            "created_at": INTERNAL,
            "expires_at": INTERNAL,
            "attempts": INTERNAL,
            "used_at": INTERNAL,
        }
    ),
    "rate_counters": Table({"key": CONTACT, "window_start": INTERNAL, "count": INTERNAL}),
    "service_points": Table({"cell_code": INTERNAL}, default=PUBLIC),
    "service_slots": Table(default=PUBLIC),
    "bookings": Table(
        {
            "id": INTERNAL,
            "slot_id": INTERNAL,
            "token_sha256": SECRET,
            "name": CONTACT,
            "phone": CONTACT,
            "status": PUBLIC,  # the booking page shows it to the link holder
            "created_at": INTERNAL,
            "decided_by_id": INTERNAL,
            "decided_at": INTERNAL,
        }
    ),
    # Published on the point's page (the review form says so).
    "service_reviews": Table(
        {
            "id": INTERNAL,
            "booking_id": INTERNAL,
            "point_id": PUBLIC,
            "score": PUBLIC,
            "comment": PUBLIC,
            "created_at": PUBLIC,
            "reply": PUBLIC,
            "reply_by_id": INTERNAL,
            "reply_at": PUBLIC,
        }
    ),
    "api_partners": Table({"key_sha256": SECRET}, default=INTERNAL),
    "open311_requests": Table(
        {
            "id": INTERNAL,
            "case_id": INTERNAL,
            "partner_id": INTERNAL,
            "token": PUBLIC,  # tokens/{token} answers the case number, by the spec
            "attributes": TEXT,  # answers to the public service definition, in the description
            "media_url": TEXT,
            "account_id": CONTACT,  # the partner's account of the person who reported
            "device_id": CONTACT,
            "created_at": INTERNAL,
        }
    ),
    # --- staff, grid, sync, audit: nobody's personal data but staff's own ---------------
    "users": Table({"password_hash": SECRET}, default=INTERNAL),
    "devices": Table(default=INTERNAL),
    "api_tokens": Table({"token_sha256": SECRET}, default=INTERNAL),
    "password_resets": Table({"token_sha256": SECRET}, default=INTERNAL),
    "login_attempts": Table(default=INTERNAL),
    "duties": Table(default=INTERNAL),
    "units": Table({"name_zh": PUBLIC, "name_en": PUBLIC}, default=INTERNAL),
    "catalogue_categories": Table(default=PUBLIC),
    "catalogue_items": Table({"default_unit_id": INTERNAL, "version": INTERNAL}, default=PUBLIC),
    "grid_versions": Table(default=INTERNAL),
    "grid_import_jobs": Table(default=INTERNAL),
    # Uploaded grid files (kept for re-import): cell outlines, codes and names, as the GIS
    # staff sent them; read only by GIS staff.
    "grid_uploads": Table(default=INTERNAL),
    # Base layers (issue 14): roads, building footprints, points of interest. The features are
    # drawn on the residents' map and pulled by anyone (server/layers/queries.py); the import
    # keeps only names, house numbers and road classes (geo/layer_reading.py KEPT), never a
    # household or a person. The layer's row (report, file name, uploader) is staff's.
    "base_layers": Table(default=INTERNAL),
    "base_layer_features": Table(
        {
            "id": PUBLIC,
            "layer_id": PUBLIC,
            "name": PUBLIC,
            "label": PUBLIC,
            "properties": PUBLIC,
            "geometry": PUBLIC,
            "min_lon": PUBLIC,
            "min_lat": PUBLIC,
            "max_lon": PUBLIC,
            "max_lat": PUBLIC,
        }
    ),
    # The published grid's outlines and names are drawn on the residents' map.
    "cells": Table(
        {
            "code": PUBLIC,
            "name": PUBLIC,
            "level": PUBLIC,
            "parent_code": PUBLIC,
            "geometry_wkb": PUBLIC,
        },
        default=INTERNAL,
    ),
    "staff_evaluations": Table(default=INTERNAL),
    "dashboard_days": Table(default=INTERNAL),
    "dashboard_built_days": Table(default=INTERNAL),
    "dashboard_dirty_days": Table(default=INTERNAL),
    "notices": Table(
        {
            "id": INTERNAL,
            "user_id": INTERNAL,
            "kind": INTERNAL,
            "case_id": INTERNAL,
            "level": INTERNAL,
            "text": SENSITIVE,  # holds the case's title; shown to its addressee only
            "data": INTERNAL,
            "created_at": INTERNAL,
            "read_at": INTERNAL,
        }
    ),
    "audit_log": Table(
        {
            "id": INTERNAL,
            "at": INTERNAL,
            "actor_id": INTERNAL,
            "action": INTERNAL,
            "subject_type": INTERNAL,
            "subject_id": INTERNAL,
            "fields": INTERNAL,
            "ip": INTERNAL,
            "request_id": INTERNAL,
            "detail": PERSONAL,  # e.g. which visits a page showed
        }
    ),
    "uploads": Table(default=INTERNAL),
    "sync_mutations": Table(
        {
            "id": INTERNAL,
            "device_id": INTERNAL,
            "user_id": INTERNAL,
            "seq": INTERNAL,
            "op_id": INTERNAL,
            "name": INTERNAL,
            "args": SENSITIVE,  # a phone's raw records: visits, reports
            "base_version": INTERNAL,
            "status": INTERNAL,
            "reason_code": INTERNAL,
            "reason_message": INTERNAL,
            "result": INTERNAL,
            "server_version": INTERNAL,
            "recorded_at_device": INTERNAL,
            "received_at": INTERNAL,
            "clock_offset_ms": INTERNAL,
            "clock_suspect": INTERNAL,
        }
    ),
    "sync_case_conflicts": Table(
        {
            "id": INTERNAL,
            "case_id": INTERNAL,
            "field": INTERNAL,
            "base_version": INTERNAL,
            "earlier_value": SENSITIVE,  # a case field's text, private cases' included
            "earlier_author_id": INTERNAL,
            "earlier_version": INTERNAL,
            "later_value": SENSITIVE,
            "later_author_id": INTERNAL,
            "later_device_id": INTERNAL,
            "op_id": INTERNAL,
            "created_at": INTERNAL,
            "version": INTERNAL,
            "resolved_by_id": INTERNAL,
            "resolved_at": INTERNAL,
            "resolution": INTERNAL,
        }
    ),
    "sync_field_stamps": Table(default=INTERNAL),
    "sync_clock": Table(default=INTERNAL),
    "sync_marks": Table(default=INTERNAL),
    "sync_scopes": Table(default=INTERNAL),
    "sync_scope_exits": Table(default=INTERNAL),
    "sync_devices": Table(default=INTERNAL),
}

#: Fields of a case that are not columns of `cases` but are rendered with it.
CASE_EXTRAS: dict[str, Rule] = {
    "service_code": KIND,  # of its catalogue item
    "service_name": KIND,
    "agency": KIND,  # its unit's name
    "media_url": TEXT,  # open311_requests.media_url
    "reported_text": TEXT,  # what the reporter told us (the `reported` event's note)
    "merged": PUBLIC,  # a duplicate merged into another case
}

#: Coarse forms (server/privacy/render.py) and their classes: a building instead of a door,
#: a point to about 100 m. A private case has none in public: it is not listed at all.
COARSE: dict[str, ByDisclosure] = {
    "address": ByDisclosure(PUBLIC, PUBLIC, INTERNAL),
    "lon": ByDisclosure(PUBLIC, PUBLIC, INTERNAL),
    "lat": ByDisclosure(PUBLIC, PUBLIC, INTERNAL),
}

#: What the holder of their own report's follow link also reads: the words and the place
#: they gave us. Never their name or phone (the link may have been forwarded).
OWN_FIELDS = frozenset({"reported_text", "address"})

#: The disclosure a new case gets from its channel when nobody chose one.
DEFAULT_DISCLOSURE: dict[Channel, Disclosure] = {
    # Filed through an open standard whose read side serves descriptions to anyone.
    Channel.OPEN311: Disclosure.PUBLIC,
    # The resident chooses on the form; listed without their text unless they say so.
    Channel.ONLINE: Disclosure.LISTED,
    # Staff words about a matter in the street stay inside; the matter itself is listed.
    Channel.PATROL: Disclosure.LISTED,
    Channel.HOTLINE: Disclosure.LISTED,
    Channel.WALK_IN: Disclosure.LISTED,
    # Found at a household's door: never public.
    Channel.VISIT: Disclosure.PRIVATE,
}


def disclosure_allowed(disclosure: Disclosure | str, *, from_visit: bool) -> bool:
    """Text written at a household's door is never public; the centre may list the matter.

    >>> disclosure_allowed("public", from_visit=True), disclosure_allowed("listed", from_visit=True)
    (False, True)
    """
    return not (from_visit and Disclosure(disclosure) == Disclosure.PUBLIC)


def case_rule(name: str) -> Rule:
    """The rule of a case field (a column of `cases` or one of CASE_EXTRAS)."""
    if name in CASE_EXTRAS:
        return CASE_EXTRAS[name]
    return TABLES["cases"].rule(name)


def class_of(rule: Rule, disclosure: Disclosure | str) -> DataClass:
    return rule.of(disclosure) if isinstance(rule, ByDisclosure) else rule


def default_disclosure(channel: Channel | str) -> Disclosure:
    """The disclosure of a new case from `channel` when nobody chose one.

    >>> default_disclosure("visit").value
    'private'
    """
    return DEFAULT_DISCLOSURE[Channel(channel)]
