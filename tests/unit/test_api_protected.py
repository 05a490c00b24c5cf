"""The protected function: GET /profile, GET /messages and POST /messages behind the JWT authorizer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

import protected_api
from messages_api.messages import MAX_BODY_BYTES, MAX_TEXT_CHARS, MessageBoard
from route_table import RouteTable
from tests.support.api_events import (
    ROUTE_SCOPES,
    FakeLambdaContext,
    authorizer_context,
    json_response,
    proxy_event,
)

READ_AND_WRITE = "messages:read messages:write"


@pytest.fixture(autouse=True)
def deployed_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """The route table and a message board with a fixed clock and ids, as the function would build them."""
    monkeypatch.setattr(protected_api, "route_scopes", RouteTable.parse(ROUTE_SCOPES))
    monkeypatch.setattr(
        protected_api,
        "board",
        MessageBoard(clock=lambda: datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC), new_id=lambda: "msg-1"),
    )


def call(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, list[str]]]:
    return json_response(protected_api.lambda_handler(event, FakeLambdaContext()))  # type: ignore[arg-type]


def post_messages(body: str | None, scope: str = READ_AND_WRITE, **kwargs: Any) -> dict[str, Any]:
    return proxy_event("POST", "/messages", body=body, authorizer=authorizer_context(scope=scope), **kwargs)


# GET /profile --------------------------------------------------------------------------------------------


def test_profile_returns_the_callers_identity_from_the_authorizer_context() -> None:
    status, body, _ = call(proxy_event("GET", "/profile", authorizer=authorizer_context()))

    assert status == 200
    assert body == {
        "sub": "user-123",
        "issuer": "https://issuer.example.com",
        "client_id": "example-client",
        "scopes": ["messages:read", "messages:write"],
        "claims": {
            "aud": "api://messages",
            "exp": "1767229200",
            "iat": "1767225600",
            "jti": "0f4b3c2a-example",
        },
    }


def test_profile_needs_no_scope_and_reports_a_missing_client_as_null() -> None:
    context = authorizer_context(scope="", client_id=None, groups="admins,devs")

    status, body, _ = call(proxy_event("GET", "/profile", authorizer=context))

    assert status == 200
    assert body["scopes"] == []
    assert body["client_id"] is None
    assert body["claims"]["groups"] == "admins,devs"


# GET /messages -------------------------------------------------------------------------------------------


def test_list_messages_with_the_read_scope_returns_the_sample_messages() -> None:
    status, body, _ = call(
        proxy_event("GET", "/messages", authorizer=authorizer_context(scope="messages:read"))
    )

    assert status == 200
    assert body == {
        "messages": [
            {
                "id": "0b7f2c1e-3d4a-4f5b-9c6d-7e8f9a0b1c2d",
                "text": "Welcome to the messages API.",
                "author": "system",
                "createdAt": "2025-01-06T09:00:00Z",
            },
            {
                "id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
                "text": "Reading needs messages:read; posting, messages:write.",
                "author": "system",
                "createdAt": "2025-01-06T09:05:00Z",
            },
        ]
    }


@pytest.mark.parametrize("scope", ["", "messages:write", "messages:readonly", "MESSAGES:READ"])
def test_list_messages_without_the_read_scope_is_forbidden(scope: str) -> None:
    status, body, headers = call(proxy_event("GET", "/messages", authorizer=authorizer_context(scope=scope)))

    assert (status, body) == (
        403,
        {"error": "insufficient_scope", "message": "This route requires the scope(s): messages:read"},
    )
    assert headers["WWW-Authenticate"] == ['Bearer error="insufficient_scope", scope="messages:read"']


# POST /messages ------------------------------------------------------------------------------------------


def test_create_message_answers_201_with_the_caller_as_author() -> None:
    status, body, _ = call(post_messages(json.dumps({"text": "  Hello, world  "})))

    assert status == 201
    assert body == {
        "id": "msg-1",
        "text": "Hello, world",
        "author": "user-123",
        "createdAt": "2026-01-02T03:04:05Z",
    }


def test_create_message_accepts_a_base64_encoded_body_and_text_of_the_maximum_length() -> None:
    text = "é" * MAX_TEXT_CHARS

    status, body, _ = call(post_messages(json.dumps({"text": text}), base64_encoded=True))

    assert (status, body["text"]) == (201, text)


def test_create_message_without_the_write_scope_is_forbidden_even_with_read() -> None:
    status, body, headers = call(post_messages(json.dumps({"text": "hi"}), scope="messages:read"))

    assert (status, body) == (
        403,
        {"error": "insufficient_scope", "message": "This route requires the scope(s): messages:write"},
    )
    assert headers["WWW-Authenticate"] == ['Bearer error="insufficient_scope", scope="messages:write"']


NOT_AN_OBJECT = "The body must be a JSON object with a 'text' string"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(None, NOT_AN_OBJECT, id="no body"),
        pytest.param("", NOT_AN_OBJECT, id="empty body"),
        pytest.param("{", "The body is not valid JSON", id="truncated JSON"),
        pytest.param("text=hello", "The body is not valid JSON", id="form-encoded"),
        pytest.param("[" * 100_000, f"The body must be at most {MAX_BODY_BYTES} bytes", id="huge body"),
        pytest.param("[" * 5_000, "The body is not valid JSON", id="nested past the recursion limit"),
        pytest.param('["hello"]', NOT_AN_OBJECT, id="array"),
        pytest.param('"hello"', NOT_AN_OBJECT, id="string"),
        pytest.param("42", NOT_AN_OBJECT, id="number"),
        pytest.param("null", NOT_AN_OBJECT, id="null"),
        pytest.param("{}", "'text' is required", id="missing text"),
        pytest.param('{"message": "hi"}', "'text' is required", id="misnamed text"),
        pytest.param('{"text": null}', "'text' must be a string", id="null text"),
        pytest.param('{"text": 5}', "'text' must be a string", id="number text"),
        pytest.param('{"text": ["hi"]}', "'text' must be a string", id="array text"),
        pytest.param('{"text": ""}', "'text' must not be empty", id="empty text"),
        pytest.param('{"text": " \\n\\t "}', "'text' must not be empty", id="blank text"),
        pytest.param(
            json.dumps({"text": "x" * (MAX_TEXT_CHARS + 1)}),
            f"'text' must be at most {MAX_TEXT_CHARS} characters",
            id="oversized text",
        ),
    ],
)
def test_create_message_rejects_a_bad_body_with_400(body: str | None, message: str) -> None:
    status, answer, _ = call(post_messages(body))

    assert (status, answer) == (400, {"error": "invalid_request", "message": message})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param("not base64!", "The body is not valid base64", id="not base64"),
        pytest.param("//79", "The body is not valid JSON", id="not UTF-8"),
    ],
)
def test_create_message_rejects_a_bad_base64_body_with_400(body: str, message: str) -> None:
    event = post_messages(None)
    event["body"], event["isBase64Encoded"] = body, True

    status, answer, _ = call(event)

    assert (status, answer) == (400, {"error": "invalid_request", "message": message})


# Deployed without the authorizer -------------------------------------------------------------------------

ROUTES = [("GET", "/profile"), ("GET", "/messages"), ("POST", "/messages")]


@pytest.mark.parametrize(("method", "resource"), ROUTES)
@pytest.mark.parametrize(
    ("context", "problem"),
    [
        pytest.param(None, "requestContext.authorizer is absent", id="no authorizer"),
        pytest.param({}, "requestContext.authorizer is absent", id="empty authorizer"),
        pytest.param({"principalId": "user-123"}, "it has no 'sub'", id="another authorizer's context"),
        pytest.param({"claims": {"sub": "user-123"}}, "it has no 'sub'", id="a Cognito authorizer's context"),
        pytest.param(authorizer_context(iss=None), "it has no 'iss'", id="no iss"),
        pytest.param(authorizer_context(sub=""), "it has no 'sub'", id="empty sub"),
    ],
)
def test_a_route_reached_without_the_authorizer_context_answers_500_with_the_reason(
    method: str, resource: str, context: dict[str, Any] | None, problem: str
) -> None:
    status, body, _ = call(proxy_event(method, resource, body='{"text": "hi"}', authorizer=context))

    assert (status, body) == (
        500,
        {
            "error": "authorizer_context_missing",
            "message": f"The request reached this function without the JWT authorizer's context ({problem}); "
            "the route must be deployed behind the JwtAuthorizer",
        },
    )


def test_an_event_without_request_context_answers_500_not_a_crash() -> None:
    event = proxy_event("GET", "/profile", authorizer=authorizer_context())
    del event["requestContext"]["authorizer"]
    event["requestContext"] = None

    status, body, _ = call(event)

    assert (status, body["error"]) == (500, "authorizer_context_missing")


# Everything else -----------------------------------------------------------------------------------------


def test_an_unknown_route_answers_404_in_json() -> None:
    status, body, _ = call(proxy_event("DELETE", "/messages", authorizer=authorizer_context()))

    assert (status, body) == (404, {"error": "not_found", "message": "No route for DELETE /messages"})


def logged_lines(caplog: pytest.LogCaptureFixture) -> str:
    """The JSON lines the function's logger wrote, exactly as CloudWatch would receive them."""
    formatter = protected_api.logger.registered_formatter
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_an_unexpected_error_answers_500_in_json_and_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> list[object]:
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr(protected_api.board, "recent", broken)

    status, body, _ = call(proxy_event("GET", "/messages", authorizer=authorizer_context()))

    assert (status, body) == (500, {"error": "internal_error", "message": "Something went wrong on our side"})
    assert "RuntimeError: the database is on fire" in logged_lines(caplog)


def test_the_function_never_logs_the_bearer_token(caplog: pytest.LogCaptureFixture) -> None:
    event = post_messages(json.dumps({"text": "hi"}))
    token = event["headers"]["Authorization"].split()[1]

    call(event)
    call(post_messages("{"))
    call(proxy_event("GET", "/profile", authorizer=None) | {"headers": event["headers"]})

    logs = logged_lines(caplog)
    assert "message created" in logs
    assert "authorizer_context_missing" in logs
    assert token not in logs
    assert token.split(".")[2] not in logs
