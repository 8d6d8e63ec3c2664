"""Every route of `app.url_map`, as every role, with hostile path values, query arguments
and bodies: never a 5xx, and a refused request changes no data (issue 12, item 4).

Schemathesis (tests/api) walks only the OpenAPI part; this walks everything else too: pages,
exports, the map's GeoJSON, Open311, residents' pages, the phone's API. The tables below say
which query arguments each endpoint reads and of what kind; an endpoint the table does not
know fails the test, so a route added later must be described here before it is walked.
The values are deterministic (the same requests every run): huge integers, 1e20, -1, dates
at the edges of the calendar, unknown enum values, 10 000-character text, unicode, `[]` and
`{}`, hand-made pull cursors, and JSON nested deeper than any parser's recursion limit.

The app runs with TESTING, so an exception propagates out of the test client instead of
becoming a 500; both are recorded as failures, with the request that caused them.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from server.extensions import db
from tests.server.conftest import PASSWORD, login

# --- hostile values, by kind ---------------------------------------------------------------

HUGE = "99999999999999999999"
INTS = [HUGE, str(2**63), "1e20", "-1", "zzz"]
DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "zzz"]
DATETIMES = ["0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59+14:00", "zzz"]
FLOATS = ["1e400", "nan", "inf", HUGE, "zzz"]
TEXTS = ["x" * 10_000, "名字%_*\U0001f600", "' OR 1=1 --", "{}"]
ENUMS = ["zzz", "", "OPEN"]
FLAGS = ["zzz", "x" * 10_000]


def _cursor(fields: Any) -> str:
    raw = fields if isinstance(fields, str) else json.dumps(fields)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


CURSORS = [
    _cursor('[Infinity, 1, "a", "s"]'),
    _cursor('[1e400, 1, "a", "s"]'),
    _cursor([10**30, 1, "a", "s"]),
    _cursor([1, 10**30, "a", "s"]),
    _cursor([{}, [], {}, []]),
    _cursor({"a": 1}),
    _cursor([1, 1, "a", "s", "t", 10**30, 1, "b"]),
    _cursor([-(2**70), -1, "", ""]),
    _cursor("[" * 5000 + "]" * 5000),
    "!!!not-base64",
    "x" * 10_000,
]

KINDS: dict[str, list[str]] = {
    "int": INTS,
    "date": DATES,
    "datetime": DATETIMES,
    "float": FLOATS,
    "text": TEXTS,
    "enum": ENUMS,
    "flag": FLAGS,
    "cursor": CURSORS,
    "uuid": ["zzz", str(uuid.uuid4()), HUGE, "x" * 10_000],
}

# --- what each endpoint reads from the query string ----------------------------------------

_PAGED = {"page": "int"}
#: endpoint → {query argument: kind}. Every endpoint of the URL map must be here.
QUERY_ARGS: dict[str, dict[str, str]] = {
    "accounts.login": {"next": "text"},
    "accounts.logout": {},
    "addresses.check": {"page": "int", "status": "enum", "q": "text"},
    "addresses.doors": {"bbox": "text"},
    "addresses.resolve": {},
    "api-docs.openapi_json": {},
    "api-docs.openapi_swagger_ui": {},
    "admin.assign_duty": {},
    "admin.care_tags": {},
    "admin.catalogue": {"q": "text"},
    "admin.end_duty": {},
    "admin.item": {},
    "admin.person": {"under": "text", "q": "text"},
    "admin.reset_link_for": {},
    "admin.set_active": {},
    "admin.staff": {"q": "text", "role": "enum"},
    "admin.unit": {},
    "admin.units": {"q": "text"},
    "admin.update_person": {},
    "audit.index": {
        "since": "datetime",
        "subject_type": "text",
        "subject_id": "text",
        "actor": "int",
        "page": "int",
    },
    "auth.create_token": {},
    "forms.index": {},
    "forms.create": {},
    "forms.import_new": {},
    "forms.import_into": {},
    "forms.form": {},
    "forms.new_draft": {},
    "forms.version": {},
    "forms.save": {},
    "forms.publish": {},
    "forms.export": {},
    "auth.renew_token": {},
    "auth.delete_token": {},
    "auth.me": {},
    "bookings.decide": {},
    "bookings.index": {"status": "enum"},
    "bookings.reply": {},
    "campaigns.close": {},
    "campaigns.change_end": {},
    "campaigns.detail": {},
    "campaigns.edit": {},
    "campaigns.index": {},
    "campaigns.new": {},
    "campaigns.publish": {},
    "campaign_progress.progress_page": {},
    "campaign_progress.progress_json": {},
    "campaign_progress.report_page": {"per": "enum"},
    "campaign_progress.export_csv": {"include_personal": "flag"},
    "campaign_progress.export_xlsx": {"include_personal": "flag"},
    "cases.catalogue_lookup": {"q": "text"},
    "cases.detail": {"reveal": "enum", "rating_link": "text"},
    "cases.disclosure": {},
    "cases.intake": {},
    "cases.locate_lookup": {"lon": "float", "lat": "float"},
    "cases.merge": {},
    "cases.place_lookup": {"q": "text"},
    "cases.postpone": {},
    "cases.queue": {"view": "enum", "status": "enum", "q": "text", "page": "int"},
    "cases.rating": {},
    "cases.relocate": {},
    "cases.step": {},
    "cases.units_json": {"q": "text", "cell": "text"},
    "conflicts.index": {"all": "flag"},
    "conflicts.resolve": {},
    "docs_assets.swagger_asset": {},
    "evaluation.evaluations": {"from": "date", "to": "date", "period": "text"},
    "evaluation.export_csv": {"from": "date", "to": "date", "group": "enum"},
    "evaluation.export_xlsx": {"from": "date", "to": "date", "group": "enum"},
    "evaluation.index": {"from": "date", "to": "date", "group": "enum"},
    "exports.cases_csv": {"since": "date", "until": "date", "include_caller": "flag"},
    "exports.cases_geojson": {"since": "date", "until": "date", "include_caller": "flag"},
    "exports.index": {},
    "grid.assign": {},
    "grid.cell_people": {"code": "text", "role": "enum"},
    "grid.confirm_publish": {},
    "grid.end_duty": {},
    "grid.gaps": {"version": "int"},
    "layers.index": {},
    "layers.layer": {},
    "layers.publish": {},
    "layers.upload": {},
    "layers_api.create_import": {},
    "layers_api.features": {"bbox": "text", "kinds": "text"},
    "layers_api.get_layer": {},
    "layers_api.list_layers": {},
    "layers_api.publish": {},
    "map_tiles_api.tiles": {},
    "register.add_resident": {},
    "register.edit_household": {},
    "register.edit_resident": {},
    "register.household": {"open": "text"},
    "register.index": {"q": "text"},
    "register.move_household": {},
    "register.resident_status": {},
    "grid.import_progress": {},
    "grid.leaflet": {},
    "grid.markercluster": {},
    "grid.publish": {},
    "grid.reimport": {},
    "grid.upload": {},
    "grid.version": {"page": "int"},
    "grid.versions": {},
    "grid_api.cell_people": {"role": "enum", "at": "datetime"},
    "grid_api.cells": {"level": "enum", "version": "int", "datum": "enum", "bbox": "text"},
    "grid_api.create_duty": {},
    "grid_api.create_import": {},
    "grid_api.end_duty": {"ended_at": "datetime", "reason": "text"},
    "grid_api.export": {"datum": "enum", "format": "enum"},
    "grid_api.gaps": {"version": "int"},
    "grid_api.get_version": {},
    "grid_api.impact": {},
    "grid_api.import_job": {},
    "grid_api.list_duties": {"cell": "text", "user_id": "int", "at": "datetime", "role": "enum"},
    "grid_api.list_versions": {},
    "grid_api.locate": {"lon": "float", "lat": "float", "datum": "enum", "at": "datetime"},
    "grid_api.override": {},
    "grid_api.publish": {},
    "grid_api.upload_file": {},
    "grid_api.version_diff": {"against": "int"},
    "care_tags_api.set_visit_form": {},
    "identity_api.masked": {},
    "identity_api.reveal": {},
    "imports.apply": {},
    "imports.categories": {},
    "imports.index": {"kind": "enum"},
    "imports.remap": {},
    "imports.report_csv": {},
    "imports.run": {"page": "int", "status": "enum"},
    "imports.template": {},
    "imports.upload": {},
    "imports.withdraw": {},
    "imports_api.apply": {},
    "imports_api.check": {"dry_run": "flag"},
    "imports_api.get_run": {"page": "int"},
    "imports_api.list_runs": {"kind": "enum"},
    "lifeservices.book": {},
    "lifeservices.booking": {},
    "lifeservices.directory": {"q": "text", "kind": "enum"},
    "lifeservices.point": {"date": "date"},
    "lifeservices.points_geojson": {"kind": "enum"},
    "mapview.cases_geojson": {
        "category": "int",
        "status": "enum",
        "cell": "text",
        "since": "date",
        "until": "date",
        "bbox": "text",
    },
    "mapview.cell": {},
    "mapview.cells_geojson": {"level": "enum"},
    "mapview.index": {},
    "notices.index": _PAGED,
    "notices.read": {},
    "open311.create_request": {},
    "open311.discovery": {},
    "open311.list_requests": {
        "start_date": "datetime",
        "end_date": "datetime",
        "status": "enum",
        "service_code": "text",
        "service_request_id": "text",
        "lang": "enum",
        "page": "int",
        "page_size": "int",
    },
    "open311.one_request": {"lang": "enum"},
    "open311.openapi": {},
    "open311.service_definition": {"lang": "enum"},
    "open311.services": {"lang": "enum"},
    "open311.token": {},
    "open311.unknown": {},
    "password_reset.forgot": {},
    "password_reset.reset": {},
    "photos.create": {},
    "photos.head": {},
    "photos.options": {},
    "photos.patch": {},
    "photos.photo": {},
    "photos.terminate": {},
    "photos.thumb": {},
    "prometheus_metrics": {},
    "pwa.app_root_without_slash": {},
    "pwa.pwa_file": {},
    "rating.rate": {},
    "residents.catalogue_lookup": {"q": "text"},
    "residents.cells": {},
    "residents.follow": {"new": "flag", "texted": "flag"},
    "residents.phone_code": {},
    "residents.places_lookup": {"q": "text"},
    "residents.rate": {},
    "residents.report_page": {"category": "int", "lat": "float", "lon": "float"},
    "residents.report_submit": {},
    "residents.static": {},
    "static": {},
    "sync.list_conflicts": {"status": "enum", "limit": "int"},
    "sync.layers": {},
    "sync.pull": {"cursor": "cursor", "limit": "int"},
    "sync.push": {},
    "sync.resolve_conflict": {},
    "users.index": _PAGED,
    "users.reset_link_for": {},
    "visits.index": {
        "since": "date",
        "until": "date",
        "cell": "text",
        "worker": "int",
        "page": "int",
    },
    "visits.log": {
        "cell": "text",
        "since": "date",
        "until": "date",
        "worker": "int",
        "page": "int",
    },
    "web.healthz": {},
    "web.healthz_live": {},
    "web.source_archive": {},
    "web.home": {},
    "web.set_language": {},
}
#: Arguments every page reads (the language switch).
EVERYWHERE = {"lang": "enum"}

#: Hostile values of path variables, per converter (AnyConverter: each of its choices).
PATH_VALUES: dict[str, list[Any]] = {
    "IntegerConverter": [int(HUGE), 2**63, 2**31, 0],
    "UUIDConverter": [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)],
    "UnicodeConverter": ["zzz", HUGE, "x" * 5000, "名字", "\x00"],
    "PathConverter": ["zzz", "../../etc/passwd", "x" * 5000, "\x00"],
}
#: string(length=64): a hash-shaped value and one that is not hex.
HASHES = ["0" * 64, "z" * 64]

# --- bodies for the methods that write -------------------------------------------------------

#: Field names the forms and API schemas read (unknown names are ignored or refused).
BODY_FIELDS = [
    "id",
    "version",
    "base_version",
    "page",
    "score",
    "comment",
    "note",
    "reason",
    "status",
    "category",
    "category_id",
    "item_id",
    "lat",
    "lon",
    "date",
    "since",
    "until",
    "from",
    "to",
    "q",
    "code",
    "name",
    "username",
    "password",
    "role",
    "cell",
    "cell_code",
    "worker",
    "user_id",
    "slot_id",
    "level",
    "description",
    "address",
    "phone",
    "kind",
    "decision",
    "choice",
    "days",
    "due_at",
    "until_at",
    "starts_at",
    "ends_at",
    "target",
    "into",
    "disclosure",
    "action",
    "step",
    "service_code",
    "period",
    "mapping",
    "rows",
    "category_map",
    "count",
    "people",
    "visited_at",
    "reply",
    "text",
    "title",
    "priority",
    "device_id",
    "device_name",
    "token",
    "form_ts",
    "lang",
    "next",
    "title_zh",
    "form_id",
    "target_kind",
    "responsible",
    "starts_on",
    "ends_on",
]
#: One value of every kind per body: each body sets every field to it.
BODY_VALUES: list[Any] = [
    10**30,
    -1,
    "0001-01-01",
    "9999-12-31T23:59:59+14:00",
    "x" * 10_000,
    [],
    {},
    None,
]
#: A form carries text only: the same, as a browser would send them.
FORM_VALUES = [10**30, -1, "0001-01-01", "9999-12-31T23:59:59+14:00", "x" * 10_000, "zzz"]
DEEP = "[" * 100_000 + "]" * 100_000
RAW_JSON = [
    DEEP,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    '{"n": 1e400}',
    '{"n": ' + "9" * 5000 + "}",
    "[NaN]",
    '{"mutations": [{"base_version": ' + str(2**70) + "}]}",
]

#: Tables that a refused request may still touch: its own bookkeeping, never the data.
BOOKKEEPING = {
    "audit_log",  # denied and failed attempts are audited
    "login_attempts",  # a wrong password counts against the account
    "rate_counters",  # every anonymous form spends its budget
    "dashboard_built_days",
    "dashboard_days",
    "dashboard_dirty_days",  # built on read
    "sync_clock",
    "sync_scopes",  # a pull registers the device's scope (the plain pull is accepted)
}

ROLES = ["stranger", "resident", "worker", "dispatcher", "manager", "gis", "admin"]
USERS = {"worker": "w1", "dispatcher": "d1", "manager": "mgr", "admin": "admin", "gis": "gis1"}
#: Run last: they end the caller's session.
ENDING = {"accounts.logout", "auth.delete_token"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Caller:
    """A client with its session, CSRF token and (staff) a device bearer token."""

    def __init__(self, app: Flask, role: str) -> None:
        self.role = role
        self.client: FlaskClient = app.test_client()
        self.bearer: str | None = None
        self.last: int | str = 0  # the last answer's status ("login": sent to log in)
        if role in USERS:
            assert login(self.client, USERS[role]).status_code == 302
            issued = self.client.post(
                "/api/v1/auth/token",
                json={
                    "username": USERS[role],
                    "password": PASSWORD,
                    "device_id": str(uuid.uuid4()),
                    "device_name": "fuzz",
                },
            )
            assert issued.status_code == 201, issued.get_json()
            self.bearer = issued.get_json()["token"]
        page = "/report/" if role != "stranger" else "/login"
        found = CSRF.search(self.client.get(page).get_data(as_text=True))
        if found is None:
            found = CSRF.search(self.client.get("/report/").get_data(as_text=True))
        self.csrf = found.group(1) if found and role != "stranger" else ""


Request = tuple[Rule, str, str, dict[str, str], dict[str, Any]]


def _requests(app: Flask) -> Iterator[list[Request]]:
    """For every rule × method, its requests (rule, method, path, query, body kwargs): the
    plain one first, then one per hostile input."""
    unknown = sorted({r.endpoint for r in app.url_map.iter_rules()} - set(QUERY_ARGS))
    assert unknown == [], f"describe these endpoints' query arguments in QUERY_ARGS: {unknown}"
    stale = sorted(set(QUERY_ARGS) - {r.endpoint for r in app.url_map.iter_rules()})
    assert stale == [], f"these endpoints are gone: remove them from QUERY_ARGS: {stale}"
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint in ENDING, r.rule))
    for rule in rules:
        paths = _paths(rule)
        methods = sorted(set(rule.methods or ()) - {"HEAD", "OPTIONS"}) or ["OPTIONS"]
        args = QUERY_ARGS[rule.endpoint]
        for method in methods:
            first = paths[0]
            group: list[Request] = [(rule, method, path, {}, {}) for path in paths]
            for name, kind in args.items():
                group += [(rule, method, first, {name: value}, {}) for value in KINDS[kind]]
            every = {name: KINDS[kind][0] for name, kind in {**EVERYWHERE, **args}.items()}
            group.append((rule, method, first, every, {}))
            if method in ("POST", "PATCH", "PUT", "DELETE"):
                group += [(rule, method, first, {}, body) for body in _bodies(first)]
            yield group


def _paths(rule: Rule) -> list[str]:
    names = list(rule._converters)
    choices = []
    for name in names:
        converter = rule._converters[name]
        kind = type(converter).__name__
        if kind == "AnyConverter":
            choices.append(sorted(converter.items))  # type: ignore[attr-defined]
        elif getattr(converter, "regex", "").endswith("{64}"):
            choices.append(HASHES)
        else:  # by the converter's werkzeug class (the app's `int` is a bounded subclass)
            kind = next(c.__name__ for c in type(converter).__mro__ if c.__name__ in PATH_VALUES)
            choices.append(PATH_VALUES[kind])
    # Each variable takes each of its values once, the others their first (not a product).
    combos = [[c[0] for c in choices]]
    for i, values in enumerate(choices):
        combos += [
            [*(c[0] for c in choices[:i]), v, *(c[0] for c in choices[i + 1 :])] for v in values[1:]
        ]
    return [
        rule.build(dict(zip(names, combo, strict=True)), append_unknown=False)[1]
        for combo in combos
    ]


def _bodies(path: str) -> list[dict[str, Any]]:
    if path.startswith("/api/") or path.startswith("/open311/"):
        typed = [{"json": {f: v for f in BODY_FIELDS}} for v in BODY_VALUES]
        typed.append(
            {
                "json": {
                    "mutations": [
                        {
                            "id": str(uuid.uuid4()),
                            "op": "case.create",
                            "base_version": 2**70,
                            "args": {},
                        }
                    ]
                }
            }
        )
        raw = [{"data": text, "content_type": "application/json"} for text in RAW_JSON]
        return [{"json": []}, {"json": {}}, *typed, *raw]
    forms = [{"data": {f: str(v) for f in BODY_FIELDS}} for v in FORM_VALUES]
    return [{"data": {}}, *forms, {"data": DEEP, "content_type": "application/json"}]


def fingerprint() -> dict[str, int]:
    """Row counts of every table but the bookkeeping ones."""
    tables = [t for name, t in sorted(db.metadata.tables.items()) if name not in BOOKKEEPING]
    counts = [sa.select(sa.literal(t.name), sa.func.count()).select_from(t) for t in tables]
    return {str(name): int(n) for name, n in db.session.execute(sa.union_all(*counts))}


@pytest.fixture
def callers(app: Flask, world: Any, make_user: Callable[..., Any]) -> dict[str, Caller]:
    make_user("gis", username="gis1")
    return {role: Caller(app, role) for role in ROLES}


def fuzz(app: Flask, callers: dict[str, Caller]) -> dict[str, Any]:
    """Send everything as everyone; return the failures, data changed by refused requests,
    how many requests were sent and the slowest endpoints.

    Each group (one rule, method and role) starts with the plain request; the hostile rest
    is sent only when that one was not refused for who the caller is (401, 403, a redirect
    to the login page: nothing is parsed then). The data's fingerprint is compared after
    each group whose writing requests were all refused.
    """
    failures: dict[str, str] = {}  # (endpoint, method, what went wrong) → one request
    changed: list[str] = []
    sent = 0
    spent: dict[str, float] = {}
    before = fingerprint()
    for role, caller in callers.items():
        for group in _requests(app):
            accepted = False
            for index, (rule, method, path, query, body) in enumerate(group):
                answer = _send(caller, method, path, query, body)
                sent += 1
                spent[rule.endpoint] = spent.get(rule.endpoint, 0.0) + answer.seconds
                if answer.error or answer.status >= 500:
                    what = f"{role} {method} {path[:80]} {str(query)[:80]} {str(body)[:80]}"
                    failures.setdefault(f"{rule.endpoint} {method} {answer.error}", what)
                accepted = accepted or (method != "GET" and answer.status < 400)
                if index == 0 and answer.refused_for_role:
                    break
            after = fingerprint()
            if after != before and not accepted:
                diff = {t: (before[t], after[t]) for t in after if after[t] != before[t]}
                changed.append(f"{role} {group[0][1]} {group[0][0].rule}: {diff}")
            before = after
    slowest = sorted(spent.items(), key=lambda kv: -kv[1])[:8]
    return {"failures": failures, "changed": changed, "sent": sent, "slowest": slowest}


@dataclass
class Answer:
    status: int
    error: str = ""
    seconds: float = 0.0
    refused_for_role: bool = False


def _send(caller: Caller, method: str, path: str, query: dict, body: dict) -> Answer:
    headers = {}
    if caller.csrf:
        headers["X-CSRFToken"] = caller.csrf
        if isinstance(body.get("data"), dict):
            body = {"data": {**body["data"], "csrf_token": caller.csrf}}
    if caller.bearer and path.startswith("/api/"):
        headers["Authorization"] = f"Bearer {caller.bearer}"
    started = time.monotonic()
    try:
        response = caller.client.open(
            path, method=method, query_string=query, headers=headers, **body
        )
    except Exception as error:  # noqa: BLE001  (every exception is a finding)
        db.session.rollback()
        return Answer(500, f"{type(error).__name__}: {str(error)[:120]}")
    response.close()
    to_login = "/login" in response.headers.get("Location", "")
    return Answer(
        response.status_code,
        str(response.status_code) if response.status_code >= 500 else "",
        time.monotonic() - started,
        refused_for_role=to_login or response.status_code in (401, 403),
    )


def test_no_route_answers_5xx_to_any_role_and_refusals_change_nothing(
    app: Flask, callers: dict[str, Caller]
) -> None:
    started = time.monotonic()
    result = fuzz(app, callers)
    elapsed = time.monotonic() - started
    print(f"route fuzz: {result['sent']} requests in {elapsed:.1f} s; slowest {result['slowest']}")
    assert not result["failures"], "\n".join(f"{k}\n    {v}" for k, v in result["failures"].items())
    assert not result["changed"], "\n".join(result["changed"])
    assert result["sent"] > 5_000


def test_an_endpoint_the_tables_do_not_know_stops_the_fuzz(
    make_app: Callable[..., Flask],
) -> None:
    later = make_app()
    later.add_url_rule("/later/<int:n>", "later", lambda n: "")
    with later.app_context(), pytest.raises(AssertionError, match="'later'"):
        next(_requests(later))
