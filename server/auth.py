"""Who is calling: session users for pages, bearer tokens (or a session + CSRF) for the API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, request
from flask_login import current_user
from werkzeug.exceptions import Unauthorized

from server import clock
from server.accounts import operations as accounts
from server.accounts.models import ApiToken, Device, User
from server.enums import Role
from server.extensions import csrf, db, login_manager

F = TypeVar("F", bound=Callable[..., Any])


@login_manager.user_loader
def _load_session_user(user_key: str) -> User | None:
    """Session ids are "id:epoch": a password change or disabling bumps the epoch."""
    user_id, _, epoch = user_key.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_epoch != int(epoch):
        return None
    return user


@dataclass(frozen=True)
class Caller:
    """Who made an API request: the user and, for bearer tokens, the device and token row."""

    user: User
    device: Device | None = None
    token: ApiToken | None = None


_CALLER_KEY = "wangge.caller"


def current_caller() -> Caller | None:
    """The caller of this API request: a bearer token's owner, or the signed-in session user.

    Cached on the request (not on `g`, which outlives a request when an app context is reused).
    """
    if _CALLER_KEY not in request.environ:
        request.environ[_CALLER_KEY] = _authenticate_request()
    caller: Caller | None = request.environ[_CALLER_KEY]
    return caller


def _authenticate_request() -> Caller | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        found = accounts.resolve_token(db.session, header[7:].strip(), at=clock.now())
        if found is None:
            return None
        if db.session.dirty:  # the last-seen touch, at most once a minute per token
            db.session.commit()
        return Caller(*found)
    if current_user.is_authenticated:
        # Cookies ride along on cross-site requests: unsafe methods need the CSRF token too.
        if request.method not in {"GET", "HEAD", "OPTIONS"}:
            csrf.protect()
        return Caller(current_user._get_current_object())
    return None


def api_login_required(*roles: Role) -> Callable[[F], F]:
    """Require an authenticated API caller, optionally with one of `roles` (admin always passes)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            caller = current_caller()
            if caller is None:
                raise Unauthorized()
            if roles and caller.user.role not in roles and caller.user.role != Role.ADMIN:
                abort(403)
            return view(*args, **kwargs)

        # Read by `authorize_before_parsing` (wrappers made with functools.wraps, such as
        # flask-smorest's argument parsing, copy it outwards).
        wrapped.wangge_api_roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def authorize_before_parsing() -> None:
    """before_request: run an API view's login and role check before its arguments are parsed.

    flask-smorest's `@blp.arguments` wraps outside `api_login_required`, so without this a
    stranger sending a malformed body would learn the schema (422) instead of getting 401,
    and a worker calling an office endpoint would get 422 instead of 403.
    """
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint or "")
    roles = getattr(view, "wangge_api_roles", None)
    if roles is None or request.method == "OPTIONS":
        return
    caller = current_caller()
    if caller is None:
        raise Unauthorized()
    if roles and caller.user.role not in roles and caller.user.role != Role.ADMIN:
        abort(403)


def page_login_required(*roles: Role) -> Callable[[F], F]:
    """Pages: send strangers to the login page; refuse users of the wrong role."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles and current_user.role != Role.ADMIN:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
