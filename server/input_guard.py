"""Refuse a NUL character in any text a request carries, before a view can store it.

PostgreSQL cannot hold U+0000 in a text value: a search box, a form field or a JSON string
with one made the driver raise inside the query and the caller got a 500 (SQLite stored it
silently, so the two backends disagreed). One check before every view answers 422 with the
field instead, and nothing is read from or written to the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l

from server.api.base import strict_json_loads
from server.exceptions import InvalidInput
from sync.text import NUL, first_nul

_EXEMPT = "wangge_nul_exempt"
_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def _pairs_with_nul(pairs: Iterable[tuple[str, Any]]) -> str | None:
    for key, value in pairs:
        if NUL in key or (isinstance(value, str) and NUL in value):
            return key.replace(NUL, "\\x00")
    return None


def _json_body() -> Any:
    """The parsed JSON body when it may hold a NUL (its escape occurs), else None.

    JSON cannot carry a raw NUL inside a string (the parser refuses control characters),
    only the escape `\\u0000`; most bodies are skipped by one substring search.
    """
    body = request.get_data(cache=True)
    if not body:
        return None
    try:
        text = body.decode(json.detect_encoding(body))
    except (UnicodeDecodeError, LookupError):
        return None  # the view's parser answers 400 for a body it cannot read
    if "\\u0000" not in text:
        return None
    try:
        return strict_json_loads(text)
    except ValueError:
        return None


def _offending_fields() -> Iterator[tuple[str, str | None]]:
    """(where, field) for each part of the request; field is None when that part is clean."""
    yield "path", _pairs_with_nul((request.view_args or {}).items())
    yield "query", _pairs_with_nul(request.args.items(multi=True))
    if request.mimetype in _FORM_TYPES:
        if (
            request.mimetype == "application/x-www-form-urlencoded"
            and (request.content_length or 0) <= current_app.config["MAX_JSON_BYTES"]
        ):
            # Keep the (text-only) body readable after the form is parsed: an API view that
            # wants JSON still sees the bytes and answers 415 rather than "fields missing".
            # Multipart bodies (photos, grid files) are streamed, never held twice.
            request.get_data(cache=True)
        yield "form", _pairs_with_nul(request.form.items(multi=True))
        names = ((name, upload.filename) for name, upload in request.files.items(multi=True))
        yield "files", _pairs_with_nul(names)
    if request.is_json:
        yield "json", first_nul(_json_body())


def refuse_nul_characters() -> None:
    """before_request: raise InvalidInput (422) naming the first field that holds a NUL."""
    exempted = current_app.extensions.get(_EXEMPT, ())
    if request.blueprint in exempted or request.endpoint in exempted:
        return
    for where, field in _offending_fields():
        if field is not None:
            raise InvalidInput(
                _l("Text may not contain a NUL character (U+0000)."),
                code="nul_character",
                field=field,
                details={"location": where},
            )


def exempt(app: Flask, name: str) -> None:
    """Leave a blueprint or one endpoint to refuse NUL itself, in its own protocol's shape:
    Open311's error list; the sync push, which rejects only the mutation that holds one."""
    app.extensions.setdefault(_EXEMPT, set()).add(name)


def init_app(app: Flask) -> None:
    """Install the check; after authentication and the body size caps, before any view."""
    app.before_request(refuse_nul_characters)
