"""The local stack's ports: a busy one names itself and the variable that moves it; a port refuses
connections until the stack can answer them; a client that leaves early costs one line, not a traceback."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.serving import BackgroundServer, KeepAliveHandler, PortUnavailable
from local.stack import LocalStack, StackOptions

pytestmark = pytest.mark.integration


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.mark.parametrize(
    ("option", "service", "variable"),
    [
        ("api_port", "the API", "API_PORT"),
        ("provider_port", "the OpenID provider", "PROVIDER_PORT"),
        ("dynamodb_port", "the local DynamoDB", "DYNAMODB_PORT"),
    ],
)
def test_a_busy_port_names_itself_its_service_and_its_variable(
    busy_port: int, tmp_path: Path, option: str, service: str, variable: str
) -> None:
    ports = {"api_port": 0, "provider_port": 0, "dynamodb_port": 0, option: busy_port}
    options = StackOptions(
        key_file=tmp_path / "keys.json",
        api_port=ports["api_port"],
        provider_port=ports["provider_port"],
        dynamodb_port=ports["dynamodb_port"],
    )

    with pytest.raises(PortUnavailable) as raised:
        LocalStack(options, log=lambda line: None)

    assert str(raised.value) == (
        f"127.0.0.1:{busy_port} is in use, so {service} cannot listen there: stop what holds it,"
        f" or give {variable} a free port (e.g. make dev {variable}={busy_port + 100})"
    )


def test_the_api_refuses_connections_until_the_stack_is_started_then_answers(tmp_path: Path) -> None:
    # Given a stack whose functions have loaded (their cold starts done) but which is not started yet
    stack = LocalStack(
        StackOptions(api_port=0, provider_port=0, key_file=tmp_path / "keys.json"), log=lambda line: None
    )
    try:
        # Then a client is refused at once rather than left waiting on a port nothing answers yet...
        port = stack.api_server.port
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
            pass
        # ...and once started, the same port answers.
        stack.start()
        assert requests.get(f"{stack.api_url}/public", timeout=10).status_code == 200
    finally:
        stack.stop()


class _AnswerOnceTheClientHasGone(KeepAliveHandler):
    client_gone = threading.Event()

    def do_GET(self) -> None:
        self.client_gone.wait(timeout=30)
        self.send_response(200)
        self.send_header("Content-Length", str(1 << 20))
        self.end_headers()
        self.wfile.write(b"x" * (1 << 20))

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_client_that_leaves_before_its_answer_is_one_line_and_no_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    server = BackgroundServer("127.0.0.1", 0, _AnswerOnceTheClientHasGone, "test")
    reported: list[str] = []
    done = threading.Event()

    def report(line: str) -> None:
        reported.append(line)
        done.set()

    server.on_disconnect(report)
    server.start()
    try:
        client = socket.create_connection(("127.0.0.1", server.port))
        client.sendall(b"GET / HTTP/1.1\r\nHost: local\r\n\r\n")
        # Closed with a reset (linger 0), as a client that times out or is killed often does.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        _AnswerOnceTheClientHasGone.client_gone.set()
        assert done.wait(timeout=30)
    finally:
        server.stop()

    assert len(reported) == 1
    assert reported[0].startswith("127.0.0.1:")
    assert reported[0].endswith(("(ConnectionResetError)", "(BrokenPipeError)"))
    assert "Traceback" not in capfd.readouterr().err
