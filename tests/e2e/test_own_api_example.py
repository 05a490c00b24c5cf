"""examples/own-api behind the local gateway: its routes, authorized by the component's authorizer (a
nested application the gateway reads as sam deploy would create it), with tokens from the local provider."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from local.stack import LocalStack, StackOptions
from local.template import AuthorizerSpec, RouteSpec
from tests.support.discovery import challenge_parameters, discover_token
from tests.support.raw_http import send_as_is

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "own-api" / "template.yaml"
#: The local provider's clients for the example (make dev PROVIDER_CONFIG=examples/own-api/provider.json).
SECRETS = {"dev-client": "dev-secret", "viewer": "viewer-secret"}
VALIDATION_EXPRESSION = r"^[Bb][Ee][Aa][Rr][Ee][Rr] [-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+$"


@dataclass
class Example:
    stack: LocalStack
    api: str
    provider: str

    def token(self, client: str, scope: str) -> str:
        response = requests.post(
            f"{self.provider}/oauth2/token",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(client, SECRETS[client]),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def call(self, method: str, path: str, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return requests.request(method, f"{self.api}{path}", headers=headers, timeout=10)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Example]:
    options = StackOptions(
        template=EXAMPLE,
        api_port=0,
        provider_port=0,
        provider_config=EXAMPLE.parent / "provider.json",
        key_file=tmp_path_factory.mktemp("own-api") / "provider-keys.json",
    )
    stack = LocalStack(options, log=lambda line: None)
    stack.start()
    assert stack.provider_url is not None
    try:
        yield Example(stack, stack.api_url, stack.provider_url)
    finally:
        stack.stop()


def test_the_gateway_runs_the_components_authorizer_for_the_examples_routes(example: Example) -> None:
    api = example.stack.api

    assert set(api.routes) == {
        RouteSpec("GET", "/orders", "OrdersFunction", "JwtAuthorizer"),
        RouteSpec("POST", "/orders", "OrdersFunction", "JwtAuthorizer"),
        RouteSpec("GET", "/health", "OrdersFunction", None),
        RouteSpec("GET", "/.well-known/oauth-protected-resource", "ResourceMetadataFunction", None),
    }
    assert api.authorizers == {
        "JwtAuthorizer": AuthorizerSpec(
            "JwtAuthorizer", "JwtAuthorizer.AuthorizerFunction", "Authorization", VALIDATION_EXPRESSION, 300
        )
    }
    authorizer = api.functions["JwtAuthorizer.AuthorizerFunction"]
    assert authorizer.code_dir == EXAMPLE.parents[2] / "functions" / "authorizer"
    # The parameters the example passes the component, as its function's environment.
    assert {name: authorizer.environment[name] for name in ("ISSUER", "AUDIENCE", "ROUTE_SCOPES")} == {
        "ISSUER": example.provider,
        # The example's audience, and its URL: the resource MCP clients ask tokens for (RFC 8707).
        "AUDIENCE": f"api://orders,{example.api}",
        "ROUTE_SCOPES": '{"GET /orders": ["orders:read"], "POST /orders": ["orders:write"]}',
    }


def test_the_open_route_needs_no_token(example: Example) -> None:
    response = example.call("GET", "/health")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_without_a_token_the_examples_gateway_response_answers_401(example: Example) -> None:
    response = example.call("GET", "/orders")

    assert response.status_code == 401
    metadata = f"{example.api}/.well-known/oauth-protected-resource"
    assert response.headers["WWW-Authenticate"] == f'Bearer resource_metadata="{metadata}"'
    assert response.json() == {"error": "invalid_token", "message": "Unauthorized"}


def test_a_forged_token_is_refused_by_the_authorizer_with_401(example: Example) -> None:
    token = example.token("viewer", "orders:read")
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"

    assert example.call("GET", "/orders", forged).status_code == 401


def test_a_token_with_the_routes_scope_reaches_the_examples_function(example: Example) -> None:
    response = example.call("GET", "/orders", example.token("viewer", "orders:read"))

    assert (response.status_code, response.json()) == (200, {"orders": [], "caller": "viewer"})


def test_a_token_without_the_routes_scope_gets_403_from_the_route_table_the_example_passed(
    example: Example,
) -> None:
    reader = example.token("viewer", "orders:read")
    writer = example.token("dev-client", "orders:read orders:write")

    denied = example.call("POST", "/orders", reader)
    created = example.call("POST", "/orders", writer)

    assert denied.status_code == 403
    assert challenge_parameters(denied.headers["WWW-Authenticate"]) == {
        "error": "insufficient_scope",
        "resource_metadata": f"{example.api}/.well-known/oauth-protected-resource",
    }
    assert (created.status_code, created.json()) == (201, {"created": True, "by": "dev-client"})


@pytest.mark.parametrize("path", ["/orders/", "//orders", "///orders/"])
def test_a_token_without_the_routes_scope_is_denied_it_in_every_spelling_the_gateway_routes(
    example: Example, path: str
) -> None:
    # The example's function trusts the authorizer and checks no scope: the policy alone must deny.
    reader = example.token("viewer", "orders:read")

    denied = send_as_is(example.api, "POST", path, {"Authorization": f"Bearer {reader}"})

    assert denied.status == 403, denied.body
    assert denied.json()["error"] == "insufficient_scope"


def test_from_the_examples_url_alone_a_client_finds_the_issuer_and_the_orders_scopes(
    example: Example,
) -> None:
    discovered = discover_token(example.api, "/orders", ("dev-client", SECRETS["dev-client"]))

    assert discovered.resource == {
        "resource": example.api,
        "authorization_servers": [example.provider],
        "scopes_supported": ["orders:read", "orders:write"],
        "bearer_methods_supported": ["header"],
    }
    created = example.call("POST", "/orders", discovered.token)
    assert (created.status_code, created.json()) == (201, {"created": True, "by": "dev-client"})


def test_the_examples_function_refuses_a_protected_route_reached_without_the_authorizer() -> None:
    # What `sam local start-api` does with an authorizer from a nested application: it skips it.
    spec = importlib.util.spec_from_file_location("orders", EXAMPLE.parent / "orders" / "orders.py")
    assert spec is not None
    assert spec.loader is not None
    orders = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(orders)
    event = {"httpMethod": "GET", "resource": "/orders", "requestContext": {}}

    response = orders.lambda_handler(event, None)

    assert response["statusCode"] == 500
    assert json.loads(response["body"])["error"] == "authorizer_context_missing"
