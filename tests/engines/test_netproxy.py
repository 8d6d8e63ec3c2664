"""The phones' network (tests/engines/netproxy.py) without a browser: what passes, what is
reset, which PATCH is cut, and a stopped server looking like no network."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

from tests.engines.netproxy import NetProxy


class Echo(BaseHTTPRequestHandler):
    """Answers every request with its method, path and body length; keeps connections alive."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[str, str, int]]] = []

    def _answer(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(size)
        Echo.seen.append((self.command, self.path, len(body)))
        reply = f"{self.command} {self.path} {len(body)}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def upstream() -> Iterator[ThreadingHTTPServer]:
    Echo.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def proxy(upstream: ThreadingHTTPServer) -> Iterator[NetProxy]:
    net = NetProxy(int(upstream.server_address[1]))
    yield net
    net.close()


def patch(net: NetProxy, session: requests.Session, offset: int) -> requests.Response:
    return session.patch(
        f"{net.url}/api/v1/uploads/abc",
        data=b"x" * 300_000,
        headers={"Upload-Offset": str(offset)},
        timeout=10,
    )


def test_requests_pass_with_their_bodies_and_the_connection_is_closed(proxy: NetProxy) -> None:
    with requests.Session() as session:
        answer = session.post(f"{proxy.url}/a?b=1", data=b"y" * 70_000, timeout=10)
        assert answer.text == "POST /a?b=1 70000"
        assert answer.headers["Connection"] == "close"  # one request per connection
        assert session.get(f"{proxy.url}/next", timeout=10).text == "GET /next 0"
    assert Echo.seen == [("POST", "/a?b=1", 70_000), ("GET", "/next", 0)]


def test_offline_resets_every_connection_and_online_undoes_it(proxy: NetProxy) -> None:
    proxy.go_offline()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{proxy.url}/x", timeout=10)
    assert Echo.seen == [] and proxy.resets == 1
    proxy.go_online()
    assert requests.get(f"{proxy.url}/x", timeout=10).text == "GET /x 0"


def test_the_nth_patch_is_cut_before_the_server_sees_it_and_offsets_are_counted(
    proxy: NetProxy,
) -> None:
    proxy.cut_patch(2)
    with requests.Session() as session:
        assert patch(proxy, session, 0).ok
        with pytest.raises(requests.ConnectionError):
            patch(proxy, session, 262144)
        assert patch(proxy, session, 262144).ok  # one cut only
    assert proxy.patch_offsets == [0, 262144, 262144]
    assert [s[2] for s in Echo.seen] == [300_000, 300_000]  # the cut one never arrived


def test_a_stopped_server_looks_like_no_network(
    proxy: NetProxy, upstream: ThreadingHTTPServer
) -> None:
    upstream.shutdown()
    upstream.server_close()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{proxy.url}/x", timeout=10)
    assert proxy.resets == 1
