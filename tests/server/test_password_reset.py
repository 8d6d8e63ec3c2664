"""Password reset: admin-issued and mailed one-time links, used once, ending every session.

The mail path runs against a real SMTP server (aiosmtpd) on 127.0.0.1, started per test.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from server.accounts import resets
from server.accounts.models import ApiToken, Device, PasswordReset, User
from server.accounts.operations import token_digest
from server.accounts.passwords import verify_password
from server.audit.models import AuditEntry
from server.audit.operations import AccessContext
from server.extensions import db
from sync.db import utcnow
from tests.server.conftest import PASSWORD, csrf_token, login

NEW_PASSWORD = "a brand new passphrase"
SENDER = "wangge@xinhua.example.gov.cn"


# --- helpers -----------------------------------------------------------------------------


def issue(user: User, *, at: dt.datetime | None = None, hours: int = 24) -> str:
    token = resets.issue_reset_link(
        db.session,
        user,
        at=at or utcnow(),
        lifetime=dt.timedelta(hours=hours),
        channel="cli",
        context=AccessContext(None),
    )
    db.session.commit()
    return token


def reset_with(client: Any, token: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    path = f"/password-reset/{token}"
    return client.post(
        path,
        data={
            "csrf_token": csrf_token(client, "/login"),
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def fresh(user: User) -> User:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


def without_csrf(html: str) -> str:
    """A page with its CSRF tokens blanked (they are signed with the time, so they vary)."""
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value=""', html)


def me(client: Any, token: str) -> int:
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


# --- a real SMTP server --------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout_s: float = 10) -> list[EmailMessage]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout_s)
        assert len(self.messages) >= count, f"{len(self.messages)} of {count} mails arrived"
        return self.messages


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox(app: Any) -> Iterator[Inbox]:
    """An SMTP server on 127.0.0.1 and the app's mail settings pointing at it."""
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_SECURITY="none",
        MAIL_SENDER=SENDER,
        PUBLIC_URL="http://localhost",
    )
    yield handler
    controller.stop()


def link_in(message: EmailMessage) -> str:
    body = message.get_content()
    match = re.search(r"https?://\S+/password-reset/[A-Za-z0-9_-]+", body)
    assert match, body
    return match.group(0)


def forgot(client: Any, username: str, **kwargs: Any) -> Any:
    token = csrf_token(client, "/forgot-password")
    return client.post(
        "/forgot-password", data={"csrf_token": token, "username": username}, **kwargs
    )


# --- admin-issued links --------------------------------------------------------------------


def test_an_admin_issues_a_link_that_sets_the_password_once_and_signs_the_user_out_everywhere(
    app, make_user, token_for
):
    admin, worker = make_user("admin"), make_user("worker")
    phone_id = uuid.uuid4()
    phone, tablet = token_for(worker, device_id=phone_id), token_for(worker)
    session_of_worker = app.test_client()
    assert login(session_of_worker, worker.username).status_code == 302

    office = app.test_client()
    login(office, admin.username)
    listing = office.get("/admin/users/").get_data(as_text=True)
    assert worker.username in listing and "签发重置链接" in listing
    issued = office.post(
        f"/admin/users/{worker.id}/reset-link", data={"csrf_token": csrf_token(office, "/")}
    )
    assert issued.status_code == 200
    assert issued.headers["Referrer-Policy"] == "no-referrer"
    assert issued.headers["Cache-Control"] == "no-store"
    link = re.search(r'value="(http://localhost/password-reset/([^"]+))"', issued.text)
    assert link, issued.text
    token = link.group(2)
    row = db.session.scalar(select(PasswordReset).where(PasswordReset.user_id == worker.id))
    assert row.token_sha256 == token_digest(token) and token not in row.token_sha256
    assert (row.channel, row.issued_by_id) == ("admin", admin.id)
    assert (
        dt.timedelta(hours=23, minutes=59)
        < row.expires_at - row.created_at
        <= dt.timedelta(hours=24)
    )

    stranger = app.test_client()
    form = stranger.get(f"/password-reset/{token}")
    assert form.status_code == 200
    assert form.headers["Referrer-Policy"] == "no-referrer"
    assert worker.username in form.text and 'autocomplete="new-password"' in form.text
    done = reset_with(stranger, token)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert "密码已修改" in stranger.get("/login").text

    user = fresh(worker)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert user.password_hash.startswith("$argon2id$")
    assert session_of_worker.get("/").status_code == 302  # the old session ended
    assert me(stranger, phone) == 401 and me(stranger, tablet) == 401
    assert db.session.scalar(select(func.count()).where(ApiToken.revoked_at.is_(None))) == 0
    assert login(app.test_client(), worker.username).status_code == 401  # old password
    assert login(app.test_client(), worker.username, NEW_PASSWORD).status_code == 302
    # The phone is not revoked, only signed out: it signs in again with the new password.
    assert me(stranger, token_for(user, NEW_PASSWORD, device_id=phone_id)) == 200
    assert db.session.get(Device, phone_id).revoked_at is None

    actions = db.session.execute(
        select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.detail)
        .where(AuditEntry.subject_type == "user", AuditEntry.subject_id == str(worker.id))
        .order_by(AuditEntry.id)
    ).all()
    assert [(a, actor) for a, actor, _ in actions] == [
        ("reset_link_issued", admin.id),
        ("password_reset", worker.id),
    ]
    assert actions[1][2]["device_tokens_revoked"] == 2

    # Single use: the link is gone (410) and a second try changes nothing.
    again = stranger.get(f"/password-reset/{token}")
    assert again.status_code == 410 and "已被使用" in again.text
    assert reset_with(stranger, token, "yet another password").status_code == 410
    assert verify_password(fresh(worker).password_hash, NEW_PASSWORD)


def test_issuing_a_new_link_voids_the_older_unused_one(client, make_user):
    user = make_user()
    first, second = issue(user), issue(user)
    refused = client.get(f"/password-reset/{first}")
    assert refused.status_code == 410 and "此密码重置链接已作废" in refused.text
    assert reset_with(client, first).status_code == 410
    assert client.get(f"/password-reset/{second}").status_code == 200
    rows = db.session.scalars(select(PasswordReset).order_by(PasswordReset.id)).all()
    assert [r.voided_at is not None for r in rows] == [True, False]


def test_an_expired_link_is_refused_with_410_and_changes_nothing(client, make_user):
    user = make_user()
    token = issue(user, at=utcnow() - dt.timedelta(hours=25))
    page = client.get(f"/password-reset/{token}")
    assert page.status_code == 410 and "已过期" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert reset_with(client, token).status_code == 410
    assert verify_password(fresh(user).password_hash, PASSWORD)
    assert db.session.scalar(select(PasswordReset.used_at)) is None


@pytest.mark.parametrize("token", ["not-a-token", "x" * 43, "y" * 500])
def test_an_unknown_link_is_a_404_page_in_chinese_or_english(client, token):
    page = client.get(f"/password-reset/{token}")
    assert page.status_code == 404 and "此密码重置链接无效" in page.text
    english = client.get(f"/password-reset/{token}?lang=en")
    assert english.status_code == 404 and "This password reset link is not valid" in english.text


def test_a_link_of_an_account_disabled_meanwhile_does_not_work(app, client, make_user):
    user = make_user()
    token = issue(user)
    assert app.test_cli_runner().invoke(args=["users", "disable", user.username]).exit_code == 0
    assert client.get(f"/password-reset/{token}").status_code == 410
    assert reset_with(client, token).status_code == 410


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [("short", "short", "至少 8 个字符"), (NEW_PASSWORD, NEW_PASSWORD + "!", "不一致")],
)
def test_a_new_password_that_breaks_the_rules_keeps_the_link_usable(
    client, make_user, password, confirm, message
):
    user = make_user()
    token = issue(user)
    refused = reset_with(client, token, password, confirm)
    assert refused.status_code == 422 and message in refused.text
    assert refused.headers["Referrer-Policy"] == "no-referrer"
    assert verify_password(fresh(user).password_hash, PASSWORD)
    assert reset_with(client, token).status_code == 302


def test_the_reset_form_needs_the_csrf_token(client, make_user):
    user = make_user()
    token = issue(user)
    refused = client.post(
        f"/password-reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert refused.status_code == 400
    assert verify_password(fresh(user).password_hash, PASSWORD)
    assert client.post("/forgot-password", data={"username": user.username}).status_code == 400
    assert reset_with(client, token).status_code == 302  # the link survived the forgery


def test_only_administrators_issue_links_and_the_form_needs_csrf(app, make_user):
    admin, dispatcher, worker = make_user("admin"), make_user("dispatcher"), make_user("worker")
    office = app.test_client()
    login(office, dispatcher.username)
    url = f"/admin/users/{worker.id}/reset-link"
    assert office.get("/admin/users/").status_code == 403
    assert office.post(url, data={"csrf_token": csrf_token(office, "/")}).status_code == 403
    login(office, admin.username)
    assert office.post(url, data={}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 0


def test_a_disabled_account_gets_no_link_from_the_back_office(app, make_user):
    admin, worker = make_user("admin"), make_user("worker")
    app.test_cli_runner().invoke(args=["users", "disable", worker.username])
    office = app.test_client()
    login(office, admin.username)
    refused = office.post(
        f"/admin/users/{worker.id}/reset-link",
        data={"csrf_token": csrf_token(office, "/")},
        follow_redirects=True,
    )
    assert "请先启用" in refused.text
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 0


def test_the_request_log_shows_a_placeholder_instead_of_the_token(client, make_user, caplog):
    token = issue(make_user())
    with caplog.at_level(logging.INFO, logger="wangge.request"):
        client.get(f"/password-reset/{token}")
    paths = [getattr(r, "path", "") for r in caplog.records if r.name == "wangge.request"]
    assert paths == ["/password-reset/<token>"]
    assert token not in caplog.text


# --- the CLI ------------------------------------------------------------------------------


def test_the_cli_prints_a_working_link_with_the_chosen_lifetime(app, client, make_user):
    user = make_user()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "reset-link", user.username, "--hours", "2"])
    assert result.exit_code == 0, result.output
    path = result.stdout.strip()
    assert re.fullmatch(r"/password-reset/[A-Za-z0-9_-]{43}", path), result.stdout
    assert "WANGGE_PUBLIC_URL" in result.stderr
    row = db.session.scalar(select(PasswordReset))
    assert (row.channel, row.issued_by_id) == ("cli", None)
    assert dt.timedelta(hours=1, minutes=59) < row.expires_at - row.created_at
    assert row.expires_at - row.created_at <= dt.timedelta(hours=2)
    assert client.get(path).status_code == 200

    app.config["PUBLIC_URL"] = "https://wangge.example.gov.cn/"
    second = runner.invoke(args=["users", "reset-link", user.username])
    assert second.stdout.startswith("https://wangge.example.gov.cn/password-reset/")
    assert client.get(path).status_code == 410  # the first link was voided


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "reset-link", "nobody"], "nobody"),
        (["users", "reset-link", "USER", "--hours", "0"], "0"),
        (["users", "reset-link", "DISABLED"], "account_disabled"),
    ],
)
def test_the_cli_refuses_unknown_or_disabled_users_and_silly_lifetimes(
    app, make_user, args, message
):
    user, disabled = make_user(), make_user()
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "disable", disabled.username])
    names = {"USER": user.username, "DISABLED": disabled.username}
    result = runner.invoke(args=[names.get(a, a) for a in args])
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 0


def test_users_get_an_email_address_from_the_cli(app):
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=["users", "create", "li.na", "--role", "worker", "--email", " li.na@example.cn "],
        input=f"{PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output
    assert db.session.scalar(select(User.email).where(User.username == "li.na")) == (
        "li.na@example.cn"
    )
    bad = runner.invoke(args=["users", "set-email", "li.na", "not an address"])
    assert bad.exit_code != 0 and "email" in bad.output
    assert runner.invoke(args=["users", "set-email", "li.na", ""]).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(User.email).where(User.username == "li.na")) is None


# --- "forgot password" by mail ------------------------------------------------------------


def test_the_login_page_links_to_forgot_password(client):
    page = client.get("/login").text
    assert 'href="/forgot-password"' in page and "忘记密码" in page


def test_without_mail_settings_the_page_says_to_ask_an_administrator(client, make_user):
    user = make_user(email="w@example.cn")
    page = client.get("/forgot-password")
    assert page.status_code == 200 and "请联系系统管理员" in page.text
    assert "<form" not in page.text.split("<main", 1)[1].split("</main>")[0]
    answered = forgot(client, user.username)
    assert answered.status_code == 200 and "请联系系统管理员" in answered.text
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 0


def test_mail_without_a_public_url_mails_nothing_and_sends_users_to_an_administrator(
    app, client, make_user, inbox
):
    app.config["PUBLIC_URL"] = None  # links would be built from a Host header anyone can forge
    user = make_user(email="w@example.cn")
    answered = forgot(client, user.username)
    assert answered.status_code == 200 and "请联系系统管理员" in answered.text
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 0
    assert inbox.messages == []


def test_a_bad_mail_security_setting_stops_the_app_at_start(make_app):
    with pytest.raises(ValueError, match="WANGGE_MAIL_SECURITY"):
        make_app(MAIL_SERVER="127.0.0.1", MAIL_SENDER=SENDER, MAIL_SECURITY="tls1.0")


def test_setting_a_password_or_disabling_the_account_voids_outstanding_links(
    app, client, make_user
):
    user = make_user()
    runner = app.test_cli_runner()
    for command in (["users", "set-password", "--password-stdin", user.username],
                    ["users", "disable", user.username]):  # fmt: skip
        link = runner.invoke(args=["users", "reset-link", user.username])
        assert link.exit_code == 0, link.output
        token = link.stdout.strip().rsplit("/", 1)[1]
        if command[1] == "disable":
            result = runner.invoke(args=command)
        else:
            result = runner.invoke(args=command, input=NEW_PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        page = client.get(f"/password-reset/{token}")
        assert page.status_code == 410, command
        row = db.session.scalar(
            select(PasswordReset).where(PasswordReset.token_sha256 == token_digest(token))
        )
        db.session.refresh(row)
        assert row.voided_at is not None and row.used_at is None


def test_a_mailed_link_arrives_over_smtp_and_works(app, client, make_user, inbox):
    user = make_user(email="zhou.jie@example.cn", display_name="周杰")
    answered = forgot(client, user.username)
    assert answered.status_code == 200 and "链接已发往该邮箱" in answered.text
    (message,) = inbox.wait_for(1)
    assert inbox.envelopes == [(SENDER, ["zhou.jie@example.cn"])]
    assert message["Subject"] == "重置您的网格系统密码"
    assert message["To"] == "zhou.jie@example.cn" and message["Auto-Submitted"]
    assert "周杰" in message.get_content()
    link = link_in(message)
    assert link.startswith("http://localhost/password-reset/")

    path = link.removeprefix("http://localhost")
    assert client.get(path).status_code == 200
    assert reset_with(client, path.rsplit("/", 1)[1]).status_code == 302
    assert verify_password(fresh(user).password_hash, NEW_PASSWORD)
    row = db.session.scalar(select(PasswordReset))
    assert (row.channel, row.used_at is not None) == ("mail", True)


def test_mailed_links_use_the_public_url_whatever_host_the_request_names(
    app, client, make_user, inbox
):
    app.config.update(PUBLIC_URL="https://wangge.example.gov.cn", SERVER_NAME=None)
    user = make_user(email="w@example.cn")
    user.locale = "en"
    db.session.commit()
    forged = {"base_url": "http://attacker.example"}  # the Host header a forger chooses
    page = client.get("/forgot-password", **forged).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answered = client.post(
        "/forgot-password", data={"csrf_token": token, "username": user.username}, **forged
    )
    assert answered.status_code == 200
    (message,) = inbox.wait_for(1)
    assert link_in(message).startswith("https://wangge.example.gov.cn/password-reset/")
    assert message["Subject"] == "Reset your Wangge password"  # the user's own language


def test_forgot_password_answers_alike_for_unknown_disabled_addressless_and_real_users(
    app, client, make_user, inbox
):
    real = make_user(email="real@example.cn")
    disabled = make_user(email="gone@example.cn")
    app.test_cli_runner().invoke(args=["users", "disable", disabled.username])
    addressless = make_user()
    answers = {
        name: forgot(client, name)
        for name in ("no.such.user", disabled.username, addressless.username, real.username)
    }
    statuses = {name: a.status_code for name, a in answers.items()}
    assert set(statuses.values()) == {200}, statuses
    bodies = {without_csrf(a.text) for a in answers.values()}
    assert len(bodies) == 1
    inbox.wait_for(1)
    assert [to for _, to in inbox.envelopes] == [["real@example.cn"]]
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 1


def test_mails_per_user_are_capped_per_hour_without_saying_so(app, client, make_user, inbox):
    app.config["PASSWORD_RESET_MAILS_PER_HOUR"] = 2
    user = make_user(email="w@example.cn")
    bodies = {without_csrf(forgot(client, user.username).text) for _ in range(3)}
    assert len(bodies) == 1
    inbox.wait_for(2)
    rows = db.session.scalars(select(PasswordReset).order_by(PasswordReset.id)).all()
    assert len(rows) == 2 and rows[0].voided_at is not None  # the newest mail's link works
    assert len(inbox.messages) == 2


def test_the_forgot_password_form_is_rate_limited_per_address(make_app):
    app = make_app(
        RATELIMIT_ENABLED=True,
        WTF_CSRF_ENABLED=False,
        RATELIMITS={"password_reset.forgot": "2 per minute on POST"},
    )
    client = app.test_client()
    codes = [client.post("/forgot-password", data={"username": "x"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/forgot-password").status_code == 200
    other = client.post(
        "/forgot-password", data={"username": "x"}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 200


def test_both_reset_endpoints_have_default_rate_limits(app):
    limits = app.config["RATELIMITS"]
    assert limits["password_reset.forgot"].endswith("on POST")
    assert limits["password_reset.reset"].endswith("on POST")
