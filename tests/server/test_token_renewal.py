"""Device tokens expire and renew without a password; revocation, reuse and throttling hold.

The clock is the app's (`CLOCK`), moved by hand; every check goes through the HTTP API.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from server.accounts import operations as accounts
from server.accounts import passwords
from server.accounts.models import ApiToken
from server.extensions import db
from tests.server.conftest import PASSWORD, sign_in


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(app: Any) -> Clock:
    clock = Clock()
    app.config["CLOCK"] = clock
    return clock


def _renew(client: Any, token: str, ip: str = "10.0.0.1") -> Any:
    return client.post(
        "/api/v1/auth/token/renew", json={"token": token}, environ_base={"REMOTE_ADDR": ip}
    )


def _works(client: Any, token: str) -> bool:
    answer = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code in (200, 401)
    return answer.status_code == 200


def test_renewal_gives_a_new_token_and_the_old_one_stops_at_once(
    client, make_user, clock, monkeypatch
):
    user = make_user()
    first = sign_in(client, user)
    assert dt.datetime.fromisoformat(first["expires_at"]) == clock.now + dt.timedelta(hours=24)
    # No password hashing on this path: Argon2 would fail the test.
    monkeypatch.setattr(passwords, "verify_password", lambda *a: pytest.fail("Argon2 used"))
    clock.advance(hours=20)
    answer = _renew(client, first["token"])
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["token"] != first["token"] and body["device_id"] == first["device_id"]
    assert body["user"]["username"] == user.username and body["expires_in"] == 24 * 3600
    assert dt.datetime.fromisoformat(body["expires_at"]) == clock.now + dt.timedelta(hours=24)
    assert not _works(client, first["token"])
    assert _works(client, body["token"])


def test_a_token_expires_and_renews_within_the_grace_but_not_after(client, make_user, clock):
    user = make_user()
    token = sign_in(client, user)["token"]
    clock.advance(hours=24)
    assert not _works(client, token)  # expired: the app renews
    clock.advance(days=6, hours=23)
    renewed = _renew(client, token)
    assert renewed.status_code == 201
    late = sign_in(client, user)["token"]
    clock.advance(hours=24 + 7 * 24)
    refused = _renew(client, late)
    assert refused.status_code == 401
    assert refused.get_json()["code"] == "token_expired"


def test_the_password_is_needed_again_after_the_absolute_lifetime(client, make_user, clock):
    user = make_user()
    token = sign_in(client, user)["token"]
    signed_in = clock.now
    for _ in range(29):
        clock.advance(hours=23)
        answer = _renew(client, token)
        assert answer.status_code == 201, answer.get_json()
        token = answer.get_json()["token"]
        assert dt.datetime.fromisoformat(answer.get_json()["expires_at"]) <= signed_in + (
            dt.timedelta(days=30)
        )
    clock.now = signed_in + dt.timedelta(days=30)
    assert not _works(client, token)
    refused = _renew(client, token)
    assert refused.status_code == 401 and refused.get_json()["code"] == "token_expired"


def test_reusing_a_renewed_token_ends_every_token_of_the_device(client, make_user, clock):
    user = make_user()
    device_id = uuid.uuid4()
    stolen = sign_in(client, user, device_id=device_id)["token"]
    other_device = sign_in(client, user)["token"]
    mine = _renew(client, stolen).get_json()["token"]
    assert _works(client, mine)  # the app used its new token
    clock.advance(seconds=10)
    reuse = _renew(client, stolen, ip="203.0.113.9")
    assert reuse.status_code == 401 and reuse.get_json()["code"] == "token_reused"
    assert not _works(client, mine)
    assert _works(client, other_device)  # another phone of the same user is not touched
    live = db.session.scalars(
        select(ApiToken).where(ApiToken.device_id == device_id, ApiToken.revoked_at.is_(None))
    ).all()
    assert live == []


def test_a_retry_after_a_lost_answer_renews_again_and_voids_the_unused_token(
    client, make_user, clock
):
    user = make_user()
    old = sign_in(client, user)["token"]
    lost = _renew(client, old).get_json()["token"]  # the answer never reached the phone
    clock.advance(seconds=30)
    retried = _renew(client, old)
    assert retried.status_code == 201, retried.get_json()
    new = retried.get_json()["token"]
    assert not _works(client, lost) and not _works(client, old)
    assert _works(client, new)
    # the lost token coming back later is a revoked token, not a renewal
    refused = _renew(client, lost)
    assert refused.status_code == 401 and refused.get_json()["code"] == "token_revoked"


def test_a_retry_outside_the_window_counts_as_reuse(client, make_user, clock):
    user = make_user()
    old = sign_in(client, user)["token"]
    unused = _renew(client, old).get_json()["token"]
    clock.advance(minutes=6)
    answer = _renew(client, old)
    assert answer.status_code == 401 and answer.get_json()["code"] == "token_reused"
    assert not _works(client, unused)


def test_renewal_is_refused_for_disabled_users_revoked_devices_signed_out_tokens_and_after_a_password_change(  # noqa: E501
    client, make_user, clock
):
    disabled, moved_on, lost_phone, signed_out = (make_user() for _ in range(4))
    tokens = {u.username: sign_in(client, u) for u in (disabled, moved_on, lost_phone, signed_out)}
    accounts.set_active(db.session, disabled.username, False)
    accounts.set_password(db.session, moved_on.username, "a brand new password")
    accounts.revoke_device(db.session, uuid.UUID(tokens[lost_phone.username]["device_id"]))
    db.session.commit()
    bearer = {"Authorization": f"Bearer {tokens[signed_out.username]['token']}"}
    assert client.delete("/api/v1/auth/token", headers=bearer).status_code == 204
    expected = {
        disabled.username: "token_revoked",
        moved_on.username: "token_revoked",
        lost_phone.username: "token_revoked",
        signed_out.username: "token_revoked",
    }
    for username, code in expected.items():
        answer = _renew(client, tokens[username]["token"])
        assert (answer.status_code, answer.get_json()["code"]) == (401, code), username


def test_a_password_changed_elsewhere_ends_renewal_even_for_a_live_token(client, make_user, clock):
    user = make_user()
    token = sign_in(client, user)["token"]
    user.session_epoch += 1  # e.g. a role change, or a password set by a path that keeps tokens
    db.session.commit()
    answer = _renew(client, token)
    assert answer.status_code == 401 and answer.get_json()["code"] == "password_changed"
    user.is_active = False
    db.session.commit()
    assert _renew(client, token).get_json()["code"] == "account_disabled"


def test_guessed_tokens_share_the_address_budget_of_failed_logins(client, app, make_user, clock):
    user = make_user()
    token = sign_in(client, user)["token"]
    limit = app.config["LOGIN_MAX_FAILURES_PER_IP"]
    for n in range(limit):
        answer = _renew(client, f"wg_guess{n}", ip="198.51.100.7")
        assert answer.status_code == 401 and answer.get_json()["code"] == "token_unknown"
    answer = _renew(client, "wg_guess-more", ip="198.51.100.7")
    assert answer.status_code == 429 and answer.get_json()["code"] == "throttled"
    assert int(answer.headers["Retry-After"]) > 0
    # the password route from that address is shut too (one budget) ...
    login = client.post(
        "/api/v1/auth/token",
        json={"username": user.username, "password": PASSWORD,
              "device_id": str(uuid.uuid4()), "device_name": "x"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )  # fmt: skip
    assert login.status_code == 429
    # ... while a phone elsewhere renews as usual, and the window passes
    assert _renew(client, token, ip="10.0.0.2").status_code == 201
    clock.advance(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 1)
    again = _renew(client, "wg_guess-later", ip="198.51.100.7")
    assert again.get_json()["code"] == "token_unknown"


def test_failed_password_logins_throttle_renewal_from_that_address(client, app, make_user, clock):
    users = [make_user() for _ in range(7)]
    token = sign_in(client, users[0])["token"]
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 6
    for victim in users[1:]:
        client.post(
            "/api/v1/auth/token",
            json={"username": victim.username, "password": "wrong guess",
                  "device_id": str(uuid.uuid4()), "device_name": "x"},
            environ_base={"REMOTE_ADDR": "198.51.100.8"},
        )  # fmt: skip
    assert _renew(client, token, ip="198.51.100.8").status_code == 429


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": "x" * 201}, {"token": 5}])
def test_a_malformed_renewal_is_422_and_changes_nothing(client, make_user, body):
    sign_in(client, make_user())
    before = db.session.scalars(select(ApiToken.revoked_at)).all()
    answer = client.post("/api/v1/auth/token/renew", json=body)
    assert answer.status_code == 422
    assert db.session.scalars(select(ApiToken.revoked_at)).all() == before


def test_a_renewal_costs_a_handful_of_statements_and_no_argon2(client, make_user, monkeypatch):
    """One count (throttle), one lookup by SHA-256, the claim, the insert, the link, the
    device's last-seen: nothing that grows with users or tokens, and no password hashing."""
    from sqlalchemy import event

    token = sign_in(client, make_user())["token"]
    monkeypatch.setattr(passwords, "verify_password", lambda *a: pytest.fail("Argon2 used"))
    monkeypatch.setattr(passwords, "hash_password", lambda *a: pytest.fail("Argon2 used"))
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert _renew(client, token).status_code == 201
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    work = [s for s in statements if s in {"SELECT", "INSERT", "UPDATE", "DELETE"}]
    assert work.count("SELECT") == 2, statements  # the address's failures; the token
    assert work.count("INSERT") == 1 and len(work) <= 6, statements
