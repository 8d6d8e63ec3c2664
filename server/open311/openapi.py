"""An OpenAPI 3.0 description of the Open311 endpoints (JSON flavour) and the residents' lookups.

Served at /open311/v2/openapi.json for partners' tooling; the fuzz test runs schemathesis
against it (tests/server/test_open311_schemathesis.py).
"""

from __future__ import annotations

from typing import Any

_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
_ARRAY = {"type": "array", "items": {"type": "object"}}


def _responses(ok: int = 200, body: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        str(ok): {"description": "ok", "content": {"application/json": {"schema": body or _ARRAY}}}
    }
    for status in (400, 403, 404):
        out[str(status)] = {
            "description": "error array",
            "content": {"application/json": {"schema": _ERRORS}},
        }
    return out


_TYPES: dict[str, dict[str, Any]] = {
    "start_date": {"type": "string", "format": "date-time"},
    "end_date": {"type": "string", "format": "date-time"},
    "status": {"type": "string", "enum": ["open", "closed", "open,closed"]},
    "page": {"type": "integer", "minimum": 1},
    "page_size": {"type": "integer", "minimum": 1, "maximum": 1000},
}


def _lookup(what: str) -> dict[str, Any]:
    return {
        "200": {"description": what, "content": {"application/json": {"schema": _ARRAY}}},
        "400": {
            "description": "refused",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "422": {
            "description": "a NUL character in the query (server/input_guard.py)",
            "content": {"application/problem+json": {"schema": {"type": "object"}}},
        },
    }


def _query(*names: str) -> list[dict[str, Any]]:
    return [
        {"name": n, "in": "query", "required": False, "schema": _TYPES.get(n, {"type": "string"})}
        for n in names
    ]


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_NEW_REQUEST = {
    "type": "object",
    "required": ["api_key", "service_code"],
    "properties": {
        "api_key": {"type": "string"},
        "service_code": {"type": "string"},
        "jurisdiction_id": {"type": "string"},
        "lat": {"type": "string"},
        "long": {"type": "string"},
        "address_string": {"type": "string"},
        "address_id": {"type": "string"},
        "description": {"type": "string"},
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "phone": {"type": "string"},
        "email": {"type": "string"},
        "media_url": {"type": "string"},
        "account_id": {"type": "string"},
        "device_id": {"type": "string"},
    },
}


def document(prefix: str = "/open311/v2") -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Wangge Open311 GeoReport v2", "version": "2"},
        "paths": {
            f"{prefix}/discovery.json": {"get": {"responses": _responses(200, {"type": "object"})}},
            f"{prefix}/services.json": {
                "get": {"parameters": _query("jurisdiction_id"), "responses": _responses()}
            },
            f"{prefix}/services/{{service_code}}.json": {
                "get": {
                    "parameters": [_path("service_code"), *_query("jurisdiction_id")],
                    "responses": _responses(200, {"type": "object"}),
                }
            },
            f"{prefix}/requests.json": {
                "get": {
                    "parameters": _query(
                        "service_request_id",
                        "service_code",
                        "start_date",
                        "end_date",
                        "status",
                        "page",
                        "page_size",
                        "jurisdiction_id",
                    ),
                    "responses": _responses(),
                },
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/x-www-form-urlencoded": {"schema": _NEW_REQUEST}},
                    },
                    "responses": _responses(201),
                },
            },
            f"{prefix}/requests/{{service_request_id}}.json": {
                "get": {"parameters": [_path("service_request_id")], "responses": _responses()}
            },
            f"{prefix}/tokens/{{token}}.json": {
                "get": {"parameters": [_path("token")], "responses": _responses()}
            },
            "/report/catalogue.json": {
                "get": {"parameters": _query("q"), "responses": _lookup("items")}
            },
            "/report/places.json": {
                "get": {"parameters": _query("q"), "responses": _lookup("places")}
            },
        },
    }
