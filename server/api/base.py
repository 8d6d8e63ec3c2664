"""Strict JSON parsing and the smorest Api whose errors are RFC 9457 problems."""

from __future__ import annotations

import json
from typing import Any

import flask_smorest
from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, UnsupportedMediaType


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON does not, and a NaN coordinate
    # would poison every geometry it touches.
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def strict_json_loads(data: str | bytes) -> Any:
    """Parse JSON, refusing NaN/Infinity (a UTF-8 BOM is tolerated).

    >>> strict_json_loads(b'{"a": 1}')
    {'a': 1}
    >>> strict_json_loads("[NaN]")
    Traceback (most recent call last):
    ...
    json.decoder.JSONDecodeError: NaN is not valid JSON: line 1 column 1 (char 0)
    >>> strict_json_loads("[" * 100_000 + "]" * 100_000)
    Traceback (most recent call last):
    ...
    json.decoder.JSONDecodeError: nested too deeply: line 1 column 1 (char 0)

    Large numbers are left to each field's own check: a sync push rejects the one mutation
    holding 1e400 (read as infinity) and applies its neighbours (sync/engine.py). Only what
    cannot be read at all is refused: nesting past the parser's recursion limit and integers
    of more digits than Python converts (both used to escape as a 500).
    """
    try:
        return json.loads(data, parse_constant=_reject_constant)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", "", 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise json.JSONDecodeError(f"unreadable number ({error})", "", 0) from None


class StrictJSONProvider(DefaultJSONProvider):
    """`request.get_json()` with the same strictness as the API parser."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return strict_json_loads(s)


class StrictParser(FlaskParser):
    """webargs parser: strict JSON, a size cap, and 415 for a body that is not JSON."""

    def _raw_load_json(self, req: Any) -> Any:
        body = req.get_data(cache=True)
        if not body:
            return core.missing
        if not req.is_json:
            raise UnsupportedMediaType("Send the body as application/json.")
        if len(body) > current_app.config["MAX_JSON_BYTES"]:
            raise RequestEntityTooLarge()
        return strict_json_loads(body)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()


class Api(flask_smorest.Api):
    """smorest's Api, with its JSON error handler replaced by ours (problem+json)."""

    def handle_http_exception(self, error: HTTPException) -> Any:
        from server.errors import handle_http_error

        return handle_http_error(error)


def is_api_request() -> bool:
    return request.path.startswith("/api/")
