"""A loopback HTTP proxy in front of the test server: the phone's whole network (issue 16).

Playwright can abort requests (routes), WebDriver cannot; so every engine's phone talks to
this proxy instead, and a scenario takes the network away in the one way all engines see
alike: the TCP connection is reset. The phone's origin is the proxy's, so it stays the same
while the server behind it stops and starts again.

* `go_offline()`: every new connection, and every request on an open one, is reset (the
  server behind is never reached); `go_online()` undoes it. A stopped server looks the same:
  the upstream connection is refused and the phone's connection reset.
* `cut_patch(n)`: the n-th PATCH to /api/v1/uploads/ from now is reset after its headers
  were read, before any byte reaches the server (the server's offset stays where it was).
* `patch_offsets`: the Upload-Offset header of every PATCH to /api/v1/uploads/ that came by.

One request per connection: the proxy asks both sides for `Connection: close` and relays
the answer until the server closes, so no idle connection outlives a change of mode.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

UPLOADS = "/api/v1/uploads/"
_HEAD_LIMIT = 64 * 1024
_HOP_HEADERS = {b"connection", b"keep-alive", b"proxy-connection"}


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0): the browser sees a reset connection."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _cut(sock: socket.socket) -> None:
    """Cut a socket another thread may be blocked on: shutdown wakes it (close would not);
    that thread's close then sends the RST."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _read_head(sock: socket.socket) -> tuple[bytes, bytes] | None:
    """(head up to and without the blank line, bytes already read past it); None on EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _HEAD_LIMIT:
            return None
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _closing(head: bytes) -> bytes:
    """The head with the hop-by-hop headers replaced by `Connection: close`."""
    first, *fields = head.split(b"\r\n")
    kept = [f for f in fields if f.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS]
    return b"\r\n".join([first, *kept, b"Connection: close"]) + b"\r\n\r\n"


def _header(head: bytes, name: bytes) -> str | None:
    for field in head.split(b"\r\n")[1:]:
        key, _, value = field.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return None


class NetProxy:
    """A threaded HTTP/1.1 proxy on 127.0.0.1 forwarding to `127.0.0.1:target_port`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.patch_offsets: list[int] = []
        self.resets = 0  # connections reset because offline or cut (for the scenarios' asserts)
        self._offline = False
        self._cut_at: int | None = None  # index into patch_offsets of the PATCH to cut
        self._lock = threading.Lock()
        self._closed = False
        self._open: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="netproxy", daemon=True)
        self._thread.start()

    # --- what the scenarios call ---------------------------------------------------------

    @property
    def offline(self) -> bool:
        return self._offline

    def go_offline(self) -> None:
        with self._lock:
            self._offline = True
            sockets, self._open = set(self._open), set()
        for sock in sockets:  # a request in flight is cut too, as when the signal goes
            _cut(sock)

    def go_online(self) -> None:
        with self._lock:
            self._offline = False

    def cut_patch(self, n: int) -> None:
        """Reset the n-th (1-based) PATCH to /api/v1/uploads/ from now on."""
        with self._lock:
            self._cut_at = len(self.patch_offsets) + n - 1

    def reset_state(self) -> None:
        """Online, no cut armed, nothing counted (between tests)."""
        with self._lock:
            self._offline = False
            self._cut_at = None
            self.patch_offsets = []
            self.resets = 0

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.listener.close()
        self._thread.join(timeout=5)
        with self._lock:
            sockets, self._open = set(self._open), set()
        for sock in sockets:
            _cut(sock)

    # --- the proxy ------------------------------------------------------------------------

    def _accept(self) -> None:
        self.listener.settimeout(0.2)
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _track(self, *sockets: socket.socket) -> bool:
        """Remember open sockets (go_offline cuts them); False when already offline."""
        with self._lock:
            if self._offline:
                return False
            self._open.update(sockets)
            return True

    def _forget(self, *sockets: socket.socket) -> None:
        with self._lock:
            self._open.difference_update(sockets)

    def _refuse(self, *sockets: socket.socket) -> None:
        with self._lock:
            self.resets += 1
        for sock in sockets:
            _reset(sock)

    def _serve(self, client: socket.socket) -> None:
        if not self._track(client):
            self._refuse(client)
            return
        upstream: socket.socket | None = None
        try:
            read = _read_head(client)
            if read is None or self._offline:
                self._refuse(client)
                return
            head, rest = read
            method, _, target = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
            path = target.split(" ", 1)[0]
            if method == "PATCH" and path.startswith(UPLOADS):
                with self._lock:
                    index = len(self.patch_offsets)
                    self.patch_offsets.append(int(_header(head, b"upload-offset") or -1))
                    cut = index == self._cut_at
                if cut:
                    self._refuse(client)
                    return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:  # the server is stopped: the phone sees what "offline" shows
                self._refuse(client)
                return
            upstream.settimeout(None)
            if not self._track(upstream):
                self._refuse(client, upstream)
                return
            upstream.sendall(_closing(head) + rest)
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            answer = _read_head(upstream)
            if answer is None:
                self._refuse(client)
                return
            client.sendall(_closing(answer[0]) + answer[1])
            self._pipe(upstream, client)
        except OSError:
            _reset(client)
        finally:
            self._forget(client, *([upstream] if upstream else []))
            for sock in (client, upstream):
                if sock is not None:  # shutdown first: it wakes the body's pipe thread
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    with contextlib.suppress(OSError):
                        sock.close()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        """Copy until `source` ends (or either side is closed under us)."""
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            return
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
