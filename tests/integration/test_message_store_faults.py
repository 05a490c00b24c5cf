"""A DynamoDB that throttles, fails or does not answer: the protected function answers 503 in JSON, logs
one line naming the call and the reason, and never shows the client a stack trace.

The faults come from a real HTTP server on 127.0.0.1 speaking DynamoDB's JSON protocol, so the SDK's own
error parsing, retries and timeouts are what is tested.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from local.serving import BackgroundServer, KeepAliveHandler
from tests.support.api_events import ROUTE_SCOPES, FakeLambdaContext, authorizer_context, proxy_event

UNAVAILABLE = {
    "error": "temporarily_unavailable",
    "message": "The message store is unavailable; try again later",
}
MESSAGE_ID = "0190b2a4-5c2e-7d3f-9a1b-2c3d4e5f6a7b"


@dataclass
class Fault:
    status: int = 400
    error_type: str = "ProvisionedThroughputExceededException"
    delay_seconds: float = 0.0


class FaultyDynamoDB(BackgroundServer):
    """Answers every DynamoDB call with `fault`, counting the calls by their X-Amz-Target operation."""

    def __init__(self) -> None:
        self.fault = Fault()
        self.calls: list[str] = []
        server = self

        class Handler(KeepAliveHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                server.calls.append(self.headers.get("X-Amz-Target", "").rpartition(".")[2])
                fault = server.fault
                time.sleep(fault.delay_seconds)
                body = json.dumps(
                    {
                        "__type": f"com.amazonaws.dynamodb.v20120810#{fault.error_type}",
                        "message": "test fault",
                    }
                ).encode()
                try:
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("x-amzn-ErrorType", f"{fault.error_type}:")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: the timeout under test

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__("127.0.0.1", 0, Handler, "faulty-dynamodb")


@pytest.fixture
def dynamodb() -> Iterator[FaultyDynamoDB]:
    server = FaultyDynamoDB()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def cold_start(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> ModuleType:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TABLE_NAME": "MessagesTable",
        "DYNAMODB_ENDPOINT_URL": endpoint,
        "ROUTE_SCOPES": ROUTE_SCOPES,
    }.items():
        monkeypatch.setenv(name, value)
    import protected_api

    protected_api.reset()
    return protected_api


def logged(function: ModuleType, caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    formatter = function.logger.registered_formatter
    return [json.loads(formatter.format(record)) for record in caplog.records]


REQUESTS = {
    "Query": proxy_event("GET", "/messages", authorizer=authorizer_context()),
    "PutItem": proxy_event("POST", "/messages", body='{"text": "hi"}', authorizer=authorizer_context()),
    "GetItem": proxy_event(
        "GET", "/messages/{id}", path_parameters={"id": MESSAGE_ID}, authorizer=authorizer_context()
    ),
    "DeleteItem": proxy_event(
        "DELETE", "/messages/{id}", path_parameters={"id": MESSAGE_ID}, authorizer=authorizer_context()
    ),
}


@pytest.mark.parametrize("operation", REQUESTS)
def test_a_throttled_table_answers_503_after_one_retry_and_logs_the_call_and_reason(
    operation: str,
    dynamodb: FaultyDynamoDB,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    function = cold_start(monkeypatch, dynamodb.url)

    response = function.lambda_handler(REQUESTS[operation], FakeLambdaContext())

    assert (response["statusCode"], json.loads(response["body"])) == (503, UNAVAILABLE)
    assert dynamodb.calls == [operation, operation]  # the SDK's one retry, then the answer
    [line] = [entry for entry in logged(function, caplog) if entry["level"] == "ERROR"]
    assert {key: line[key] for key in ("message", "error", "operation", "reason")} == {
        "message": UNAVAILABLE["message"],
        "error": "temporarily_unavailable",
        "operation": operation,
        "reason": "ProvisionedThroughputExceededException",
    }


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault(500, "InternalServerError"), "InternalServerError"),
        (Fault(400, "ThrottlingException"), "ThrottlingException"),
        (Fault(400, "ResourceNotFoundException"), "ResourceNotFoundException"),
        (Fault(400, "AccessDeniedException"), "AccessDeniedException"),
    ],
    ids=["service error", "throttling", "table missing", "role without the permission"],
)
def test_a_failing_table_answers_503_with_the_reason_in_the_log_only(
    fault: Fault,
    reason: str,
    dynamodb: FaultyDynamoDB,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dynamodb.fault = fault
    function = cold_start(monkeypatch, dynamodb.url)

    response = function.lambda_handler(REQUESTS["Query"], FakeLambdaContext())

    assert (response["statusCode"], json.loads(response["body"])) == (503, UNAVAILABLE)
    assert reason not in response["body"]
    assert [entry["reason"] for entry in logged(function, caplog) if entry["level"] == "ERROR"] == [reason]


def test_a_table_that_does_not_answer_in_time_is_503_within_the_functions_timeout(
    dynamodb: FaultyDynamoDB, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dynamodb.fault = Fault(delay_seconds=3)
    function = cold_start(monkeypatch, dynamodb.url)
    started = time.monotonic()

    response = function.lambda_handler(REQUESTS["GetItem"], FakeLambdaContext())

    assert (response["statusCode"], json.loads(response["body"])) == (503, UNAVAILABLE)
    assert time.monotonic() - started < 5  # the template's Timeout: a 1 s read timeout, tried twice
    assert [entry["reason"] for entry in logged(function, caplog) if entry["level"] == "ERROR"] == [
        "ReadTimeoutError"
    ]


def test_no_dynamodb_at_all_is_503(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    function = cold_start(monkeypatch, f"http://127.0.0.1:{port}")

    response = function.lambda_handler(REQUESTS["PutItem"], FakeLambdaContext())

    assert (response["statusCode"], json.loads(response["body"])) == (503, UNAVAILABLE)
    assert [entry["reason"] for entry in logged(function, caplog) if entry["level"] == "ERROR"] == [
        "EndpointConnectionError"
    ]


def test_the_function_refuses_to_start_without_its_table(monkeypatch: pytest.MonkeyPatch) -> None:
    cold_start(monkeypatch, "")
    monkeypatch.delenv("TABLE_NAME")
    import protected_api

    with pytest.raises(ValueError, match=r"^TABLE_NAME is not set"):
        protected_api.reset()
