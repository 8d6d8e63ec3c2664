"""Sending one-time codes by SMS: an interface, a logging sender for development, none.

`SMS_SENDER` in the configuration is None (no channel: phones stay unverified), "log"
(codes are written to the log: development), or "module:attribute" naming a sender object
with `send(phone, text)` (a real gateway; tests use a recording double).
"""

from __future__ import annotations

import importlib
import logging
from typing import Protocol

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LoggingSender:
    """Development: the message goes to the log, nowhere else."""

    def send(self, phone: str, text: str) -> None:
        log.warning("SMS to %s: %s", phone, text)


def sender_from_config(value: object) -> SmsSender | None:
    """The configured sender, or None when no delivery channel is configured."""
    if value is None or value == "":
        return None
    if value == "log":
        return LoggingSender()
    if isinstance(value, str):
        module, _, attribute = value.partition(":")
        return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]
    return value  # type: ignore[return-value]  (an object given directly, e.g. in tests)
