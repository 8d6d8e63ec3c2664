"""Security headers, HTTPS settings and the proxy: CSP everywhere, HSTS and secure cookies."""

from __future__ import annotations

from server.ops.headers import content_security_policy
from tests.server.conftest import login


def test_every_answer_carries_a_strict_policy(client):
    for path in ("/login", "/healthz/live", "/api/v1/openapi.json", "/app/", "/nope"):
        with client.get(path) as response:
            policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy and "worker-src 'self'" in policy
        assert "img-src 'self' data: blob:" in policy and "connect-src 'self'" in policy


def test_the_tile_hosts_are_allowed_for_images_only_each_by_name(make_app):
    app = make_app(
        TILES_URL="https://t{s}.tiles.example.cn/vec/{z}/{x}/{y}.png?tk={k}",
        TILES_KEY="k3y",
        TILES_SUBDOMAINS="01",
        TILES_DATUM="cgcs2000",
        TILES_ATTRIBUTION="天地图",
    )
    policy = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert (
        "img-src 'self' data: blob: https://t0.tiles.example.cn https://t1.tiles.example.cn;"
        in policy
    )
    assert "*" not in policy and "connect-src 'self';" in policy
    assert "img-src 'self' data: blob:;" in content_security_policy([])


def test_without_https_there_is_no_hsts_and_cookies_are_not_secure(client, make_user):
    make_user("admin", username="boss")
    response = login(client, "boss")
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]


def test_https_turns_on_hsts_and_secure_cookies(make_app, make_user):
    app = make_app(HTTPS=True)
    client = app.test_client()
    with app.app_context():
        make_user("admin", username="boss")
    response = login(client, "boss")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Secure" in response.headers["Set-Cookie"]


def test_behind_a_proxy_the_forwarded_address_and_scheme_are_used(make_app):
    app = make_app(BEHIND_PROXY=True, METRICS_ALLOW_IPS=["10.0.0.9"])
    client = app.test_client()
    forwarded = {"X-Forwarded-For": "10.0.0.9", "X-Forwarded-Proto": "https"}
    assert client.get("/metrics", headers=forwarded).status_code == 200
    assert client.get("/metrics", headers={"X-Forwarded-For": "8.8.8.8"}).status_code == 404


def test_without_the_proxy_setting_forwarded_headers_are_ignored(make_app):
    app = make_app(METRICS_ALLOW_IPS=["10.0.0.9"])
    assert (
        app.test_client().get("/metrics", headers={"X-Forwarded-For": "10.0.0.9"}).status_code
        == 404
    )


def test_clickjacking_sniffing_and_referrer_headers(client):
    headers = client.get("/login").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_the_policy_uses_only_directives_every_engine_knows():
    """WebKit logs a console error on every load for a directive it does not know
    (manifest-src did that); the manifest is still limited by default-src 'self'."""
    from server.ops.headers import DIRECTIVES_EVERY_ENGINE_KNOWS

    policy = content_security_policy(["https://t0.tiles.example.cn"])
    names = [part.split()[0] for part in policy.split("; ")]
    assert set(names) <= DIRECTIVES_EVERY_ENGINE_KNOWS, names
    assert len(names) == len(set(names))
    assert "manifest-src" not in policy and names[0] == "default-src"
    assert "default-src 'self';" in policy
