"""Configuration: defaults, then WANGGE_* environment variables, then the factory's argument."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from sync.db import json_text

DEFAULTS: dict[str, Any] = {
    # Storage. None means "under the instance folder" (resolved in apply_config).
    "SQLALCHEMY_DATABASE_URI": None,
    "PHOTO_DIR": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # A streaming replica of the database for reads that tolerate lag (docs/scaling.md): sync
    # pulls it has caught up for. None: everything on the primary. Its sessions are read-only;
    # after an error it is left alone for DATABASE_REPLICA_RETRY_S seconds (per process).
    "DATABASE_REPLICA_URL": None,
    "DATABASE_REPLICA_CONNECT_TIMEOUT_S": 2,
    "DATABASE_REPLICA_RETRY_S": 10.0,
    # Request size: grid uploads can be tens of MB; JSON bodies are capped separately.
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    "MAX_JSON_BYTES": 8 * 1024 * 1024,
    # Sessions and cookies (SESSION_COOKIE_SECURE is turned on behind HTTPS: docs/deploy.md).
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "wangge_session",
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "WTF_CSRF_TIME_LIMIT": 12 * 3600,
    # Login throttling: failures allowed per window, per username and per address.
    "LOGIN_WINDOW_SECONDS": 15 * 60,
    "LOGIN_MAX_FAILURES_PER_USER": 5,
    "LOGIN_MAX_FAILURES_PER_IP": 30,
    # Argon2id for passwords (server/accounts/passwords.py, docs/security.md): OWASP's
    # m=19 MiB, t=2, p=1. Hashes made with other values are rehashed at the next sign-in.
    "PASSWORD_ARGON2_MEMORY_KIB": 19456,
    "PASSWORD_ARGON2_TIME_COST": 2,
    "PASSWORD_ARGON2_PARALLELISM": 1,
    # Device tokens (docs/security.md, "Device tokens"): a token works for TOKEN_HOURS; the
    # app renews it without a password (POST /api/v1/auth/token/renew) before then, or up to
    # TOKEN_RENEW_GRACE_HOURS after it lapsed; after TOKEN_ABSOLUTE_DAYS since the password
    # sign-in the password is needed again. A renewal whose answer was lost may be retried
    # with the old token for TOKEN_RETRY_SECONDS while the new one is unused; any other
    # second use of a renewed token is taken as theft and ends all the device's tokens.
    "TOKEN_HOURS": 24,
    "TOKEN_RENEW_GRACE_HOURS": 7 * 24,
    "TOKEN_ABSOLUTE_DAYS": 30,
    "TOKEN_RETRY_SECONDS": 300,
    # Password-reset links (docs/security.md): lifetime, and self-service mails per user per
    # hour (counted in the database; more requests are answered alike and silently dropped).
    "PASSWORD_RESET_HOURS": 24,
    "PASSWORD_RESET_MAILS_PER_HOUR": 3,
    # SMTP for self-service reset mails (docs/operations.md). No server or no sender: no mail,
    # and the "forgot password" page says to ask an administrator. MAIL_SECURITY: "starttls"
    # (port 587 by default), "ssl" (implicit TLS, 465) or "none" (a LAN relay, 25).
    "MAIL_SERVER": None,
    "MAIL_PORT": None,
    "MAIL_SECURITY": "starttls",
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_SENDER": None,
    "MAIL_TIMEOUT_SECONDS": 10,
    # The address people reach the back office at, e.g. "https://wangge.example.gov.cn": links
    # in mails and printed by the CLI start with it. Unset: the request's own host (set it in
    # production: a forged Host header must not choose where reset links point).
    "PUBLIC_URL": None,
    # Where users get this server's source (AGPL-3.0 section 13), e.g. the office's own git
    # server. Unset: /source.tar.gz serves an archive of the checkout the server runs from.
    "SOURCE_URL": None,
    # Language: Simplified Chinese by default, English on request.
    "BABEL_DEFAULT_LOCALE": "zh",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ["zh", "en"],
    # Photos (docs/photos.md): limits of one upload, the tus expiry, and where bytes live.
    "PHOTO_MAX_BYTES": 20 * 1024 * 1024,
    # Decoded pixels (width × height): refuses decompression bombs before they are decoded.
    "PHOTO_MAX_PIXELS": 50_000_000,
    "PHOTO_THUMB_PX": 320,
    # An upload idle this long is gone (410); each chunk extends it. Phones may be offline a day.
    "UPLOAD_EXPIRY_S": 3 * 24 * 3600,
    # "disk" (under PHOTO_DIR) or "s3" (any S3-compatible store; needs the `s3` extra).
    "BLOB_STORE": "disk",
    "S3_BUCKET": None,
    "S3_PREFIX": "wangge",
    "S3_ENDPOINT_URL": None,
    "S3_REGION": None,
    # None: boto3's own chain (environment, ~/.aws, instance role).
    "S3_ACCESS_KEY_ID": None,
    "S3_SECRET_ACCESS_KEY": None,
    # The grid.
    "NEAR_DISTANCE_M": 50.0,
    # Uploads farther than 5 km from this (min_lon, min_lat, max_lon, max_lat) are refused:
    # Shanghai municipality, WGS-84. A JSON list in WANGGE_GRID_DISTRICT_BBOX overrides it.
    "GRID_DISTRICT_BBOX": [120.85, 30.67, 122.2, 31.88],
    # Uploads up to this size are validated within the request (201); larger ones run in a
    # background thread with progress to poll (202). The back-office page always polls.
    "GRID_IMPORT_INLINE_MAX_BYTES": 1024 * 1024,
    # Imports (docs/register.md): page uploads larger than this are checked and applied in a
    # background thread while the run page polls (a 100,000-resident XLSX is about 6 MB).
    "IMPORT_INLINE_MAX_BYTES": 1024 * 1024,
    # Processes check the published grid version this often (seconds; 0 = every request).
    "GRID_INDEX_RECHECK_SECONDS": 0.0,
    # A draft whose cells moved by more than this (median centroid shift against the published
    # grid, metres) is published only with an acknowledgement (docs/grids.md).
    "GRID_DISPLACEMENT_THRESHOLD_M": 30.0,
    # Online map tiles under the vector layers (docs/maps.md), checked at start-up by
    # server/maptiles/settings.py. None: cells and base layers on a plain background (works on
    # an office LAN with no tile server). URL: a template with {z}/{x}/{y}, optional {s}
    # (one of SUBDOMAINS) and {k} (KEY). DATUM: what the tiles are drawn in: "wgs84",
    # "cgcs2000" (天地图) or "gcj02" (AMap/Tencent style: everything drawn over them is
    # shifted, and clicks shifted back). ATTRIBUTION is required with a URL.
    "TILES_URL": None,
    "TILES_KEY": None,
    "TILES_DATUM": None,
    "TILES_ATTRIBUTION": "",
    "TILES_MAX_ZOOM": 18,
    "TILES_SUBDOMAINS": [],
    # The district this deployment serves (its bbox sanity-checks uploads), and its case prefix.
    "DISTRICT_NAME": "新华路街道",
    "CASE_NUMBER_PREFIX": "XH",
    # Running it for real (docs/operations.md, docs/deploy.md).
    # Logs: "json" (one object per line on stderr), "text", or None to leave logging alone
    # (gunicorn.conf.py sets WANGGE_LOG_FORMAT=json). LOG_REQUESTS: one line per request.
    "LOG_FORMAT": None,
    "LOG_LEVEL": "INFO",
    "LOG_REQUESTS": True,
    # /metrics answers a `Authorization: Bearer <METRICS_TOKEN>` or these client addresses
    # (after ProxyFix); everyone else gets 404. Neither set: nobody can scrape.
    "METRICS_ENABLED": True,
    "METRICS_TOKEN": None,
    "METRICS_ALLOW_IPS": [],
    # Behind nginx: trust X-Forwarded-For/-Proto/-Host from this many proxies (ProxyFix).
    "BEHIND_PROXY": False,
    "PROXY_HOPS": 1,
    # Served over HTTPS: secure cookies and HSTS.
    "HTTPS": False,
    # The Content-Security-Policy header (server/ops/headers.py); report-only for trials.
    "CSP_ENABLED": True,
    "CSP_REPORT_ONLY": False,
    # Rate limits per client address (server/ops/ratelimit.py, docs/scaling.md): endpoint →
    # "N per period[ on METHOD,…]". memory:// is per process; several servers need Redis:
    # WANGGE_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0. RATELIMIT_ENABLED: None = on
    # except in unit tests.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": None,
    "RATELIMIT_KEY_PREFIX": "wangge",
    "RATELIMITS": {
        "accounts.login": "30 per minute on POST",
        "password_reset.forgot": "10 per hour on POST",
        "password_reset.reset": "30 per hour on POST",
        "auth.create_token": "120 per minute on POST",
        "auth.renew_token": "120 per minute on POST",
        "web.set_language": "60 per minute on POST",
        "api-docs.openapi_json": "60 per minute",
        # about 1.7 MB each, to anyone: enough for people, not for a loop
        "web.source_archive": "20 per hour",
    },
    # OpenAPI (flask-smorest).
    "API_TITLE": "Wangge API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs-assets/",
    # The back office (docs/back-office.md). Overdue cases climb one level per interval.
    "ESCALATION_INTERVAL_HOURS": 24.0,
    # Likely duplicates: same catalogue category within this distance and time.
    "DUPLICATE_RADIUS_M": 50.0,
    "DUPLICATE_WINDOW_HOURS": 48.0,
    # A synced report whose device clock differs from the server's by more is flagged.
    "CLOCK_SUSPECT_SECONDS": 600,
    # How long a resident's one-time rating link stays valid.
    "RATING_LINK_DAYS": 14,
    # Weights of the score per region/unit/post (server.evaluation.metrics.DEFAULT_WEIGHTS).
    "SCORE_WEIGHTS": {},
    # The dashboard's daily roll-up (server/evaluation/rollup.py): at most this many missing
    # or changed past days are rolled up when the page loads (0: only `flask dashboard rollup`).
    "DASHBOARD_ROLLUP_CATCHUP_DAYS": 7,
    # Open311 GeoReport v2 (docs/open311.md). Channels whose cases partners may read back:
    # never `visit` (matters found at vulnerable residents' doors) nor the hotline/counter
    # (callers speak freely about neighbours); a deployment may widen it knowingly.
    "OPEN311_PUBLIC_CHANNELS": ["open311", "online", "patrol"],
    "OPEN311_JURISDICTION_ID": "xinhua.changning.shanghai.gov.cn",
    "OPEN311_CHANGESET": "2026-11-26T00:00:00+08:00",
    "OPEN311_CONTACT": "新华路街道社区网格化管理中心 (Xinhua subdistrict grid management centre)",
    "OPEN311_KEY_SERVICE": "Ask the centre for an api_key (open311 partner-create).",
    "OPEN311_ENDPOINT_TYPE": "production",
    # True: POST requests answers with a token (resolved at tokens/{token}) instead of the id.
    "OPEN311_DEFERRED_TOKENS": False,
    "OPEN311_MAX_BODY_BYTES": 64 * 1024,
    # Residents' pages (docs/residents.md). SMS_SENDER: None = no channel (phones stored as
    # unverified, no follow link texted), "log" = messages go to the log with private links
    # masked (development), "http" = POST to SMS_HTTP_URL (server/residents/sms.py),
    # "module:attr" = a sender object.
    "SMS_SENDER": None,
    "SMS_HTTP_URL": None,
    "SMS_HTTP_TOKEN": None,
    "REPORT_MIN_FILL_SECONDS": 3,
    "REPORT_LIMIT_PER_IP_HOUR": 20,
    "REPORT_LIMIT_PER_PHONE_DAY": 5,
    "PHONE_CODES_PER_HOUR": 3,
    "REPORT_MAX_PHOTOS": 3,
    "REPORT_MAX_BYTES": 12 * 1024 * 1024,
    # Identity numbers (公民身份号码) of the register, sealed at rest (docs/register.md §Keys):
    # ID_NUMBER_KEYS "kid:base64(32 bytes)", comma-separated or a JSON list, the first seals and
    # all open (rotate: put a new one first, `flask register rekey`, then drop the old one);
    # ID_NUMBER_HMAC_KEY base64(32 bytes) for matching and last-digits search. Unset: keys
    # are generated into the instance folder (demo only; production sets both from a vault).
    "ID_NUMBER_KEYS": None,
    "ID_NUMBER_HMAC_KEY": None,
    # Roles that may see an identity number in full (with a reason, audited; admin always);
    # everyone else covering the household sees it masked.
    "ID_NUMBER_REVEAL_ROLES": ["manager"],
    # A callable returning "now" (tests); None is the real clock (server/clock.py).
    "CLOCK": None,
}


def apply_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Load defaults, WANGGE_* variables and overrides, then fill in instance-folder paths."""
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("WANGGE")
    if overrides:
        app.config.update(overrides)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'wangge.db'}"
    # Every JSON column's text through sync.db.json_text (json.dumps's text, faster); a
    # deployment's own engine options are kept.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "json_serializer": json_text,
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
    }
    if not app.config["PHOTO_DIR"]:
        app.config["PHOTO_DIR"] = str(instance / "photos")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(instance / "secret_key")


def _instance_secret_key(path: Path) -> str:
    """Return the key kept in the instance folder, generating it on first use (mode 0600)."""
    return instance_secret(path, lambda: secrets.token_hex(32))[0]


def instance_secret(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    """The secret kept in ``path`` (mode 0600), made with ``make`` on first use; and whether
    it was made now. Also the identity-number keys' fallback (server/population/identity.py)."""
    if path.exists():
        return path.read_text(encoding="ascii").strip(), False
    key = make()
    # O_EXCL: if two processes start together, one creates the file and the other reads it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip(), False
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key, True
