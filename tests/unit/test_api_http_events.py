"""The sample functions behind an HTTP API: payload 2.0 events, answered by the same routes as a REST API's.

The events are shaped as the API Gateway developer guide shows payload 2.0 (route key, raw path and query,
lower-case headers, the Lambda authorizer's context in `requestContext.authorizer.lambda`).
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from messages_api.board import MessageBoard
from tests.support.api_events import (
    FakeLambdaContext,
    authorizer_context,
    http_api_event,
    http_json_response,
)

READ_AND_WRITE = ("messages:read", "messages:write")
READ = ("messages:read",)


@pytest.fixture(autouse=True)
def api(protected_function: ModuleType, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    board = MessageBoard(protected_function.board.store, random_bytes=bytes)
    monkeypatch.setattr(protected_function, "board", board)
    return protected_function


def call(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    import protected_api

    return http_json_response(protected_api.lambda_handler(event, FakeLambdaContext()))  # type: ignore[arg-type]


def caller(sub: str = "user-123", scopes: tuple[str, ...] = READ_AND_WRITE) -> dict[str, Any]:
    return authorizer_context(sub=sub, scopes=scopes)


def post(text: str, sub: str = "user-123") -> dict[str, Any]:
    event = http_api_event("POST /messages", body=json.dumps({"text": text}), authorizer=caller(sub))
    status, body, _ = call(event)
    assert status == 201, body
    return body


def test_profile_reads_the_caller_from_the_lambda_authorizer_context() -> None:
    status, body, _ = call(http_api_event("GET /profile", authorizer=caller()))

    assert status == 200
    assert (body["sub"], body["scopes"]) == ("user-123", ["messages:read", "messages:write"])


def test_a_message_is_posted_listed_read_and_deleted_by_its_author() -> None:
    created = post("hello")
    assert (created["text"], created["author"]) == ("hello", "user-123")

    status, page, _ = call(http_api_event("GET /messages", authorizer=caller(scopes=READ)))
    assert (status, [m["id"] for m in page["messages"]]) == (200, [created["id"]])

    one = http_api_event("GET /messages/{id}", path_parameters={"id": created["id"]}, authorizer=caller())
    assert call(one)[:2] == (200, created)

    import protected_api

    delete = http_api_event(
        "DELETE /messages/{id}", path_parameters={"id": created["id"]}, authorizer=caller()
    )
    response = protected_api.lambda_handler(delete, FakeLambdaContext())  # type: ignore[arg-type]
    assert response["statusCode"] == 204
    assert call(one)[0] == 404


def test_repeated_query_parameters_are_read_from_the_raw_query_string_not_the_joined_values() -> None:
    post("one")
    post("two")

    _, first, _ = call(http_api_event("GET /messages", raw_query="limit=1", authorizer=caller(scopes=READ)))
    assert [m["text"] for m in first["messages"]] == ["two"]
    # An HTTP API joins limit=1&limit=2 into "1,2"; the function sees two values and refuses them.
    status, body, _ = call(
        http_api_event("GET /messages", raw_query="limit=1&limit=2", authorizer=caller(scopes=READ))
    )
    assert (status, body["error"]) == (400, "invalid_request")


def test_under_scoped_is_403_with_the_challenge_read_from_the_route_key() -> None:
    event = http_api_event("POST /messages", body='{"text": "hi"}', authorizer=caller(scopes=READ))

    status, body, headers = call(event)

    assert (status, body["error"]) == (403, "insufficient_scope")
    assert headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="messages:write"'


def test_the_route_key_decides_the_scopes_whatever_path_the_client_spelled() -> None:
    # The route key names the template, so /messages/ (trailing slash) is still POST /messages.
    event = http_api_event(
        "POST /messages", path="/messages/", body='{"text": "hi"}', authorizer=caller(scopes=READ)
    )

    assert call(event)[0] == 403


def test_another_caller_cannot_delete_a_message_403() -> None:
    created = post("mine")
    event = http_api_event(
        "DELETE /messages/{id}", path_parameters={"id": created["id"]}, authorizer=caller("someone-else")
    )

    status, body, _ = call(event)

    assert (status, body["error"]) == (403, "forbidden")


def test_without_the_lambda_authorizer_context_the_function_answers_500_never_200() -> None:
    status, body, _ = call(http_api_event("GET /profile"))

    assert (status, body["error"]) == (500, "authorizer_context_missing")


def test_a_rest_api_style_context_in_a_payload_2_0_event_is_not_read_as_the_authorizers() -> None:
    # Payload 2.0 puts a Lambda authorizer's context under "lambda"; a flat one is no authorizer's.
    event = http_api_event("GET /profile")
    event["requestContext"]["authorizer"] = caller()

    status, body, _ = call(event)

    assert (status, body["error"]) == (500, "authorizer_context_missing")


def test_the_public_route_and_the_resource_metadata_answer_payload_2_0(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    import public_api

    monkeypatch.setenv("ISSUER", "https://idp.example.com")
    module = importlib.reload(public_api)
    try:
        public = module.lambda_handler(http_api_event("GET /public"), FakeLambdaContext())
        assert http_json_response(public)[:2] == (
            200,
            {"message": "Hello! This route is public: no token needed."},
        )

        metadata = module.lambda_handler(
            http_api_event("GET /.well-known/oauth-protected-resource", stage="dev"), FakeLambdaContext()
        )
        status, document, _ = http_json_response(metadata)
        assert (status, document["resource"]) == (
            200,
            "https://abc123.execute-api.us-east-1.amazonaws.com/dev",
        )
        assert document["authorization_servers"] == ["https://idp.example.com"]
    finally:
        monkeypatch.undo()
        importlib.reload(public_api)
