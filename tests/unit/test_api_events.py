"""The sample events in events/ load, have API Gateway's shape, and the functions accept them."""

from __future__ import annotations

import json
from typing import Any

import pytest

import protected_api
import public_api
from jwt_authorizer.compact import bearer_token, decode_unverified
from jwt_authorizer.method_arn import MethodArn
from route_table import RouteTable
from tests.support.api_events import EVENTS_DIR, ROUTE_SCOPES, FakeLambdaContext, load_event

PROXY_EVENTS = {
    "public-get.json": (public_api, "GET", "/public", 200),
    "profile-get.json": (protected_api, "GET", "/profile", 200),
    "messages-get.json": (protected_api, "GET", "/messages", 200),
    "messages-post.json": (protected_api, "POST", "/messages", 201),
}

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

    assert set(event) == PROXY_EVENT_KEYS
    assert (event["httpMethod"], event["resource"], event["path"]) == (method, resource, resource)
    request_context = event["requestContext"]
    assert (request_context["httpMethod"], request_context["resourcePath"]) == (method, resource)
    assert request_context["path"] == f"/{request_context['stage']}{resource}"
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


@pytest.mark.parametrize("name", PROXY_EVENTS)
def test_the_functions_accept_the_sample_events(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module, _, _, expected_status = PROXY_EVENTS[name]
    monkeypatch.setattr(protected_api, "route_scopes", RouteTable.parse(ROUTE_SCOPES))

    response: dict[str, Any] = module.lambda_handler(load_event(name), FakeLambdaContext())

    assert response["statusCode"] == expected_status
    assert isinstance(json.loads(response["body"]), dict)


def test_the_authorizer_event_is_a_token_event_the_authorizer_can_parse() -> None:
    event = load_event("authorizer-token.json")

    assert set(event) == {"type", "authorizationToken", "methodArn"}
    assert event["type"] == "TOKEN"
    method_arn = MethodArn.parse(event["methodArn"])
    assert (method_arn.stage, method_arn.route) == ("dev", "GET /messages")
    token = decode_unverified(bearer_token(event["authorizationToken"]))
    assert token.claims == {"iss": "https://issuer.example.com", "sub": "user-123"}
