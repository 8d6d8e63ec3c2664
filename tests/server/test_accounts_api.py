"""Devices sign in through the API, get a bearer token, and lose it when revoked."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from server.accounts import operations as accounts
from server.accounts.models import ApiToken, Device, User
from server.extensions import db
from tests.server.conftest import PASSWORD


def _token_request(user: User, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "username": user.username,
        "password": PASSWORD,
        "device_id": str(uuid.uuid4()),
        "device_name": "Redmi Note 12",
    }
    body.update(overrides)
    return body


def test_a_device_signs_in_and_the_token_identifies_user_and_device(client, make_user):
    user = make_user("worker", "zhou.jie")
    device_id = uuid.uuid4()
    response = client.post(
        "/api/v1/auth/token", json=_token_request(user, device_id=str(device_id))
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["token"].startswith("wg_")
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json() == {
        "user": {
            "id": user.id,
            "username": "zhou.jie",
            "display_name": "zhou.jie",
            "role": "worker",
        },
        "device_id": str(device_id),
    }


def test_only_a_hash_of_the_token_is_stored(client, make_user, token_for):
    token = token_for(make_user())
    rows = db.session.scalars(select(ApiToken)).all()
    assert len(rows) == 1
    assert rows[0].token_sha256 == accounts.token_digest(token)
    assert token not in (rows[0].token_sha256, rows[0].prefix)


def test_signing_in_records_the_device_and_last_seen_time(client, make_user, token_for):
    user = make_user()
    device_id = uuid.uuid4()
    token_for(user, device_id=device_id)
    device = db.session.get(Device, device_id)
    assert device.user_id == user.id and device.last_seen_at is not None


def test_a_wrong_password_gets_401_and_issues_nothing(client, make_user):
    user = make_user()
    response = client.post("/api/v1/auth/token", json=_token_request(user, password="wrong-one"))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "authentication_failed"
    assert db.session.scalars(select(ApiToken)).all() == []
    assert db.session.scalars(select(Device)).all() == []


def test_repeated_failed_logins_are_throttled_even_with_the_right_password(
    client,
    make_user,
):
    user = make_user()
    for _ in range(5):
        assert (
            client.post(
                "/api/v1/auth/token", json=_token_request(user, password="nope-nope")
            ).status_code
            == 401
        )
    response = client.post("/api/v1/auth/token", json=_token_request(user))
    assert response.status_code == 429
    assert response.get_json()["code"] == "throttled"
    assert int(response.headers["Retry-After"]) > 0


def test_a_successful_login_clears_earlier_failures(client, make_user):
    user = make_user()
    for _ in range(4):
        client.post("/api/v1/auth/token", json=_token_request(user, password="nope-nope"))
    assert client.post("/api/v1/auth/token", json=_token_request(user)).status_code == 201
    for _ in range(4):
        client.post("/api/v1/auth/token", json=_token_request(user, password="nope-nope"))
    assert client.post("/api/v1/auth/token", json=_token_request(user)).status_code == 201


def test_a_device_of_another_user_is_refused_with_409(client, make_user, token_for):
    first, second = make_user(), make_user()
    device_id = uuid.uuid4()
    token_for(first, device_id=device_id)
    response = client.post(
        "/api/v1/auth/token", json=_token_request(second, device_id=str(device_id))
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "device_owned_by_another_user"
    assert response.get_json()["field"] == "device_id"


def test_a_revoked_device_cannot_sign_in_again_and_its_tokens_die(client, make_user, token_for):
    user = make_user()
    device_id = uuid.uuid4()
    token = token_for(user, device_id=device_id)
    accounts.revoke_device(db.session, device_id)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    again = client.post("/api/v1/auth/token", json=_token_request(user, device_id=str(device_id)))
    assert again.status_code == 403
    assert again.get_json()["code"] == "device_revoked"


def test_signing_out_revokes_only_that_token(client, make_user, token_for):
    user = make_user()
    device_id = uuid.uuid4()
    first = token_for(user, device_id=device_id)
    second = token_for(user, device_id=device_id)
    assert (
        client.delete(
            "/api/v1/auth/token", headers={"Authorization": f"Bearer {first}"}
        ).status_code
        == 204
    )
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {first}"}).status_code
        == 401
    )
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {second}"}).status_code
        == 200
    )


def test_disabling_a_user_kills_their_tokens(client, make_user, token_for):
    user = make_user()
    token = token_for(user)
    accounts.set_active(db.session, user.username, False)
    db.session.commit()
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_a_garbage_bearer_token_gets_401_problem(client):
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401
    assert response.get_json()["code"] == "authentication_required"


def test_token_request_with_a_bad_device_id_names_the_field_and_changes_nothing(
    client,
    make_user,
):
    user = make_user()
    response = client.post("/api/v1/auth/token", json=_token_request(user, device_id="not-a-uuid"))
    assert response.status_code == 422
    body = response.get_json()
    assert body["field"] == "device_id"
    assert "device_id" in body["errors"]["json"]
    assert db.session.scalars(select(Device)).all() == []


def test_token_request_missing_fields_lists_every_missing_field(client):
    response = client.post("/api/v1/auth/token", json={})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]["json"]) == {
        "username",
        "password",
        "device_id",
        "device_name",
    }
