"""Real values for the path variables of every route, taken from the seeded street
(tests/server/privacy_seed.py): the privacy walk and the form fuzzer request pages that exist."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.routing import Rule

from tests.server.privacy_seed import Seeded

Values = Callable[[Seeded], list[Any]]

#: Path parameters that are strings: where their values come from (real ones first).
PATH_VALUES: dict[tuple[str, str], Values] = {
    ("static", "filename"): lambda s: ["favicon.svg", "css/app.css"],
    ("grid.leaflet", "filename"): lambda s: ["leaflet.js"],
    ("grid.markercluster", "filename"): lambda s: ["leaflet.markercluster.js"],
    ("docs_assets.swagger_asset", "filename"): lambda s: ["swagger-ui.css"],
    ("pwa.pwa_file", "filename"): lambda s: ["index.html", "sw.js", "js/app.js"],
    ("residents.static", "filename"): lambda s: ["report.js", "residents.css"],
    ("residents.follow", "token"): lambda s: [*s.follow_tokens, "not-a-token"],
    ("residents.rate", "token"): lambda s: s.follow_tokens,
    ("lifeservices.booking", "token"): lambda s: [*s.booking_tokens, "not-a-token"],
    ("lifeservices.point", "code"): lambda s: [*s.point_codes, "NOPE"],
    ("open311.token", "token"): lambda s: s.open311_tokens,
    ("open311.one_request", "rid"): lambda s: s.numbers,
    ("open311.service_definition", "code"): lambda s: ["A05-01", "A01-01"],
    ("open311.unknown", "rest"): lambda s: ["x.json", *(f"requests/{n}" for n in s.numbers)],
    ("password_reset.reset", "token"): lambda s: s.reset_tokens,
    ("rating.rate", "code"): lambda s: [*s.rating_codes, "not-a-code"],
    ("web.set_language", "code"): lambda s: ["zh", "en"],
    ("grid_api.cell_people", "code"): lambda s: ["G1", "S"],
    ("mapview.cell", "code"): lambda s: ["G1", "G2", "S"],
    ("imports.template", "kind"): lambda s: ["register", "addresses"],
    ("imports.template", "fmt"): lambda s: ["csv", "xlsx"],
    ("imports.upload", "kind"): lambda s: ["register", "staff"],
    ("imports_api.check", "kind"): lambda s: ["register", "units"],
    ("care_tags_api.set_visit_form", "code"): lambda s: ["alone", "no-such-tag"],
}


def real_path_values(rule: Rule, name: str, s: Seeded) -> list[Any]:
    """Values of path variable `name` of `rule` that exist in the seeded street (real ones
    first); fails the test for a string variable nobody described."""
    converter = rule._converters[name]
    kind = type(converter).__name__
    if (rule.endpoint, name) in PATH_VALUES:
        return PATH_VALUES[(rule.endpoint, name)](s)
    if kind == "AnyConverter":
        return sorted(converter.items)  # type: ignore[attr-defined]
    if kind == "UUIDConverter":
        return [*s.case_ids, uuid.uuid4()]
    if kind in ("IntegerConverter", "BoundedIntegerConverter"):
        return [*s.ints, 1]
    if getattr(converter, "regex", "").endswith("{64}"):
        return s.photo_hashes
    pytest.fail(f"walk {rule.endpoint} with real values: add ({rule.endpoint!r}, {name!r})")
