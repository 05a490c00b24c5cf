"""The local gateway behaves as API Gateway does around a TOKEN authorizer, over real HTTP.

A scripted authorizer (its answer depends on the token) and echo functions (they return the event they
got) from tests/e2e/fixture_app drive each branch. The authorizer cache runs on a fake clock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from devkit.clock import FakeClock
from local.gateway import Gateway, GatewayServer
from local.lambdas import LambdaFunction
from local.template import ApiSpec, load_api
from tests.support.raw_http import send_as_is

FIXTURE_TEMPLATE = Path(__file__).parent / "fixture_app" / "template.yaml"
STAGE_ARN = "arn:aws:execute-api:us-east-1:123456789012:local0api1/test"


@dataclass
class RunningGateway:
    url: str
    clock: FakeClock
    lines: list[str]

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, token, **kwargs)

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["X-Token"] = f"Bearer {token}"
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def api() -> ApiSpec:
    return load_api(FIXTURE_TEMPLATE)


@pytest.fixture
def gateway(api: ApiSpec) -> Iterator[RunningGateway]:
    clock = FakeClock()
    lines: list[str] = []
    functions = {name: LambdaFunction(spec) for name, spec in api.functions.items()}
    server = GatewayServer(Gateway(api, functions, clock=clock), port=0, log=lines.append)
    server.start()
    try:
        yield RunningGateway(server.url, clock, lines)
    finally:
        server.stop()


def test_open_route_gets_a_rest_proxy_event_without_calling_the_authorizer(gateway: RunningGateway) -> None:
    response = gateway.call(
        "POST", "/open/a/b?tag=x&tag=y&single=1", data=b'{"text": "hi"}', headers={"X-Trace": "t-1"}
    )

    assert response.status_code == 200
    event = response.json()["event"]
    context = event["requestContext"]
    assert {
        key: event[key] for key in event if key not in ("headers", "multiValueHeaders", "requestContext")
    } == {
        "resource": "/open/{proxy+}",
        "path": "/open/a/b",
        "httpMethod": "POST",
        "queryStringParameters": {"tag": "y", "single": "1"},
        "multiValueQueryStringParameters": {"tag": ["x", "y"], "single": ["1"]},
        "pathParameters": {"proxy": "a/b"},
        "stageVariables": None,
        "body": '{"text": "hi"}',
        "isBase64Encoded": False,
    }
    assert event["headers"]["X-Trace"] == "t-1"
    assert event["multiValueHeaders"]["X-Trace"] == ["t-1"]
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert "authorizer" not in context
    assert {
        key: context[key] for key in ("resourcePath", "httpMethod", "path", "stage", "accountId", "apiId")
    } == {
        "resourcePath": "/open/{proxy+}",
        "httpMethod": "POST",
        # The path as the client sent it: the stage is served at the root, as on a custom domain.
        "path": "/open/a/b",
        "stage": "test",
        "accountId": "123456789012",
        "apiId": "local0api1",
    }
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert response.headers["X-Seen"] == "one, two"


def test_missing_identity_header_is_401_from_the_gateway_response_without_calling_the_authorizer(
    gateway: RunningGateway,
) -> None:
    response = gateway.get("/echo", headers={"X-Trace": "trace-7"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="echo"'
    assert response.headers["X-Trace"] == "trace-7"  # mapped from method.request.header.X-Trace
    assert response.json() == {
        "problem": "Unauthorized",
        "type": "UNAUTHORIZED",
        "id": response.headers["x-amzn-RequestId"],
    }
    assert gateway.get("/echo", "allow-all").json()["event"]["requestContext"]["authorizer"]["calls"] == "1"


def test_identity_failing_the_validation_expression_is_401_without_calling_the_authorizer(
    gateway: RunningGateway,
) -> None:
    for header in ("Bearer UPPER", "bearer allow-all", "Bearer allow-all trailing", ""):
        response = gateway.get("/echo", headers={"X-Token": header})
        assert response.status_code == 401, header

    assert gateway.get("/echo", "allow-all").json()["event"]["requestContext"]["authorizer"]["calls"] == "1"
    assert "authorizer not called" in gateway.lines[0]


def test_authorizer_raising_unauthorized_is_401(gateway: RunningGateway) -> None:
    response = gateway.get("/echo", "unauthorized")

    assert response.status_code == 401
    assert response.json()["problem"] == "Unauthorized"
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"


def test_any_other_authorizer_error_is_the_authorizer_failure_response(gateway: RunningGateway) -> None:
    response = gateway.get("/items/9", "crash")

    assert response.status_code == 503
    assert response.json() == {"problem": "authorizer failed", "route": "/items/{id}"}
    assert "authorizer error (RuntimeError: the authorizer broke)" in gateway.lines[-1]


def test_context_with_a_list_is_an_authorizer_configuration_error_through_default_5xx(
    gateway: RunningGateway,
) -> None:
    response = gateway.get("/echo", "nested-context")

    assert response.status_code == 500
    assert response.headers["Retry-After"] == "5"
    assert response.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"
    assert response.json() == {"problem": "server side", "type": "AUTHORIZER_CONFIGURATION_ERROR"}


def test_context_reaches_the_function_stringified_with_the_principal(gateway: RunningGateway) -> None:
    response = gateway.get("/echo", "allow-all")

    authorizer = response.json()["event"]["requestContext"]["authorizer"]
    assert authorizer == {
        "sub": "alice",
        "admin": "true",
        "n": "3",
        "calls": "1",
        "arn": f"{STAGE_ARN}/GET/echo",
        "principalId": "alice",
        "integrationLatency": authorizer["integrationLatency"],
    }
    assert isinstance(authorizer["integrationLatency"], int)


def test_explicit_deny_wins_over_the_allow_and_gets_the_default_access_denied_response(
    gateway: RunningGateway,
) -> None:
    denied = gateway.call("POST", "/items/1", "deny-post")
    allowed = gateway.get("/items/1", "deny-post")

    assert denied.status_code == 403
    assert denied.json() == {
        "message": "User is not authorized to access this resource with an explicit deny"
    }
    assert denied.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert allowed.status_code == 200


def test_a_policy_that_allows_nothing_here_is_403(gateway: RunningGateway) -> None:
    response = gateway.get("/echo", "allow-nothing")

    assert response.status_code == 403
    assert response.json() == {"message": "User is not authorized to access this resource"}


def test_one_cached_result_serves_every_route_until_the_ttl_passes(gateway: RunningGateway) -> None:
    def calls_seen(path: str) -> str:
        response = gateway.get(path, "allow-all")
        assert response.status_code == 200
        return str(response.json()["event"]["requestContext"]["authorizer"]["calls"])

    assert calls_seen("/echo") == "1"
    gateway.clock.advance(299)
    assert calls_seen("/items/7") == "1"
    assert calls_seen("/items/special") == "1"
    gateway.clock.advance(1)
    assert calls_seen("/items/7") == "2"


def test_a_policy_scoped_to_one_method_arn_breaks_the_other_routes_while_cached(
    gateway: RunningGateway,
) -> None:
    # Given a token whose first call was GET /echo, and an authorizer that allows only that methodArn,
    assert gateway.get("/echo", "method-only").status_code == 200
    # when the same token calls another route within the TTL, the cached policy is reused and denies it;
    assert gateway.get("/items/1", "method-only").status_code == 403
    assert "no allow (principal alice, cached)" in gateway.lines[-1]
    # only once the cached result expires is the authorizer asked about the new route.
    gateway.clock.advance(300)
    assert gateway.get("/items/1", "method-only").status_code == 200
    assert gateway.get("/echo", "method-only").status_code == 403


def test_each_function_runs_with_its_own_environment_and_modules(gateway: RunningGateway) -> None:
    first = gateway.get("/echo", "allow-all").json()
    second = gateway.get("/second").json()

    assert {
        key: first[key] for key in ("label_at_import", "label_now", "greeting", "shared", "function_name")
    } == {
        "label_at_import": "first",
        "label_now": "first",
        "greeting": "hello from us-east-1",
        "shared": "from-globals",
        "function_name": "EchoFunction",
    }
    assert (second["label_at_import"], second["label_now"], second["function_name"]) == (
        "second",
        "second",
        "SecondEchoFunction",
    )
    assert "LABEL" not in os.environ
    assert "echo" not in __import__("sys").modules


def test_unknown_routes_and_methods_are_missing_authentication_token(gateway: RunningGateway) -> None:
    for method, path in (("GET", "/nowhere"), ("DELETE", "/echo"), ("GET", "/items")):
        response = gateway.call(method, path, "allow-all")
        assert response.status_code == 403, (method, path)
        assert response.json() == {"message": "Missing Authentication Token"}
    assert gateway.lines[-1].endswith(" · no such route")


def test_a_malformed_function_response_is_502(gateway: RunningGateway) -> None:
    response = gateway.get("/broken", "allow-all")

    assert response.status_code == 502
    assert response.json() == {"problem": "server side", "type": "BAD_GATEWAY"}


def test_one_console_line_per_request_with_method_path_status_and_decision(gateway: RunningGateway) -> None:
    gateway.get("/echo", "allow-all")
    gateway.get("/echo", "allow-all")
    gateway.get("/second")

    assert [line.split(" in ")[0] for line in gateway.lines] == [
        "GET /echo → 200",
        "GET /echo → 200",
        "GET /second → 200",
    ]
    assert [line.split(" · ")[1] for line in gateway.lines] == [
        "allow (principal alice, authorizer called)",
        "allow (principal alice, cached)",
        "open route",
    ]


# Paths and their spellings, as a REST API routes them (docs/local-stack.md) ----------------------------


def send(gateway: RunningGateway, path: str, token: str | None = None) -> tuple[int, Any]:
    response = send_as_is(gateway.url, "GET", path, {"X-Token": f"Bearer {token}"} if token else {})
    return response.status, response.json()


@pytest.mark.parametrize(
    ("sent", "event_path", "arn_path"),
    [
        ("/echo/", "/echo/", "echo/"),  # a trailing slash reaches the method and stays in the path
        ("//echo", "/echo", "/echo"),  # leading slashes reach it too; the event's path has one
        ("///echo/", "/echo/", "//echo/"),
    ],
)
def test_the_spellings_a_rest_api_routes_reach_the_method_and_the_authorizer_sees_them_as_sent(
    gateway: RunningGateway, sent: str, event_path: str, arn_path: str
) -> None:
    status, body = send(gateway, sent, "allow-all")

    assert status == 200
    event = body["event"]
    assert (event["resource"], event["path"], event["requestContext"]["path"]) == ("/echo", event_path, sent)
    assert event["requestContext"]["authorizer"]["arn"] == f"{STAGE_ARN}/GET/{arn_path}"


@pytest.mark.parametrize(
    "sent",
    ["/echo//", "/ECHO", "/Echo/", "/%65cho", "/echo%2F", "/items//x", "/items/1//"],
)
def test_spellings_a_rest_api_is_not_known_to_route_reach_no_method(
    gateway: RunningGateway, sent: str
) -> None:
    status, body = send(gateway, sent, "allow-all")

    assert body == {"message": "Missing Authentication Token"}, sent
    assert gateway.lines[-1].endswith(" · no such route")
    assert status >= 400


def test_a_path_parameter_stays_percent_encoded_as_a_rest_api_passes_it(gateway: RunningGateway) -> None:
    status, body = send(gateway, "/items/a%20b%2Fc", "allow-all")

    assert status == 200
    event = body["event"]
    assert (event["resource"], event["path"], event["pathParameters"]) == (
        "/items/{id}",
        "/items/a%20b%2Fc",
        {"id": "a%20b%2Fc"},
    )
    assert event["requestContext"]["authorizer"]["arn"] == f"{STAGE_ARN}/GET/items/a%20b%2Fc"


def test_a_greedy_parameter_keeps_doubled_slashes_but_not_the_trailing_one(gateway: RunningGateway) -> None:
    status, body = send(gateway, "/open/a//b/")

    assert status == 200
    assert body["event"]["pathParameters"] == {"proxy": "a//b"}
    assert body["event"]["path"] == "/open/a//b/"


def test_headers_a_rest_api_reserves_reach_the_client_renamed(gateway: RunningGateway) -> None:
    reserved = ["WWW-Authenticate", "Server", "Date", "Authorization", "Content-MD5", "User-Agent"]
    response = gateway.get("/second", params={"set": [*reserved, "X-Custom", "Cache-Control"]})

    assert response.status_code == 200
    for name in reserved:
        assert response.headers[f"x-amzn-Remapped-{name}"] == f"set {name}", name
    assert "WWW-Authenticate" not in response.headers
    assert "Authorization" not in response.headers
    assert response.headers["Server"] != "set Server"  # the gateway's own
    assert (response.headers["X-Custom"], response.headers["Cache-Control"]) == (
        "set X-Custom",
        "set Cache-Control",
    )
