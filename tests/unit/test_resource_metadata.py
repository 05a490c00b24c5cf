"""RFC 9728 protected resource metadata: the document, and the API's URL read from the proxy event."""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

import public_api
import resource_metadata_api
from messages_api.metadata_route import add_resource_metadata_route
from messages_api.resource_metadata import (
    MetadataConfigurationError,
    ResourceMetadataSettings,
    UnknownResourceUrl,
    resource_url,
)
from messages_api.responses import register_error_handlers
from tests.support.api_events import ROUTE_SCOPES, FakeLambdaContext, json_response, load_event

METADATA = "/.well-known/oauth-protected-resource"


def metadata_event(domain: str, path: str, proto: str | None = "https") -> dict[str, Any]:
    """A proxy event for the metadata route, as API Gateway sends it for a request to domain + path."""
    event = copy.deepcopy(load_event("public-get.json"))
    event["resource"] = event["requestContext"]["resourcePath"] = METADATA
    event["path"] = METADATA
    event["requestContext"]["path"] = path
    event["requestContext"]["domainName"] = domain
    event["headers"] = {"Host": domain} | ({"X-Forwarded-Proto": proto} if proto else {})
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    return event


@pytest.mark.parametrize(
    ("domain", "path", "proto", "expected"),
    [
        # The execute-api domain: every path starts with the stage.
        (
            "abc123.execute-api.eu-west-1.amazonaws.com",
            f"/dev{METADATA}",
            "https",
            "https://abc123.execute-api.eu-west-1.amazonaws.com/dev",
        ),
        # A custom domain mapped with an empty base path: the API is the domain itself.
        ("api.example.com", METADATA, "https", "https://api.example.com"),
        # A custom domain with the base path v1 mapped to the stage.
        ("api.example.com", f"/v1{METADATA}", "https", "https://api.example.com/v1"),
        # sam local start-api and the local gateway: the stage at the root, plain http, a port.
        ("127.0.0.1:3000", METADATA, "http", "http://127.0.0.1:3000"),
        # A trailing slash on the request does not change the API's URL.
        ("api.example.com", f"/v1{METADATA}/", "https", "https://api.example.com/v1"),
        # Without X-Forwarded-Proto: API Gateway serves https only.
        ("api.example.com", METADATA, None, "https://api.example.com"),
        # A scheme API Gateway never sends is not believed.
        ("api.example.com", METADATA, "gopher", "https://api.example.com"),
    ],
)
def test_the_resource_is_the_url_the_client_called_without_the_routes_own_path(
    domain: str, path: str, proto: str | None, expected: str
) -> None:
    assert resource_url(metadata_event(domain, path, proto)) == expected


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda e: e.pop("requestContext"), "no requestContext"),
        (lambda e: e["requestContext"].pop("domainName"), "domainName"),
        (lambda e: e["requestContext"].update(domainName="evil.com/x"), "domainName"),
        (lambda e: e["requestContext"].update(domainName="a b"), "domainName"),
        (lambda e: e["requestContext"].pop("path"), "path or resourcePath"),
        (lambda e: e["requestContext"].update(path="/dev/other"), "does not end with"),
    ],
)
def test_an_event_that_does_not_say_where_the_api_is_is_refused(change: Any, problem: str) -> None:
    event = metadata_event("api.example.com", f"/dev{METADATA}")
    change(event)

    with pytest.raises(UnknownResourceUrl, match=problem):
        resource_url(event)


def test_the_document_names_the_issuers_the_routes_scopes_and_the_header_method() -> None:
    settings = ResourceMetadataSettings.from_env(
        {
            "ISSUER": "https://idp.example.com, https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab",
            "ROUTE_SCOPES": json.dumps(
                {"GET /messages": ["messages:read"], "POST /messages": ["messages:write", "messages:read"]}
            ),
            "RESOURCE_DOCUMENTATION": "https://docs.example.com/api",
        }
    )

    assert settings.document("https://api.example.com") == {
        "resource": "https://api.example.com",
        "authorization_servers": [
            "https://idp.example.com",
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab",
        ],
        "scopes_supported": ["messages:read", "messages:write"],
        "bearer_methods_supported": ["header"],
        "resource_documentation": "https://docs.example.com/api",
    }


def test_without_documentation_or_route_scopes_those_members_are_left_out_or_empty() -> None:
    settings = ResourceMetadataSettings.from_env({"ISSUER": "https://idp.example.com"})

    assert settings.document("https://api.example.com") == {
        "resource": "https://api.example.com",
        "authorization_servers": ["https://idp.example.com"],
        "scopes_supported": [],
        "bearer_methods_supported": ["header"],
    }


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "ISSUER"),
        ({"ISSUER": " , "}, "ISSUER"),
        ({"ISSUER": "https://idp.example.com", "ROUTE_SCOPES": "{"}, "ROUTE_SCOPES"),
    ],
)
def test_a_missing_or_bad_variable_is_named(env: dict[str, str], variable: str) -> None:
    with pytest.raises(MetadataConfigurationError, match=variable):
        ResourceMetadataSettings.from_env(env)


# The route, on a resolver as the public function and resource_metadata_api.py add it --------------------


def call(env: dict[str, str], event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, list[str]]]:
    app = APIGatewayRestResolver()
    register_error_handlers(app, Logger(service="tests"))
    add_resource_metadata_route(app, env)
    return json_response(app.resolve(event, FakeLambdaContext()))  # type: ignore[arg-type]


def test_the_route_serves_the_metadata_as_cacheable_json() -> None:
    env = {"ISSUER": "https://idp.example.com", "ROUTE_SCOPES": ROUTE_SCOPES}
    event = metadata_event("abc123.execute-api.eu-west-1.amazonaws.com", f"/dev{METADATA}")

    status, body, headers = call(env, event)

    assert status == 200
    assert body == {
        "resource": "https://abc123.execute-api.eu-west-1.amazonaws.com/dev",
        "authorization_servers": ["https://idp.example.com"],
        "scopes_supported": ["messages:read", "messages:write"],
        "bearer_methods_supported": ["header"],
    }
    assert headers["Content-Type"] == ["application/json"]
    assert headers["Cache-Control"] == ["public, max-age=300"]


def test_a_misconfigured_metadata_route_answers_500_and_says_why() -> None:
    status, body, _ = call({}, metadata_event("api.example.com", METADATA))

    assert (status, body) == (
        500,
        {
            "error": "misconfigured",
            "message": "The resource metadata is not configured: ISSUER is required: the issuers whose"
            " tokens the API accepts",
        },
    )


@pytest.fixture
def handlers_with_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ModuleType]]:
    """Both handler modules, imported again as a cold start with ISSUER and ROUTE_SCOPES set."""
    modules = [public_api, resource_metadata_api]
    monkeypatch.setenv("ISSUER", "https://idp.example.com")
    monkeypatch.setenv("ROUTE_SCOPES", ROUTE_SCOPES)
    yield [importlib.reload(module) for module in modules]
    monkeypatch.undo()
    for module in modules:
        importlib.reload(module)


def test_the_public_function_and_the_metadata_function_both_serve_the_route(
    handlers_with_env: list[ModuleType],
) -> None:
    event = metadata_event("api.example.com", METADATA)

    for module in handlers_with_env:
        response = module.lambda_handler(event, FakeLambdaContext())
        status, body, _ = json_response(response)
        assert (status, body["authorization_servers"]) == (200, ["https://idp.example.com"]), module.__name__
