"""A real OpenID provider stand-in on 127.0.0.1: discovery and JWKS over HTTP, counting requests.

Each path answers from a `Reply` the test can change at any time: status, body, headers, a delay, or a
dropped connection. Used wherever the network is the behaviour under test.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOLD_LIMIT_SECONDS = 10.0


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay_seconds: float = 0.0  # before the headers: exercises the read timeout
    drip_seconds: float = 0.0  # between body bytes: exercises the overall deadline
    close_without_answer: bool = False
    #: Set when a request for this path arrives; the answer then waits until `held_until` is set (at most
    #: HOLD_LIMIT_SECONDS): a provider exactly as slow as the test says, with no sleep in the test.
    arrived: threading.Event | None = None
    held_until: threading.Event | None = None

    @classmethod
    def json(cls, document: Any, status: int = 200) -> Reply:
        return cls(status=status, body=json.dumps(document).encode())


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # The client hanging up on an oversized or slow body is the behaviour under test, not an error.
        pass


class JwksServer:
    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.hits[self.path] += 1
                    reply = server.replies.get(self.path, Reply(status=404, body=b"{}"))
                if reply.close_without_answer:
                    self.close_connection = True
                    return
                if reply.arrived is not None:
                    reply.arrived.set()
                if reply.held_until is not None:
                    reply.held_until.wait(HOLD_LIMIT_SECONDS)
                time.sleep(reply.delay_seconds)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if not ({"Content-Length", "Transfer-Encoding"} & reply.headers.keys() or reply.drip_seconds):
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.drip_seconds:
                    for index in range(len(reply.body)):
                        try:
                            self.wfile.write(reply.body[index : index + 1])
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(reply.drip_seconds)
                    self.close_connection = True
                else:
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # An issuer served by this server, with discovery and JWKS under it.
    @property
    def issuer(self) -> str:
        return f"{self.base_url}/issuer"

    @property
    def jwks_path(self) -> str:
        return "/issuer/jwks.json"

    @property
    def discovery_path(self) -> str:
        return "/issuer/.well-known/openid-configuration"

    def publish(self, jwks: dict[str, Any], issuer: str | None = None) -> None:
        """Serve a discovery document for `issuer` and this JWKS."""
        self.replies[self.discovery_path] = Reply.json(
            {"issuer": issuer or self.issuer, "jwks_uri": f"{self.base_url}{self.jwks_path}"}
        )
        self.replies[self.jwks_path] = Reply.json(jwks)

    @property
    def jwks_fetches(self) -> int:
        return self.hits[self.jwks_path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def running_jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
