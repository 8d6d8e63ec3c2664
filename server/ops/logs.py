"""Structured logs: one JSON object per line, one line per request, errors with their stack."""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any, ClassVar

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import inspect as sa_inspect

REQUEST_LOGGER = "wangge.request"


class RequestContextFilter(logging.Filter):
    """Adds the request id to every record logged while a request is being handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def json_formatter() -> logging.Formatter:
    """The JSON formatter shared by the app and gunicorn's loggers (gunicorn.conf.py)."""
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send the root logger to stderr as JSON (or plain text); calling it again changes nothing.

    Under gunicorn the root logger already has gunicorn's JSON handler (gunicorn.conf.py):
    it only gets the request-id filter, so no line is written twice.
    """
    root = logging.getLogger()
    logging.getLogger("alembic").setLevel(logging.WARNING)  # plugin chatter on every start
    if root.handlers:
        for existing in root.handlers:
            if not any(isinstance(f, RequestContextFilter) for f in existing.filters):
                existing.addFilter(RequestContextFilter())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter() if fmt == "json" else logging.Formatter())
    handler.addFilter(RequestContextFilter())
    root.addHandler(handler)
    root.setLevel(level)


def route_of_request() -> str:
    """The matched URL rule (`/api/v1/photos/<sha256>`), never the raw path: bounded labels."""
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def _caller_ids() -> tuple[int | None, str | None]:
    """User and device of the request if authentication already ran (never queries for it)."""
    caller = request.environ.get("wangge.caller")
    if caller is not None:
        # The identity key, not `.id`: after the view's commit the rows are expired and
        # reading an attribute would cost a SELECT per request just for the log line.
        device = sa_inspect(caller.device).identity[0] if caller.device else None
        return sa_inspect(caller.user).identity[0], str(device) if device else None
    user = g.get("_login_user")  # Flask-Login's cache: set only if something asked
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id, None
    return None, None


def request_fields(response: Response, duration_ms: float) -> dict[str, Any]:
    user_id, device_id = _caller_ids()
    return {
        "request_id": g.get("request_id"),
        "method": request.method,
        "route": route_of_request(),
        # A view may put a placeholder here when its path holds a secret (reset tokens).
        "path": request.environ.get("wangge.log_path", request.path),
        "status": response.status_code,
        "duration_ms": round(duration_ms, 2),
        "user_id": user_id,
        "device_id": device_id,
        "remote_addr": request.remote_addr,
        "bytes_in": request.content_length or 0,
    }


def init_app(app: Flask) -> None:
    if app.config.get("LOG_FORMAT") in {"json", "text"}:
        configure_logging(app.config.get("LOG_LEVEL", "INFO"), app.config["LOG_FORMAT"])
    log = logging.getLogger(REQUEST_LOGGER)

    @app.before_request
    def _start_clock() -> None:
        request.environ["wangge.started"] = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        started = request.environ.get("wangge.started", time.perf_counter())
        duration_ms = (time.perf_counter() - started) * 1000
        request.environ["wangge.duration_ms"] = duration_ms
        if app.config.get("LOG_REQUESTS", True):
            log.info("request", extra=request_fields(response, duration_ms))
        return response


#: Paths whose last part is a private link's secret (follow, booking, rating, password reset).
PRIVATE_PATH = re.compile(r"(/(?:report/f|services/b|rate|password-reset)/)[A-Za-z0-9_.~-]+")


def mask_private_path(text: str) -> str:
    """`text` with private links' secrets replaced by "…" (paths or whole URLs in text)."""
    return PRIVATE_PATH.sub(r"\1…", text)


class GunicornAccessFormatter(logging.Formatter):
    """gunicorn's access records as JSON: the atoms it passes as `record.args`, by name."""

    _ATOMS: ClassVar[dict[str, str]] = {
        "h": "remote_addr",
        "m": "method",
        "U": "path",
        "s": "status",
        "B": "bytes_out",
        "D": "duration_us",
        "a": "user_agent",
        "{x-request-id}o": "request_id",
    }

    def __init__(self) -> None:
        super().__init__()
        self._json = json_formatter()

    def format(self, record: logging.LogRecord) -> str:
        atoms = record.args if isinstance(record.args, dict) else {}
        fields = {}
        for atom, name in self._ATOMS.items():
            try:  # gunicorn's SafeAtoms looks up `{header}o` atoms in __getitem__ only
                fields[name] = atoms[atom]
                if name == "path" and isinstance(fields[name], str):
                    fields[name] = mask_private_path(fields[name])
            except KeyError:
                fields[name] = None
        clone = logging.makeLogRecord({**record.__dict__, "msg": "access", "args": None, **fields})
        return self._json.format(clone)
