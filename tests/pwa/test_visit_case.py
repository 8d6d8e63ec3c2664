"""A problem found on a household visit ("发现问题,转为案件") is filed private from the app."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.pwa.conftest import LiveServer, wait_outbox_empty

pytestmark = pytest.mark.browser


def test_a_case_made_from_a_visit_reaches_the_office_and_never_open311(
    phone: Any, server: LiveServer, needs_sync: None
) -> None:
    page = phone.login("zhou.jie")
    assert phone.sync(), "first sync failed"
    page.evaluate("location.hash = '#/visits'")
    page.wait_for_selector("[data-household]").click()
    page.wait_for_selector("#visit-form")
    page.fill("#v-situation", "独居老人摔伤了腿,行动不便")
    page.check("#v-to-case")
    page.click("#visit-form button[type=submit]")
    page.wait_for_selector("body[data-screen=visits]")
    # The form syncs at once when online, so the outbox may already be empty here: the
    # report's description is the situation typed (no needs were typed).
    description = "独居老人摔伤了腿,行动不便"
    assert phone.sync()
    wait_outbox_empty(phone)
    [(number, channel, disclosure)] = server.query(
        "SELECT number, channel, disclosure FROM cases WHERE description = ?",
        (description,),
    )
    assert (channel, disclosure) == ("visit", "private")
    assert server.query(
        "SELECT count(*) FROM visits JOIN cases ON cases.id = visits.case_id WHERE number = ?",
        (number,),
    ) == [(1,)]
    served = requests.get(
        f"{server.url}/open311/v2/requests.json", params={"service_request_id": number}, timeout=10
    )
    assert served.json() == [] and "摔伤" not in served.text
