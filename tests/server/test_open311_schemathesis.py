"""Schemathesis against the OpenAPI of the Open311 endpoints and the residents' lookups.

No 5xx, responses as documented (status codes, content types, bodies). Each operation gets
MAX_EXAMPLES generated cases; the test asserts how many ran (docs/open311.md has the count).
Driven from a plain test (schemathesis' pytest plugin clashes with this pytest version).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from server.extensions import db
from server.open311.operations import create_partner
from tests.server.backoffice_world import T0

MAX_EXAMPLES = 60


def test_open311_and_lookups_never_fail_with_5xx(app: Any, world: Any) -> None:
    world.items["A05-01"].questions = [{"code": "floor", "datatype": "string", "required": False}]
    _, key = create_partner(db.session, "schemathesis", at=T0)
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/open311/v2/openapi.json", app)
    ran: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        ran[label] = 0

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            ran[f"{case.method} {case.operation.path}"] += 1
            if case.method == "POST" and isinstance(case.body, dict):
                case.body["api_key"] = key  # past the key check, into the form's parsing
            # Rules the schema cannot state (a 90-day window, known ids) make some
            # schema-valid requests 400s by design: that check is left out.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        run()
    assert len(ran) == 9 and all(n > 0 for n in ran.values()), ran
    print(f"\nschemathesis: {sum(ran.values())} cases over {len(ran)} operations: {ran}")
