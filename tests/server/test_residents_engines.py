"""The residents' offline report in Chromium, WebKit and Firefox (issue 16).

tests/server/test_residents_browser.py's offline report, written against `EnginePhone`
(tests/engines/base.py): fill /report/ with a photo, lose the network (the loopback proxy
of tests/engines/netproxy.py resets every connection, alike in every engine), send: the
report waits in IndexedDB 'wangge-residents'; the network returns and the page, told so by
the `online` event, sends it and opens the follow page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.demo_server import demo_server
from tests.engines import ENGINES, idb, launch
from tests.engines.netproxy import NetProxy
from tests.server.photo_samples import jpeg

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetProxy]:
    """The demo on a fresh SQLite file behind the proxy (no minimum fill time: the test
    fills the form faster than a person, and waits on nothing but conditions)."""
    base = tmp_path_factory.mktemp("residents-engines")
    with demo_server(base, env={"WANGGE_REPORT_MIN_FILL_SECONDS": "0"}) as url:
        proxy = NetProxy(int(urlsplit(url).port or 0))
        yield proxy
        proxy.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots of each engine's page, to look at; never the committed ones."""
    return tmp_path_factory.mktemp("residents-engines-shots")


@pytest.mark.parametrize("engine", ENGINES)
def test_report_offline_then_follow(
    engine: str, net: NetProxy, tmp_path: Path, shots: Path
) -> None:
    net.reset_state()
    phone = launch(engine, tmp_path / "profile", geolocation=None)
    try:
        phone.goto(f"{net.url}/report/")
        phone.wait_for("#report-map path.leaflet-interactive")
        phone.fill("#item-search", "shljdj")
        phone.wait_until("document.getElementById('catalogue_item_id').value !== ''")
        phone.fill("#address", "新华路329弄")
        phone.click("#report-map")  # a tap on the map places the report there
        phone.wait_until("document.getElementById('lat').value !== ''")
        phone.fill("#description", "弄口垃圾堆了三天,有异味。")
        mobile = f"1390000{ENGINES.index(engine):04d}"  # the per-phone daily limit: one each
        phone.fill("#phone", mobile)
        assert phone.evaluate(
            "return document.querySelector('input[name=disclosure][value=listed]').checked;"
        )
        photo = tmp_path / "photo.jpg"
        photo.write_bytes(jpeg())
        phone.set_files("#photos", photo)
        phone.wait_for("#photo-previews img")

        phone.expected_network_errors = True
        net.go_offline()
        phone.click("#report-form button[type=submit]")
        phone.wait_until("document.getElementById('queue-state').textContent.includes('已保存')")
        queued = idb(phone, "queue", database="wangge-residents")
        assert len(queued) == 1 and queued[0]["fields"]["phone"] == mobile
        assert queued[0]["photos"] and queued[0]["photos"][0] > 0  # the shrunk photo's bytes
        phone.evaluate("document.getElementById('queue-state').scrollIntoView();")
        phone.screenshot(shots / f"residents-queued-{engine}.png")

        net.go_online()
        # What the browser does when the connection is back; the proxy cannot make it.
        phone.evaluate("window.dispatchEvent(new Event('online'));")
        phone.wait_until("location.pathname.includes('/report/f/')", timeout=30)
        phone.expected_network_errors = False
        assert "XH-" in phone.text("h1")
        assert mobile not in phone.evaluate("return document.documentElement.outerHTML;")
        assert "公开概况" in phone.text(".facts")
        assert idb(phone, "queue", database="wangge-residents") == []
        phone.screenshot(shots / f"residents-follow-{engine}.png")
    finally:
        errors = list(phone.errors)
        phone.close()
    assert not errors, f"{engine} console errors:\n" + "\n".join(errors)
