"""No personal marker in any answer of any route a stranger, GIS staff or an export reaches.

The street is seeded with a marker in every personal field (tests/server/privacy_seed.py),
through the real flows, on both databases. Then every rule of `app.url_map` is requested
with every method, path values taken from the seeded records (real case numbers, follow
and booking tokens, rating codes, photo hashes …) and plausible query arguments; every body
and header is searched for markers the reader may not read (server/privacy/classes.py).

A route added later is walked automatically; one whose path takes a string needs its
values in PATH_VALUES (tests/server/seed_paths.py), and one that only ever answers 404 to the
seeded values fails the walk too: a public route cannot slip in without being walked with real data.
Every channel is published to Open311 here, so the disclosure alone keeps cases private
(the default configuration publishes a subset, so what holds here holds there).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from werkzeug.routing import Rule

from server.accounts import operations as accounts
from server.enums import Channel
from server.extensions import db
from server.privacy.classes import READS, Audience
from tests.server.conftest import PASSWORD, login
from tests.server.privacy_seed import Seeded, seed
from tests.server.seed_paths import real_path_values

#: Query arguments worth sending, per endpoint (every endpoint is also asked with none).
QUERIES: dict[str, Callable[[Seeded], list[dict[str, str]]]] = {
    "open311.list_requests": lambda s: [
        {"status": "open,closed"},
        {"service_request_id": ",".join(s.numbers)},
        {"service_code": "A05-01,A01-01", "lang": "en"},
    ],
    "open311.one_request": lambda s: [{"lang": "en"}],
    "residents.places_lookup": lambda s: [{"q": q} for q in s.addresses],
    "residents.catalogue_lookup": lambda s: [{"q": "垃圾"}, {"q": "ljdf"}],
    "lifeservices.directory": lambda s: [{"q": "助餐"}, {"kind": "meal"}],
    "cases.place_lookup": lambda s: [{"q": q} for q in s.addresses],
    "mapview.cases_geojson": lambda s: [{"status": "all"}],
    "exports.cases_csv": lambda s: [{"include_caller": "1"}],
    "exports.cases_geojson": lambda s: [{"include_caller": "1"}],
    "visits.log": lambda s: [{"cell": "G1"}],
}
#: Routes that answer 404 to every value by design.
ALWAYS_404 = {("open311.unknown", "GET"), ("open311.unknown", "POST")}
#: Run last: they end the caller's session.
ENDING = {("accounts.logout", "POST"), ("auth.delete_token", "DELETE")}


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app(OPEN311_PUBLIC_CHANNELS=[c.value for c in Channel])
    with app.app_context():
        yield app


@pytest.fixture
def seeded(client: FlaskClient, world: Any) -> Seeded:
    return seed(client, world)


def _methods(rule: Rule) -> list[str]:
    methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
    return sorted(methods or set(rule.methods or ()) - {"OPTIONS"} or {"OPTIONS"})


def _requests(
    app: Flask, s: Seeded, *, only_get: bool, endpoints: set[str] | None = None
) -> list[tuple[Rule, str, str, dict]]:
    """(rule, method, path, query) for every rule × method × path values × queries."""
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        if endpoints is not None and rule.endpoint not in endpoints:
            continue
        names = list(rule._converters)
        combos = itertools.product(*(real_path_values(rule, n, s) for n in names))
        paths = [
            rule.build(dict(zip(names, c, strict=True)), append_unknown=False)[1] for c in combos
        ]
        for method in _methods(rule):
            if only_get and method != "GET":
                continue
            queries = [{}, *QUERIES.get(rule.endpoint, lambda _s: [])(s)]
            out += [(rule, method, path, q) for path in paths for q in queries]
    return sorted(out, key=lambda r: ((r[0].endpoint, r[1]) in ENDING, r[1] != "GET"))


def _text(response: Any) -> str:
    """Body and headers as text; spreadsheets are read cell by cell (XLSX is a zip)."""
    body = response.get_data()
    if "spreadsheetml" in response.content_type:
        book = load_workbook(io.BytesIO(body), read_only=True)
        body = "\n".join(
            str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row
        ).encode()
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return body.decode("utf-8", errors="replace") + "\n" + headers


def walk(
    client: FlaskClient,
    app: Flask,
    s: Seeded,
    audience: Audience,
    *,
    only_get: bool = False,
    endpoints: set[str] | None = None,
) -> dict[str, Any]:
    """Request everything (or `endpoints`); return the leaks, what each endpoint answered,
    and the bodies."""
    forbidden = s.forbidden(READS[audience])
    leaks, statuses, bodies = [], {}, {}
    for rule, method, path, query in _requests(app, s, only_get=only_get, endpoints=endpoints):
        kwargs: dict[str, Any] = {"query_string": query}
        if method in ("POST", "PATCH", "PUT", "DELETE"):
            kwargs["json" if path.startswith("/api/") else "data"] = {}
        response = client.open(path, method=method, **kwargs)
        text = _text(response)
        response.close()
        statuses.setdefault((rule.endpoint, method), set()).add(response.status_code)
        bodies[(method, path, tuple(sorted(query.items())))] = text
        asked = f"{path}?{query}"  # the caller's own words echoed back are no leak
        for marker, (data_class, where) in forbidden.items():
            if marker in text and marker not in asked and s.own.get(marker) != path:
                leaks.append(f"{data_class.value} {where} ({marker}) in {method} {path} {query}")
    return {"leaks": leaks, "statuses": statuses, "bodies": bodies}


def _every(result: dict[str, Any], prefix: str) -> str:
    return "\n".join(t for (m, p, _q), t in result["bodies"].items() if p.startswith(prefix))


def test_a_stranger_reaches_no_personal_marker_on_any_route(
    app: Flask, seeded: Seeded, world: Any
) -> None:
    stranger = app.test_client()
    result = walk(stranger, app, seeded, Audience.PUBLIC)
    assert result["leaks"] == []
    with_values = {r.endpoint for r in app.url_map.iter_rules() if r.arguments}
    every_404 = sorted(
        key
        for key, codes in result["statuses"].items()
        if codes == {404} and key[0] in with_values and key not in ALWAYS_404
    )
    assert every_404 == [], "walk these with values that exist (seed_paths.PATH_VALUES)"
    # The walk did read cases: public text and media are there, private cases are not.
    open311 = _every(result, "/open311/")
    review = _marker(seeded, "service_reviews.comment")
    public = [m for m, (c, _w) in seeded.markers.items() if c.value == "public" and m != review]
    assert public and all(m in open311 for m in public)
    assert review in _every(result, "/services/p/")
    named = [
        (n, m, p, q)
        for (m, p, q), t in result["bodies"].items()
        for n in seeded.private_numbers
        if p.startswith("/open311/") and n in t and n not in f"{p}?{q}"
    ]
    assert named == []
    listed = set(seeded.numbers) - set(seeded.private_numbers)
    assert listed and all(n in open311 for n in listed)
    # A reporter's own words are on their own follow page (and only there: the leak check).
    for marker, path in seeded.own.items():
        assert marker in _every(result, path), (marker, path)


def test_a_route_added_later_is_walked_and_must_be_given_real_values(
    make_app: Callable[..., Flask], app: Flask, seeded: Seeded
) -> None:
    """The walk's own guard: a new route leaking a room is caught; one with a string
    parameter nobody gave values for stops the walk until someone does."""
    from sqlalchemy import select

    from server.population.models import Household

    later = make_app(OPEN311_PUBLIC_CHANNELS=[c.value for c in Channel])
    later.add_url_rule(
        "/rooms", "rooms", lambda: ",".join(db.session.scalars(select(Household.room)))
    )
    later.add_url_rule("/rooms/<name>", "room", lambda name: "")
    with later.app_context():
        found = walk(later.test_client(), later, seeded, Audience.PUBLIC, endpoints={"rooms"})
        assert [leak.split(" (")[0] for leak in found["leaks"]] == ["personal households.room"]
        with pytest.raises(pytest.fail.Exception, match="'room', 'name'"):
            walk(later.test_client(), later, seeded, Audience.PUBLIC, endpoints={"room"})


def _marker(s: Seeded, where: str) -> str:
    return next(m for m, (_c, w) in s.markers.items() if w == where)


def test_gis_staff_reach_no_personal_marker_on_any_page(
    app: Flask, seeded: Seeded, world: Any
) -> None:
    accounts.create_user(db.session, username="gis1", password=PASSWORD, role="gis")
    db.session.commit()
    gis = app.test_client()
    assert login(gis, "gis1").status_code == 302
    result = walk(gis, app, seeded, Audience.STAFF, only_get=True)
    assert result["leaks"] == []
    # The map did show cases: street matters by their titles, private ones by a stand-in.
    shown = _every(result, "/map/cases.geojson")
    titles = [m for m, (c, w) in seeded.markers.items() if c.value == "internal" and "title" in w]
    assert titles and all(m in shown for m in titles)


@pytest.mark.parametrize(
    ("role", "personal"), [("manager", False), ("manager", True), ("dispatcher", False)]
)
def test_exports_without_personal_data_rights_hold_no_personal_marker(
    app: Flask, seeded: Seeded, world: Any, role: str, personal: bool
) -> None:
    user = "mgr" if role == "manager" else "d1"
    reader = app.test_client()
    assert login(reader, user).status_code == 302
    forbidden = seeded.forbidden(READS[Audience.STAFF])
    query = {"since": "2026-06-01", "until": "2027-05-31"}
    if personal:  # a manager ticking the box anyway gets the same export
        query["include_caller"] = "1"
        query["include_personal"] = "1"  # the campaign exports' box
    campaign = _campaign_id()
    texts = []
    for path in (
        "/exports/cases.csv",
        "/exports/cases.geojson",
        "/dashboard/export.csv",
        "/dashboard/export.xlsx",
        f"/campaigns/{campaign}/export.csv",
        f"/campaigns/{campaign}/export.xlsx",
    ):
        response = reader.get(path, query_string=query)
        assert response.status_code == 200, path
        texts.append(_text(response))
    found = [f"{c.value} {w}" for m, (c, w) in forbidden.items() if any(m in t for t in texts)]
    assert found == []
    assert all(n in texts[0] for n in seeded.numbers)  # every case is exported


def _campaign_id() -> int:
    from sqlalchemy import select

    from server.campaigns.models import Campaign

    found = db.session.scalar(select(Campaign.id).where(Campaign.code == "privacy_walk"))
    assert found is not None
    return found


def test_the_campaign_export_with_the_box_holds_answers_and_names_and_is_audited(
    app: Flask, seeded: Seeded, world: Any
) -> None:
    from sqlalchemy import select

    from server.audit.models import AuditEntry

    reader = app.test_client()
    assert login(reader, "d1").status_code == 302
    path = f"/campaigns/{_campaign_id()}/export.csv"
    text = _text(reader.get(path, query_string={"include_personal": "1"}))
    assert _marker(seeded, "form_answers.values") in text
    assert _marker(seeded, "campaign_targets.label") in text
    subject = db.session.scalar(
        select(AuditEntry.subject_type).where(AuditEntry.action == "export")
    )
    assert subject == "campaign"


def test_the_office_export_with_the_box_holds_callers_and_is_audited(
    app: Flask, seeded: Seeded, world: Any
) -> None:
    from sqlalchemy import select

    from server.audit.models import AuditEntry

    reader = app.test_client()
    assert login(reader, "d1").status_code == 302
    text = _text(
        reader.get(
            "/exports/cases.csv",
            query_string={"since": "2026-06-01", "until": "2027-05-31", "include_caller": "1"},
        )
    )
    callers = [m for m, (c, w) in seeded.markers.items() if w.startswith("cases.caller_phone")]
    assert callers and all(m in text for m in callers)
    assert _marker(seeded, "households.room") in text  # a visit's case, at its door
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "export"))
