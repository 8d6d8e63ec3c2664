"""Errors at the edge: one status table, problem+json for the API, pages for people.

API responses follow RFC 9457 (application/problem+json) with a stable machine `code`,
a human `detail` in the caller's language and, where one input is at fault, its `field`.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from server import exceptions as exc
from server.validation_text import translate_messages

log = logging.getLogger(__name__)

#: The one table from domain exception to HTTP status.
STATUS_BY_ERROR: dict[type[exc.WanggeError], int] = {
    exc.InvalidInput: 422,
    exc.NotFound: 404,
    exc.AuthenticationFailed: 401,
    exc.PermissionDenied: 403,
    exc.Conflict: 409,
    exc.Throttled: 429,
    exc.WanggeError: 400,
}

#: Machine codes for plain HTTP errors.
CODE_BY_STATUS = {
    400: "bad_request",
    401: "authentication_required",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "throttled",
    500: "internal_error",
    503: "unavailable",
}


def wants_json() -> bool:
    """API paths and the pages' JSON lookups answer in JSON; pages answer in HTML."""
    path = request.path
    if path.startswith(("/api/", "/healthz")) or "/lookup/" in path:
        return True
    return path.endswith((".json", ".geojson")) or request.accept_mimetypes.best == (
        "application/json"
    )


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    errors: Any = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """Build an RFC 9457 problem response."""
    body: dict[str, Any] = {
        "type": f"urn:wangge:problem:{code}",
        "title": _http_title(status),
        "status": status,
        "code": code,
        "detail": detail,
    }
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    if getattr(g, "request_id", None):
        body["request_id"] = g.request_id
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _http_title(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "Error")


def _first_field(messages: Any) -> str | None:
    """From webargs' {"json": {"field": [...]}} pick the first field name at fault."""
    if isinstance(messages, dict):
        for location in messages.values():
            if isinstance(location, dict) and location:
                name = next(iter(location))
                return None if name == "_schema" else str(name)
    return None


def status_of(error: exc.WanggeError) -> int:
    """The HTTP status of a domain error (the first matching class in STATUS_BY_ERROR)."""
    return next(s for cls, s in STATUS_BY_ERROR.items() if isinstance(error, cls))


def handle_domain_error(error: exc.WanggeError) -> Response | tuple[str, int]:
    status = status_of(error)
    headers = {}
    if isinstance(error, exc.Throttled):
        headers["Retry-After"] = str(error.retry_after_s)
    if wants_json():
        return problem(
            status,
            error.code,
            str(error.message),
            field=error.field,
            headers=headers,
            **({"details": error.details} if error.details else {}),
        )
    return _page(status, str(error.message)), status


def handle_http_error(error: HTTPException) -> Response | tuple[str, int]:
    status = error.code or 500
    code = CODE_BY_STATUS.get(status, "http_error")
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if wants_json():
        detail = _detail_for(status, error)
        errors = translate_messages(messages)
        response = problem(status, code, detail, field=_first_field(messages), errors=errors)
        for key, value in getattr(error, "get_headers", lambda: [])() or []:
            if key.lower() not in {"content-type", "content-length"}:
                response.headers[key] = value
        return response
    return _page(status, _detail_for(status, error)), status


def _detail_for(status: int, error: HTTPException) -> str:
    human = {
        400: _("The request could not be understood (malformed input)."),
        401: _("Please sign in first."),
        403: _("You do not have permission to do this."),
        404: _("Nothing was found at this address."),
        405: _("This method is not allowed here."),
        413: _("The upload is too large."),
        415: _("This content type is not accepted here."),
        422: _("Some fields are not valid; see the errors."),
        429: _("Too many attempts. Please wait and try again."),
        500: _("Something went wrong on the server. Nothing you sent was lost."),
    }
    if status == 400 and error.description and "JSON" in str(error.description):
        return _("The request body is not valid JSON.")
    return str(human.get(status, error.description or error.name))


def handle_unexpected(error: Exception) -> Response | tuple[str, int]:
    """Catch-all. Under testing it re-raises, so a broken handler fails a test (STYLE.md)."""
    from flask import current_app

    if current_app.testing:
        raise error
    log.exception("unhandled error", exc_info=error)
    return handle_http_error(InternalServerError())


def _page(status: int, message: str) -> str:
    return render_template("error.html", status=status, message=message)


def handle_validation_error(error: ValidationError) -> Response | tuple[str, int]:
    """A marshmallow schema a view loaded itself (query arguments, a form) refused the
    input: 422 naming the first field, as if the view had raised InvalidInput."""
    messages = error.messages if isinstance(error.messages, dict) else {}
    field = next(iter(messages), None)
    return handle_domain_error(
        exc.InvalidInput(
            _("Some fields are not valid; see the errors."),
            code="validation_error",
            field=None if field in (None, "_schema") else str(field),
            details={"errors": translate_messages(messages)} if messages else None,
        )
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(exc.WanggeError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
