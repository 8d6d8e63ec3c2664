"""Property-based requests over the whole OpenAPI document: no operation answers 5xx.

schemathesis generates up to MAX_EXAMPLES requests per operation from `/api/v1/openapi.json`
(valid ones, then anything the schema allows), sent as an admin device through the WSGI app.
Under `app.testing` the catch-all error handler re-raises, so a crash shows as an exception
here rather than as a 500. The number of requests sent is printed (`-s`) and asserted > 0.
"""

from __future__ import annotations

import hypothesis
import pytest
from hypothesis import HealthCheck, settings

MAX_EXAMPLES = 20


@pytest.fixture
def admin_token(make_user, token_for) -> str:
    return str(token_for(make_user("admin")))


def test_no_operation_of_the_openapi_document_answers_5xx(app, admin_token):
    import schemathesis

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Signing the admin's device out would turn every later request into a 401.
    operations.sort(key=lambda op: op.method.upper() == "DELETE" and op.path == "/auth/token")
    headers = {"Authorization": f"Bearer {admin_token}"}
    sent: dict[str, int] = {}
    failures: list[str] = []

    for operation in operations:
        _exercise(operation, headers, sent, failures)

    total = sum(sent.values())
    print(f"schemathesis: {len(operations)} operations, {total} requests")
    assert len(operations) >= 20 and total >= len(operations)
    assert not failures, "\n".join(failures[:20])


def _exercise(operation, headers: dict[str, str], sent: dict[str, int], failures: list[str]):
    """Send up to MAX_EXAMPLES generated requests to one operation; record any 5xx or crash."""
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy())
    def run(case):
        sent[label] = sent.get(label, 0) + 1
        try:
            response = case.call(headers=headers)
        except Exception as error:  # noqa: BLE001  (the app raised: a 500 in production)
            failures.append(f"{label}: {type(error).__name__}: {error}")
            return
        if response.status_code >= 500:
            failures.append(f"{label}: {response.status_code} for {case.as_curl_command()}")

    run()
