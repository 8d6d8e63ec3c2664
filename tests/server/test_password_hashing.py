"""Argon2id with OWASP's parameters; older hashes are upgraded at the next good sign-in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher, extract_parameters

from server.accounts import passwords
from server.accounts.models import User
from server.extensions import db
from tests.server.conftest import PASSWORD

OWASP = passwords.Argon2Parameters(memory_kib=19456, time_cost=2, parallelism=1)


@pytest.fixture
def restore_parameters() -> Iterator[None]:
    before = passwords.current_parameters()
    yield
    passwords.configure(before)


def test_new_hashes_use_owasps_argon2id_parameters(app):
    found = extract_parameters(passwords.hash_password("some password"))
    assert found.type.name == "ID"
    assert (found.memory_cost, found.time_cost, found.parallelism) == (19456, 2, 1)
    assert passwords.current_parameters() == OWASP


def _sign_in(client, username: str, password: str = PASSWORD) -> int:
    return client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": password,
              "device_id": str(uuid.uuid4()), "device_name": "phone"},
    ).status_code  # fmt: skip


def test_an_old_hash_is_rehashed_at_the_next_successful_sign_in_only(client, make_user):
    user = make_user()
    # argon2-cffi's defaults (RFC 9106 low-memory: 64 MiB, t=3, p=4): what we stored before.
    user.password_hash = PasswordHasher().hash(PASSWORD)
    db.session.commit()
    old = user.password_hash
    assert passwords.needs_rehash(old)
    assert _sign_in(client, user.username, "not the password") == 401
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == old  # a failure changes nothing
    assert _sign_in(client, user.username) == 201
    db.session.expire_all()
    new = db.session.get(User, user.id).password_hash
    assert new != old and not passwords.needs_rehash(new)
    assert (extract_parameters(new).memory_cost, extract_parameters(new).time_cost) == (19456, 2)
    assert _sign_in(client, user.username) == 201  # the new hash verifies
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == new  # and is not rehashed again


def test_changed_settings_rehash_current_hashes(make_app, restore_parameters):
    app = make_app(PASSWORD_ARGON2_MEMORY_KIB=47104, PASSWORD_ARGON2_TIME_COST=1)
    assert passwords.current_parameters() == passwords.Argon2Parameters(47104, 1, 1)
    with app.app_context():
        from server.accounts import operations as accounts

        user = accounts.create_user(db.session, username="li.na", password=None, role="worker")
        user.password_hash = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(
            PASSWORD
        )
        db.session.commit()
        assert _sign_in(app.test_client(), "li.na") == 201
        db.session.expire_all()
        stored = db.session.get(User, user.id).password_hash
        assert (extract_parameters(stored).memory_cost, extract_parameters(stored).time_cost) == (
            47104,
            1,
        )


@pytest.mark.parametrize(
    "settings",
    [
        {"PASSWORD_ARGON2_MEMORY_KIB": 4096},
        {"PASSWORD_ARGON2_TIME_COST": 0},
        {"PASSWORD_ARGON2_PARALLELISM": "many"},
    ],
)
def test_parameters_below_owasps_weakest_refuse_to_start(make_app, restore_parameters, settings):
    with pytest.raises(ValueError, match="PASSWORD_ARGON2"):
        make_app(**settings)


def test_accounts_without_password_and_odd_hashes_never_need_a_rehash():
    assert not passwords.needs_rehash(passwords.NO_PASSWORD)
    assert not passwords.needs_rehash("")
    assert not passwords.needs_rehash("$2b$12$not-argon")
