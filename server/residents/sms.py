"""Sending text messages (one-time codes, follow links): an interface, a log sender, none.

`SMS_SENDER` in the configuration is None (no channel: phones stay unverified, no link is
texted), "log" (messages are written to the log, follow links masked: development), "http"
(`HttpSender`: a JSON POST to `SMS_HTTP_URL`, the gateway's adapter), or "module:attribute"
naming a sender object with `send(phone, text)` (tests use a recording double).
"""

from __future__ import annotations

import importlib
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

from server.ops.logs import mask_private_path

log = logging.getLogger(__name__)


class SmsFailed(Exception):
    """The channel did not take the message (the caller goes on: the page shows the link)."""


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


def redact(text: str) -> str:
    """`text` with private links' tokens replaced by "…" (for logs)."""
    return mask_private_path(text)


class LoggingSender:
    """Development: the message goes to the log, nowhere else (private links masked)."""

    def send(self, phone: str, text: str) -> None:
        log.warning("SMS to %s: %s", phone, redact(text))


class HttpSender:
    """A gateway adapter reached over HTTP: POST {"phone", "text"} as JSON, 2xx = taken.

    `SMS_HTTP_URL` is the adapter's address; `SMS_HTTP_TOKEN`, if set, goes in the
    Authorization header as a bearer token. Any other answer raises SmsFailed.
    """

    def __init__(self, url: str, token: str | None = None, timeout_s: float = 10) -> None:
        self.url, self.token, self.timeout_s = url, token, timeout_s

    def send(self, phone: str, text: str) -> None:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                if not 200 <= answer.status < 300:
                    raise SmsFailed(f"gateway answered {answer.status}")
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SmsFailed(f"gateway unreachable: {error}") from None


def sender_from_config(value: object, config: Mapping[str, Any] | None = None) -> SmsSender | None:
    """The configured sender, or None when no delivery channel is configured."""
    if value is None or value == "":
        return None
    if value == "log":
        return LoggingSender()
    if value == "http":
        config = config or {}
        return HttpSender(str(config.get("SMS_HTTP_URL") or ""), config.get("SMS_HTTP_TOKEN"))
    if isinstance(value, str):
        module, _, attribute = value.partition(":")
        return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]
    return value  # type: ignore[return-value]  (an object given directly, e.g. in tests)
