"""Server test helpers: users, tokens and CSRF-aware form posts."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from server.accounts import operations as accounts
from server.accounts.models import User
from server.extensions import db
from tests.server.backoffice_world import world  # noqa: F401  (fixture for back-office tests)
from tests.server.campaign_world import campaign_world  # noqa: F401  (a register for campaigns)
from tests.server.import_world import office  # noqa: F401  (a small office for import tests)
from tests.server.lifeservices_world import point  # noqa: F401  (a service point with a slot)

PASSWORD = "correct horse battery"


@pytest.fixture
def fresh_database_url(app: Any, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the test's: a new SQLite path or a new database."""
    url = sa.make_url(str(db.engine.url.render_as_string(hide_password=False)))
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'wangge.db'}"
        return
    name = f"wangge_restore_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def make_user(app: Any) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(
        role: str = "worker", username: str | None = None, password: str = PASSWORD, **extra: Any
    ) -> User:
        user = accounts.create_user(
            db.session,
            username=username or f"user{next(counter)}",
            password=password,
            role=role,
            **extra,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def token_for(client: FlaskClient) -> Callable[..., str]:
    def issue(user: User, password: str = PASSWORD, device_id: uuid.UUID | None = None) -> str:
        return str(sign_in(client, user, password, device_id)["token"])

    return issue


def sign_in(
    client: FlaskClient, user: User, password: str = PASSWORD, device_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """A device's password sign-in; the whole answer (token, user, expiry)."""
    response = client.post(
        "/api/v1/auth/token",
        json={
            "username": user.username,
            "password": password,
            "device_id": str(device_id or uuid.uuid4()),
            "device_name": "test phone",
        },
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def signed_in(app: Any, username: str) -> FlaskClient:
    """A new client of `app`, signed in as `username` (the demo password)."""
    client: FlaskClient = app.test_client()
    assert login(client, username).status_code == 302
    return client
