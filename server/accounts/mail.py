"""Password-reset mail over SMTP (stdlib smtplib), sent off the request thread.

Settings are WANGGE_MAIL_* (server/config.py, docs/operations.md). Sending happens in a
background thread after the answer is decided, so the self-service page takes as long for
an unknown username as for a real one (no enumeration by timing), and a slow or broken
mail server never holds a request; failures are logged, never shown.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

log = logging.getLogger(__name__)


DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    sender: str
    #: "starttls" (upgrade a plain connection, usually port 587), "ssl" (implicit TLS, 465)
    #: or "none" (a relay on the LAN or localhost).
    security: str
    username: str | None
    password: str | None
    timeout_s: float


def settings_from_config(config: Mapping[str, Any]) -> MailSettings | None:
    """The SMTP settings, or None when mail is not configured (no server or no sender)."""
    if not config.get("MAIL_SERVER") or not config.get("MAIL_SENDER"):
        return None
    security = str(config.get("MAIL_SECURITY") or "starttls").lower()
    if security not in {"starttls", "ssl", "none"}:
        raise ValueError(f"WANGGE_MAIL_SECURITY must be starttls, ssl or none, not {security!r}")
    return MailSettings(
        server=str(config["MAIL_SERVER"]),
        port=int(config.get("MAIL_PORT") or DEFAULT_PORTS[security]),
        sender=str(config["MAIL_SENDER"]),
        security=security,
        username=config.get("MAIL_USERNAME") or None,
        password=config.get("MAIL_PASSWORD") or None,
        timeout_s=float(config.get("MAIL_TIMEOUT_SECONDS") or 10),
    )


def reset_message(
    settings: MailSettings,
    *,
    to: str,
    display_name: str,
    link: str,
    hours: int,
    locale: str,
) -> EmailMessage:
    """The reset mail, in the recipient's language."""
    with force_locale(locale):
        subject = _("Reset your Wangge password")
        body = "\n\n".join(
            [
                _("Hello %(name)s,", name=display_name),
                _(
                    "someone (hopefully you) asked to reset the password of your Wangge "
                    "account. Open this link to choose a new password; it works once and "
                    "for %(h)d hours:",
                    h=hours,
                ),
                link,
                _(
                    "Setting a new password signs you out everywhere, and the phone app "
                    "must sign in again."
                ),
                _("If you did not ask for this, ignore this mail: your password stays as it is."),
            ]
        )
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(body + "\n", charset="utf-8")
    return message


def send(settings: MailSettings, message: EmailMessage) -> None:
    """Deliver one message now. Raises smtplib.SMTPException or OSError on failure."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.server, settings.port, timeout=settings.timeout_s, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout_s)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


def send_in_background(settings: MailSettings, message: EmailMessage) -> threading.Thread:
    """Start delivering `message` on a daemon thread; failures go to the log."""

    def deliver() -> None:
        try:
            send(settings, message)
        except (smtplib.SMTPException, OSError) as error:
            # The message id, not the address: logs are read more widely than the user table.
            log.error("password reset mail %s failed: %s", message["Message-ID"], error)
        else:
            log.info("password reset mail %s sent", message["Message-ID"])

    thread = threading.Thread(target=deliver, name="wangge-mail", daemon=True)
    thread.start()
    return thread
