"""E1/E2: capture with the server gone, reload, reconnect: exactly the records and photos."""

from __future__ import annotations

from typing import Any

import pytest

from tests.pwa.conftest import LiveServer, save_report, save_visit, wait_outbox_empty

pytestmark = pytest.mark.browser


def capture_offline(phone: Any, server: LiveServer, photo: Any, has_sync: bool) -> Any:
    page = phone.login("zhou.jie")
    if has_sync:
        assert phone.sync(), "first sync failed"
    server.stop()  # really gone: set_offline would not cut the service worker (pw#2311)
    phone.expected_network_errors = True
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.evaluate("document.body.dataset.screen") == "home"  # signed in, from cache
    save_report(page, "巷口电线裸露,雨天危险", photo)
    if has_sync:
        save_visit(page, "独居老人身体尚好")
    page.reload()  # the outbox is IndexedDB: it survives
    page.wait_for_selector("body[data-ready=true]")
    return page


def test_offline_capture_survives_a_reload(
    phone: Any, server: LiveServer, photo_jpeg: Any, has_sync: bool
) -> None:
    capture_offline(phone, server, photo_jpeg, has_sync)
    outbox = phone.idb("outbox")
    names = [e["name"] for e in outbox]
    assert names == (["case.report", "visit.create"] if has_sync else ["case.report"])
    assert [e["seq"] for e in outbox] == list(
        range(outbox[0]["seq"], outbox[0]["seq"] + len(names))
    )
    photos = phone.idb("photos")
    assert len(photos) == 1
    assert photos[0]["bytes"] == photos[0]["size"] > 0  # an ArrayBuffer, not a Blob
    assert max(photos[0]["width"], photos[0]["height"]) == 1600
    assert outbox[0]["args"]["photos"] == [photos[0]["sha256"]]


def test_reconnect_and_sync_leaves_exactly_the_records_and_photos(
    phone: Any, server: LiveServer, photo_jpeg: Any, has_sync: bool, needs_sync: None
) -> None:
    page = capture_offline(phone, server, photo_jpeg, has_sync)
    outbox = phone.idb("outbox")
    sha = phone.idb("photos")[0]["sha256"]
    server.start()
    assert phone.sync()
    wait_outbox_empty(phone)
    report, visit = outbox[0]["args"], outbox[1]["args"]
    assert server.query(
        "SELECT count(*) FROM cases WHERE description = ?", (report["description"],)
    ) == [(1,)]
    assert server.query(
        "SELECT count(*) FROM visits WHERE situation = ?", (visit["situation"],)
    ) == [(1,)]
    assert server.query("SELECT status FROM photos WHERE sha256 = ?", (sha,)) == [("available",)]
    # The report named the photo before its bytes came (the app pushes first): its link
    # counts now, and the next pull asks for nothing (docs/photos.md §Access).
    assert server.query("SELECT proof FROM photo_links WHERE photo_sha256 = ?", (sha,)) == [
        ("upload",)
    ]
    assert phone.sync()
    assert [p["upload_state"] for p in phone.idb("photos")] == ["uploaded"]
    for entry in outbox:
        rows = server.query(
            "SELECT status FROM sync_mutations WHERE op_id = ?", (entry["op_id"].replace("-", ""),)
        )
        rows = rows or server.query(
            "SELECT status FROM sync_mutations WHERE op_id = ?", (entry["op_id"],)
        )
        assert rows == [("applied",)], entry["name"]
    page.evaluate("location.hash = '#/sync'")
    page.wait_for_selector("#pending-count[data-count='0']")
    assert page.locator("#journal-list [data-state=synced]").count() == 2
