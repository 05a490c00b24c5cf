"""The sample events in events/ load, have API Gateway's shape, and the functions accept them."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

import public_api
from jwt_authorizer import MethodArn, bearer_token, decode_unverified
from tests.support.api_events import EVENTS_DIR, FakeLambdaContext, load_event

#: Each proxy event: its function, route and the status it gets from the function, on an empty table.
PROXY_EVENTS = {
    "public-get.json": ("public_api", "GET", "/public", 200),
    "profile-get.json": ("protected_api", "GET", "/profile", 200),
    "messages-get.json": ("protected_api", "GET", "/messages", 200),
    "messages-post.json": ("protected_api", "POST", "/messages", 201),
    "messages-get-one.json": ("protected_api", "GET", "/messages/{id}", 404),
    "messages-delete.json": ("protected_api", "DELETE", "/messages/{id}", 404),
}
#: The message id the GET and DELETE events name.
EVENT_MESSAGE_ID = "0190b2a4-5c2e-7d3f-9a1b-2c3d4e5f6a7b"

#: Top-level keys of a REST API proxy event (`sam local generate-event apigateway aws-proxy`).
PROXY_EVENT_KEYS = {
    "body",
    "resource",
    "path",
    "httpMethod",
    "isBase64Encoded",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "headers",
    "multiValueHeaders",
    "requestContext",
}


def test_every_file_in_events_is_covered_here() -> None:
    assert {path.name for path in EVENTS_DIR.glob("*.json")} == {*PROXY_EVENTS, "authorizer-token.json"}


@pytest.mark.parametrize("name", PROXY_EVENTS)
def test_proxy_events_have_api_gateways_shape(name: str) -> None:
    _, method, resource, _ = PROXY_EVENTS[name]
    event = load_event(name)

    path = resource.replace("{id}", EVENT_MESSAGE_ID)
    assert set(event) == PROXY_EVENT_KEYS
    assert (event["httpMethod"], event["resource"], event["path"]) == (method, resource, path)
    assert event["pathParameters"] == ({"id": EVENT_MESSAGE_ID} if "{id}" in resource else None)
    request_context = event["requestContext"]
    assert (request_context["httpMethod"], request_context["resourcePath"]) == (method, resource)
    assert request_context["path"] == f"/{request_context['stage']}{path}"
    assert {name: [value] for name, value in event["headers"].items()} == event["multiValueHeaders"]


@pytest.mark.parametrize("name", sorted(set(PROXY_EVENTS) - {"public-get.json"}))
def test_protected_events_carry_the_authorizer_context_as_api_gateway_delivers_it(name: str) -> None:
    event = load_event(name)
    context = event["requestContext"]["authorizer"]

    assert context["principalId"] == context["sub"]
    assert isinstance(context["integrationLatency"], int)
    # API Gateway stringifies every value of the authorizer's context.
    assert all(isinstance(value, str) for key, value in context.items() if key != "integrationLatency")
    assert bearer_token(event["headers"]["Authorization"])


@pytest.fixture
def functions(protected_function: ModuleType) -> dict[str, ModuleType]:
    return {"public_api": public_api, "protected_api": protected_function}


@pytest.mark.parametrize("name", PROXY_EVENTS)
def test_the_functions_answer_the_sample_events_as_documented(
    name: str, functions: dict[str, ModuleType]
) -> None:
    module, _, _, expected_status = PROXY_EVENTS[name]

    response: dict[str, Any] = functions[module].lambda_handler(load_event(name), FakeLambdaContext())

    assert response["statusCode"] == expected_status
    assert isinstance(json.loads(response["body"]), dict)


def test_the_get_and_delete_events_find_the_message_they_name_once_it_exists(
    functions: dict[str, ModuleType], messages_table: Any
) -> None:
    # The message the events name, written by the events' caller (user-123 of their issuer).
    item = {
        "text": "Hello from sam local invoke",
        "author": "user-123",
        "authorIssuer": "https://issuer.example.com",
        "createdAt": "2024-07-15T10:20:30.123Z",
    }
    messages_table.put_item(
        TableName="MessagesTable",
        Item={
            "id": {"S": EVENT_MESSAGE_ID},
            "feed": {"S": "messages"},
            **{k: {"S": v} for k, v in item.items()},
        },
    )
    protected = functions["protected_api"]

    read = protected.lambda_handler(load_event("messages-get-one.json"), FakeLambdaContext())
    deleted = protected.lambda_handler(load_event("messages-delete.json"), FakeLambdaContext())

    assert (read["statusCode"], json.loads(read["body"])) == (200, {"id": EVENT_MESSAGE_ID, **item})
    assert (deleted["statusCode"], deleted["body"]) == (204, None)


def test_the_authorizer_event_is_a_token_event_the_authorizer_can_parse() -> None:
    event = load_event("authorizer-token.json")

    assert set(event) == {"type", "authorizationToken", "methodArn"}
    assert event["type"] == "TOKEN"
    method_arn = MethodArn.parse(event["methodArn"])
    assert (method_arn.stage, method_arn.route) == ("dev", "GET /messages")
    token = decode_unverified(bearer_token(event["authorizationToken"]))
    assert token.claims == {"iss": "https://issuer.example.com", "sub": "user-123"}
