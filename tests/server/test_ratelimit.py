"""Rate limits on sign-in: 429 with Retry-After, and shared by every app server through Redis."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.conftest import IN_CI
from tests.server.conftest import PASSWORD

REDIS_URL = "redis://127.0.0.1:6379/0"


def _token_request(client, username: str = "nobody") -> int:
    return client.post(
        "/api/v1/auth/token",
        json={
            "username": username,
            "password": PASSWORD,
            "device_id": str(uuid.uuid4()),
            "device_name": "p",
        },
    ).status_code


def test_the_token_endpoint_is_limited_per_address_with_retry_after(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMITS={"auth.create_token": "3 per minute"})
    client = app.test_client()
    assert [_token_request(client) for _ in range(3)] == [401, 401, 401]
    refused = client.post("/api/v1/auth/token", json={})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.content_type == "application/problem+json"
    other = client.post("/api/v1/auth/token", json={}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code != 429


def test_the_login_page_is_limited_on_post_only(make_app):
    app = make_app(
        RATELIMIT_ENABLED=True,
        WTF_CSRF_ENABLED=False,
        RATELIMITS={"accounts.login": "2 per minute on POST"},
    )
    client = app.test_client()
    for _ in range(5):
        assert client.get("/login").status_code == 200
    codes = [client.post("/login", data={}).status_code for _ in range(3)]
    assert codes[-1] == 429 and 429 not in codes[:2]


def test_limits_are_off_in_unit_tests_unless_asked(app, client):
    assert app.config["RATELIMIT_ENABLED"] is False
    for _ in range(65):  # the openapi.json limit is 60 per minute
        with client.get("/api/v1/openapi.json") as response:
            assert response.status_code == 200


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        if IN_CI:  # CI's machine runs Redis: its absence is a failure, not a reason to skip
            pytest.fail(f"no Redis on 127.0.0.1:6379 in CI: {error}")
        pytest.skip(f"no Redis on 127.0.0.1:6379: {error}")
    return REDIS_URL


def test_two_app_servers_share_the_counters_in_redis(make_app, redis_url):
    prefix = f"wangge-test-{uuid.uuid4().hex[:8]}"
    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": prefix,
        "RATELIMITS": {"auth.create_token": "4 per minute"},
    }
    first, second = make_app(**settings).test_client(), make_app(**settings).test_client()
    codes = [_token_request(c) for c in (first, second, first, second)]
    assert 429 not in codes
    assert _token_request(first) == 429 and _token_request(second) == 429
    keys = redis.Redis.from_url(redis_url).keys(f"*{prefix}*")
    assert keys, "the counters live in Redis"
