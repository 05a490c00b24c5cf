"""An HTTP server on a background thread, bound at construction so a port of 0 gets its number at once.

It binds when constructed and listens only when started: until then a client's connection is refused at
once (as by a server not yet running) instead of waiting, unanswered, while the stack loads.
"""

from __future__ import annotations

import errno
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: What a client that gives up early (a timeout, Ctrl-C, a closed browser tab) looks like to the server.
CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class PortUnavailable(Exception):
    """A port the local stack needs cannot be bound; the message names it and, once known, what sets it."""

    def __init__(self, host: str, port: int, error: OSError) -> None:
        super().__init__(host, port, error)
        self.host, self.port, self.error = host, port, error
        self.service: str | None = None
        self.variable: str | None = None
        self.command = "make dev"

    def __str__(self) -> str:
        reason = "is in use" if self.error.errno == errno.EADDRINUSE else f"cannot be bound ({self.error})"
        text = f"{self.host}:{self.port} {reason}"
        if self.service is not None:
            text += f", so {self.service} cannot listen there"
        if self.variable is not None:
            text += (
                f": stop what holds it, or give {self.variable} a free port"
                f" (e.g. {self.command} {self.variable}={self.port + 100})"
            )
        return text


@contextmanager
def port_of(service: str, variable: str, command: str = "make dev") -> Iterator[None]:
    """Name the service and the variable that sets its port in a PortUnavailable raised inside:
    `with port_of("the API", "API_PORT"): GatewayServer(...)`."""
    try:
        yield
    except PortUnavailable as error:
        error.service, error.variable, error.command = service, variable, command
        raise


def check_free(host: str, port: int) -> None:
    """Raise PortUnavailable unless `host:port` can be bound now (for servers that bind on their own)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers themselves bind
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortUnavailable(host, port, error) from None


class KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, as clients of API Gateway and of a provider expect."""

    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: with Nagle's algorithm on, the body waits for the client's delayed
    # ACK (about 40 ms on Linux) on a kept-alive connection.
    disable_nagle_algorithm = True


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 overflows when many clients connect at once (a load test, a
    # browser, `hey -c 50`); Linux then drops their handshakes and some connections are reset.
    request_queue_size = 128
    on_disconnect: Callable[[str], None] = staticmethod(_to_stderr)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that left before its answer was written is not the server's error: one line, not
        # socketserver's traceback.
        error = sys.exc_info()[1]
        if isinstance(error, CLIENT_GONE):
            host, port = client_address[:2]
            self.on_disconnect(f"{host}:{port} left before its answer was written ({type(error).__name__})")
            return
        super().handle_error(request, client_address)


class BackgroundServer:
    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        self._server = _Server((host, port), handler, bind_and_activate=False)
        try:
            self._server.server_bind()
        except OSError as error:
            self._server.server_close()
            raise PortUnavailable(host, port, error) from None
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

    def on_disconnect(self, report: Callable[[str], None]) -> None:
        """Where the one line about a client that left early goes (default: standard error)."""
        self._server.on_disconnect = report

    def start(self) -> None:
        self._server.server_activate()  # listen: from now on, connections are answered
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() would wait forever for a loop that never ran
            self._server.shutdown()
        self._server.server_close()

    def close(self) -> None:
        """Release the port of a server that was never started."""
        self._server.server_close()
