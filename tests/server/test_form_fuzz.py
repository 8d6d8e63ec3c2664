"""Every form every page shows, as each role that sees it, posted with one field at a time
hostile and the rest as the page filled them in: never a 5xx (trust rules; issue 12 item 4).

The route fuzzer (test_route_fuzz.py) sets every field of a body to the same hostile value, so
a form fails on its first field and what lies behind it is never reached: the manager's
evaluation form with a valid period and score but a subject id nobody has went through to
the database (a foreign key error, a 500). Here the street is seeded through the real flows
(tests/server/privacy_seed.py), every page of the URL map is opened with real path values as
each role (several records per path variable: cases in different states show different forms),
and every POST form found is sent as the browser would, then once per field and hostile value
with that field alone changed (and once without it). The pages are opened twice, so the second
sweep meets the forms the first one's posts brought out. A page added later is opened and its
forms are posted without anything to declare.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from tests.server.conftest import signed_in
from tests.server.privacy_seed import Seeded, seed
from tests.server.seed_paths import real_path_values

#: One field at a time takes each of these (a browser sends text only).
HOSTILE = [
    "99999999999999999999",
    str(2**63),
    "-1",
    "1e400",
    "nan",
    "0001-01-01",
    "9999-12-31T23:59:59+14:00",
    "2026-02-30",
    "x" * 10_000,
    "zzz",
    "",
    "名字\U0001f600",
]
DIGITS = re.compile(r"\d+")
#: Roles in the order they post (the administrator last: its forms end other people's access).
USERS = {"worker": "w1", "dispatcher": "d1", "manager": "mgr", "gis": "gis1", "admin": "admin"}
#: Real values per path variable whose pages are opened (cases in several states …).
PER_VARIABLE = 6
#: Forms never posted: they end the caller's session.
ENDING = {"accounts.logout"}
#: A value for an empty field the page left to the user, by input type.
FILL = {
    "date": "2026-11-26",
    "datetime-local": "2026-11-26T10:00",
    "number": "1",
    "tel": "13800000000",
}


@dataclass
class Form:
    """A POST form as a browser would send it: where, and its fields' values."""

    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    #: Each field's other values the page offers (options, radio buttons, submit buttons).
    choices: dict[str, list[str]] = field(default_factory=dict)


class _Forms(HTMLParser):
    """The POST forms of a page (stdlib parser: the pages are ours and well formed)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = urllib.parse.urljoin(self.page, a.get("action") or self.page)
                self.form = Form(action)
            return
        form, name = self.form, a.get("name")
        if form is not None and tag == "option" and self.select is not None:
            value = a.get("value", "")
            if value:
                form.choices.setdefault(self.select, []).append(value)
                if not form.fields[self.select] or "selected" in a:
                    form.fields[self.select] = [value]
            return
        if form is None or not name:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            # A file input is left out: the form goes without its file (test_import_bad_files.py
            # fuzzes the files).
            if kind in ("checkbox", "radio"):
                form.choices.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    form.fields.setdefault(name, []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "reset", "image", "file"):
                value = a.get("value", "") or (
                    "" if "required" not in a else FILL.get(kind, "测试")
                )
                if not value and kind in FILL:
                    value = a.get("min") or FILL[kind]
                form.fields[name] = [value]
            elif kind == "submit" and "value" in a:
                form.choices.setdefault(name, []).append(a["value"])
                form.fields.setdefault(name, [a["value"]])
        elif tag == "button" and "value" in a:
            form.choices.setdefault(name, []).append(a["value"])
            form.fields.setdefault(name, [a["value"]])
        elif tag == "select":
            self.select = name
            form.fields.setdefault(name, [])
        elif tag == "textarea":
            self.textarea = name
            form.fields[name] = ["测试" if "required" in a else ""]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.form is not None:
            self.forms.append(self.form)
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.form is not None and self.textarea and data.strip():
            self.form.fields[self.textarea] = [data]


def forms_of(page: str, html_text: str) -> list[Form]:
    parser = _Forms(page)
    parser.feed(html_text)
    return parser.forms


@pytest.fixture
def seeded(client: FlaskClient, world: Any, make_user: Callable[..., Any]) -> Seeded:
    make_user("gis", username="gis1")
    return seed(client, world)


def _pages(app: Flask, s: Seeded) -> list[tuple[str, str]]:
    """(endpoint, path) of every GET page, with the first real value of each path variable."""
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint in ENDING:
            continue
        if rule.endpoint.startswith(("static", "api", "pwa.", "docs_assets")):
            continue
        names = list(rule._converters)
        # each real value of one variable (records in other states show other forms), the
        # others at their first
        firsts = {n: real_path_values(rule, n, s)[0] for n in names}
        combos = [firsts] + [
            {**firsts, n: v} for n in names for v in real_path_values(rule, n, s)[1:PER_VARIABLE]
        ]
        out += [(rule.endpoint, rule.build(c, append_unknown=False)[1]) for c in combos]
    return out


@dataclass
class Sent:
    failures: dict[str, str] = field(default_factory=dict)
    forms: set[str] = field(default_factory=set)
    requests: int = 0


def _post(client: FlaskClient, form: Form, fields: dict[str, list[str]], sent: Sent, who: str):
    sent.requests += 1
    path = urllib.parse.urlsplit(form.action)
    try:
        answer = client.post(path.path, query_string=path.query, data=fields)
    except Exception as error:  # noqa: BLE001  (every exception is a finding)
        db.session.rollback()
        key = f"{path.path} {type(error).__name__}"
        sent.failures.setdefault(key, f"{who}: {str(error)[:200]} with {_short(fields)}")
        return
    answer.close()
    if answer.status_code >= 500:
        key = f"{path.path} {answer.status_code}"
        sent.failures.setdefault(key, f"{who}: with {_short(fields)}")


def _reshaped(values: list[str]) -> list[str]:
    """The page's own value with its numbers swapped for ones no record has (`user:7` →
    `user:999999`, `user:99999999999999999999`): past the format check, into the lookup."""
    out: list[str] = []
    for value in values[:1]:
        if DIGITS.search(value):
            out += [DIGITS.sub(n, value) for n in ("999999", HOSTILE[0], "0")]
    return out


def _short(fields: dict[str, list[str]]) -> str:
    return str({k: [v[:40] for v in vs] for k, vs in fields.items()})[:300]


def fuzz_forms(app: Flask, clients: dict[str, FlaskClient], s: Seeded) -> Sent:
    sent = Sent()
    pages = _pages(app, s)
    for role, client in clients.items():
        seen: set[tuple[str, tuple[str, ...]]] = set()
        # The second sweep meets the forms the first one's posts brought out (a case
        # dispatched, a postponement waiting for a decision).
        for endpoint, page in [*pages, *pages]:
            answer = client.get(page)
            text = answer.get_data(as_text=True) if answer.mimetype == "text/html" else ""
            answer.close()
            for form in forms_of(page, text):
                target = urllib.parse.urlsplit(form.action).path
                posted_to = app.url_map.bind("localhost").match(target, "POST")[0]
                if posted_to in ENDING:
                    continue
                key = (posted_to, tuple(sorted(form.fields)))
                if key in seen:
                    continue
                seen.add(key)
                sent.forms.add(f"{role} {posted_to} {len(form.fields)}")
                base = {k: list(v) for k, v in form.fields.items()}
                who = f"{role} on {endpoint} {page}"
                _post(client, form, base, sent, who)
                for name in form.fields:
                    if name == "csrf_token":
                        continue
                    others = [c for c in form.choices.get(name, []) if [c] != base[name]]
                    for value in [*HOSTILE, *others[:3], *_reshaped(base[name])]:
                        _post(client, form, {**base, name: [value]}, sent, who)
                    _post(client, form, {k: v for k, v in base.items() if k != name}, sent, who)
    return sent


def test_no_form_answers_5xx_with_one_field_hostile(app: Flask, seeded: Seeded) -> None:
    clients: dict[str, FlaskClient] = {"stranger": app.test_client()}
    clients.update({role: signed_in(app, username) for role, username in USERS.items()})
    started = time.monotonic()
    sent = fuzz_forms(app, clients, seeded)
    took = time.monotonic() - started
    print(f"form fuzz: {len(sent.forms)} forms, {sent.requests} posts in {took:.1f} s")
    assert not sent.failures, "\n".join(f"{k}\n    {v}" for k, v in sent.failures.items())
    # The walk reached the forms of every kind of page (a broken crawl finds none).
    assert len(sent.forms) >= 40, sorted(sent.forms)
    assert sent.requests > 2_000
