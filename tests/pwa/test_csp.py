"""The strict Content-Security-Policy holds: every main page loads in Chromium with no violation."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from tests.pwa.conftest import DEMO_PASSWORD, LiveServer

pytestmark = pytest.mark.browser

# Any violation is recorded by the page itself, before any of its own scripts run.
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                    " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


class Watched:
    """A browser context whose pages report CSP violations, console errors and page errors."""

    def __init__(self, browser: Any, server: LiveServer) -> None:
        self.server = server
        self.context = browser.new_context(locale="zh-CN", service_workers="allow")
        self.context.add_init_script(WATCH_VIOLATIONS)
        self.problems: list[str] = []
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))

    def _console(self, message: Any) -> None:
        if message.type == "error" and "404 (NOT FOUND)" not in message.text:
            self.problems.append(f"console: {message.text}")

    def visit(self, path: str, ready: str) -> Any:
        response = self.page.goto(self.server.url + path)
        assert response is not None
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "unsafe-inline" not in policy
        self.page.wait_for_selector(ready, state="attached", timeout=15000)
        self.page.wait_for_load_state("networkidle")
        violations = self.page.evaluate("window.__csp")
        self.problems.extend(f"{path}: {v}" for v in violations)
        return self.page

    def sign_in(self, username: str) -> None:
        self.visit("/login", "form")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        self.page.click("main form button[type=submit]")
        self.page.wait_for_load_state("networkidle")


def test_the_back_office_pages_pass_the_policy(browser: Any, server: LiveServer) -> None:
    watched = Watched(browser, server)
    watched.sign_in("admin")
    watched.visit("/", "main h1")
    versions = watched.visit("/grids/", "main")
    links = [a for a in versions.eval_on_selector_all("a", "els => els.map(e => e.href)")
             if re.search(r"/grids/\d+$", a)]  # fmt: skip
    assert links, "the demo has a grid version"
    version_path = links[0].removeprefix(server.url)
    watched.visit(version_path, "#map .leaflet-pane")
    watched.page.wait_for_function(
        "() => document.querySelectorAll('#map canvas, #map path').length > 0", timeout=15000
    )
    watched.visit("/grids/people", "main")
    watched.visit("/grids/gaps", "main")
    watched.visit("/no/such/page", "main")
    assert not watched.problems, "\n".join(watched.problems)


def test_the_api_docs_page_passes_the_policy(browser: Any, server: LiveServer) -> None:
    watched = Watched(browser, server)
    page = watched.visit("/api/v1/docs", "#swagger-ui-container")
    page.wait_for_selector(".swagger-ui .info", timeout=15000)
    page.wait_for_selector(".opblock", timeout=15000)
    assert not watched.problems, "\n".join(watched.problems)


def test_the_worker_app_passes_the_policy(browser: Any, server: LiveServer) -> None:
    watched = Watched(browser, server)
    page = watched.visit("/app/", "body[data-ready=true]")
    page.fill("#username", "zhou.jie")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-screen=home]", timeout=20000)
    page.wait_for_load_state("networkidle")
    watched.problems.extend(page.evaluate("window.__csp"))
    assert not watched.problems, "\n".join(watched.problems)


def test_the_residents_pages_pass_the_policy(browser: Any, server: LiveServer) -> None:
    """/report/ (map, photo inputs, the page's module scripts) and /services/, signed out."""
    watched = Watched(browser, server)
    page = watched.visit("/report/", "#report-form")
    page.wait_for_function("() => document.getElementById('report-map').dataset.cellsDrawn")
    watched.visit("/services/", "main h1")
    assert not watched.problems, "\n".join(watched.problems)


def test_the_policy_header_is_on_api_answers_too(server: LiveServer) -> None:
    answer = requests.get(f"{server.url}/healthz/live", timeout=5)
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    assert "manifest-src" not in answer.headers["Content-Security-Policy"]
