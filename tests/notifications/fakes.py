"""Local HTTP servers standing in for a Web Push service and an SMS gateway: they record what they are sent and
answer with the status the test sets (per path, for the push service)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class FakeServer:
    base: str
    received: list[Received] = field(default_factory=list)
    status: int = 201
    statuses: dict[str, int] = field(default_factory=dict)  # path -> status, overriding `status`

    def to(self, path: str) -> list[Received]:
        return [request for request in self.received if request.path == path]


@contextlib.contextmanager
def fake_server(status: int = 201) -> Iterator[FakeServer]:
    """An HTTP server on a free loopback port that records every POST and answers `status` (or its path's)."""
    state = FakeServer(base="", status=status)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                state.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                answer = state.statuses.get(self.path, state.status)
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_port}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
