"""API: sign a device in (token), sign it out, and say who is calling."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, request

from server import clock
from server.accounts import operations as accounts
from server.accounts.schemas import (
    MeSchema,
    RenewRequestSchema,
    TokenRequestSchema,
    TokenResponseSchema,
    UserSchema,
)
from server.api.base import Blueprint
from server.auth import api_login_required, current_caller
from server.extensions import db

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-in for devices")


def throttle_policy() -> accounts.ThrottlePolicy:
    config = current_app.config
    return accounts.ThrottlePolicy(
        window_s=config["LOGIN_WINDOW_SECONDS"],
        max_per_user=config["LOGIN_MAX_FAILURES_PER_USER"],
        max_per_ip=config["LOGIN_MAX_FAILURES_PER_IP"],
    )


def token_policy() -> accounts.TokenPolicy:
    config = current_app.config
    return accounts.TokenPolicy(
        lifetime=dt.timedelta(hours=float(config["TOKEN_HOURS"])),
        renew_grace=dt.timedelta(hours=float(config["TOKEN_RENEW_GRACE_HOURS"])),
        absolute=dt.timedelta(days=float(config["TOKEN_ABSOLUTE_DAYS"])),
        retry=dt.timedelta(seconds=float(config["TOKEN_RETRY_SECONDS"])),
    )


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenResponseSchema)
def create_token(args: dict[str, Any]) -> dict[str, Any]:
    """Sign in a device: username and password in, a bearer token for this device out."""
    now, policy = clock.now(), token_policy()
    try:
        user = accounts.authenticate(
            db.session,
            username=args["username"],
            password=args["password"],
            ip=request.remote_addr or "?",
            policy=throttle_policy(),
            at=now,
        )
    finally:
        db.session.commit()  # keep the failure count even when the login fails
    token, device = accounts.issue_device_token(
        db.session, user, device_id=args["device_id"], device_name=args["device_name"],
        policy=policy, at=now,
    )  # fmt: skip
    db.session.commit()
    expires = accounts.token_expiry(policy, at=now, signed_in_at=now)
    return {"token": token, "token_type": "Bearer", "device_id": device.id, "user": user,
            "expires_at": expires,
            "expires_in": int((expires - now).total_seconds())}  # fmt: skip


@blp.route("/token/renew", methods=["POST"])
@blp.arguments(RenewRequestSchema)
@blp.response(201, TokenResponseSchema)
def renew_token(args: dict[str, Any]) -> dict[str, Any]:
    """Renew a device's token without the password: the current token (or one expired at most
    TOKEN_RENEW_GRACE_HOURS ago) in, a new one out; the old one stops working at once.

    Presenting an already renewed token again revokes every token of the device (reuse of a
    stolen copy); 401 means "sign in with the password", 429 too many unknown tokens from
    this address (the login throttle's budget). docs/security.md, "Device tokens".
    """
    now = clock.now()
    try:
        renewed = accounts.renew_token(
            db.session,
            args["token"],
            ip=request.remote_addr or "?",
            at=now,
            policy=token_policy(),
            throttle=throttle_policy(),
        )
        # Read before the commit expires the rows: no queries after it.
        user, expires = renewed.user, renewed.row.expires_at
        answer = {"token": renewed.token, "token_type": "Bearer", "device_id": renewed.device.id,
                  "user": UserSchema().dump(user),
                  "expires_at": expires,
                  "expires_in": max(0, int((expires - now).total_seconds()))}  # fmt: skip
    finally:
        db.session.commit()  # keep the failure count and a reuse's revocations
    return answer


@blp.route("/token", methods=["DELETE"])
@blp.response(204)
@api_login_required()
def delete_token() -> None:
    """Sign this device out: its token stops working at once."""
    caller = current_caller()
    if caller is not None and caller.token is not None:
        accounts.revoke_token(db.session, caller.token)
        db.session.commit()


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
@api_login_required()
def me() -> dict[str, Any]:
    """Who is calling, and from which device."""
    caller = current_caller()
    assert caller is not None  # guaranteed by api_login_required
    return {"user": caller.user, "device_id": caller.device.id if caller.device else None}
