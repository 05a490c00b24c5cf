"""An HTTP server on a background thread, bound at construction so a port of 0 gets its number at once."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, as clients of API Gateway and of a provider expect."""

    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: with Nagle's algorithm on, the body waits for the client's delayed
    # ACK (about 40 ms on Linux) on a kept-alive connection.
    disable_nagle_algorithm = True


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 overflows when many clients connect at once (a load test, a
    # browser, `hey -c 50`); Linux then drops their handshakes and some connections are reset.
    request_queue_size = 128


class BackgroundServer:
    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        self._server = _Server((host, port), handler)
        self._server.daemon_threads = True
        # A short poll interval: stop() returns promptly instead of after up to half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._server.server_address[0]!s}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def close(self) -> None:
        """Release the port of a server that was never started."""
        self._server.server_close()
