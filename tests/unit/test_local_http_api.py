"""The local HTTP API (local/http_api.py) as an HTTP API behaves: route keys and `$default`, identity
sources, payload 2.0 events, simple and IAM answers, the shared result cache, API Gateway's own bodies.

The functions are scripted stand-ins: each records the events it gets and answers what the test says.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import pytest

from devkit.clock import FakeClock
from local.gateway import Request, Response
from local.http_api import HttpGateway
from local.lambdas import LambdaFunction
from local.template import HttpApiSpec, HttpAuthorizerSpec, RouteSpec

PLACEHOLDER = "t0k3n"  # the scripted authorizers read no token
STAGE = "arn:aws:execute-api:us-east-1:123456789012:local0api1/$default"


class Scripted:
    """A function that answers with `answer(event)` and keeps every event."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any]) -> None:
        self.answer = answer
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.answer(event)


def echo(event: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"WWW-Authenticate": "Bearer"}, "body": json.dumps({"ok": True})}


def allow_all(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{STAGE}/*/*"},
                {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": f"{STAGE}/POST/messages"},
            ],
        },
        "context": {"sub": "user-1", "count": 2, "groups": ["a", "b"]},
    }


def build(
    authorizer: Scripted,
    *,
    simple: bool = False,
    sources: tuple[str, ...] = ("$request.header.Authorization",),
    ttl: int = 300,
    default_route: bool = False,
) -> tuple[HttpGateway, Scripted, FakeClock]:
    function, clock = Scripted(echo), FakeClock()
    routes = [
        RouteSpec("GET", "/public", "Fn", None),
        RouteSpec("GET", "/messages", "Fn", "Jwt"),
        RouteSpec("POST", "/messages", "Fn", "Jwt"),
        RouteSpec("GET", "/messages/{id}", "Fn", "Jwt"),
        RouteSpec("ANY", "/admin/{proxy+}", "Fn", "Jwt"),
    ]
    if default_route:
        routes.append(RouteSpec("ANY", "$default", "Fn", "Jwt"))
    api = HttpApiSpec(
        logical_id="Api",
        stage="$default",
        routes=tuple(routes),
        authorizers={"Jwt": HttpAuthorizerSpec("Jwt", "Auth", sources, "2.0", simple, ttl)},
        functions={},
        parameters={},
    )
    functions = cast(dict[str, LambdaFunction], {"Fn": function, "Auth": authorizer})
    return HttpGateway(api, functions, clock=clock), function, clock


def call(
    gateway: HttpGateway, method: str, target: str, token: str | None = PLACEHOLDER, **headers: str
) -> Response:
    sent = [("Host", "127.0.0.1:3000"), *headers.items()]
    if token is not None:
        sent.append(("Authorization", f"Bearer {token}"))
    return gateway.handle(Request(method, target, sent))


def body(response: Response) -> Any:
    return json.loads(response.body)


def test_an_unknown_route_or_method_is_404_not_found_and_nothing_is_invoked() -> None:
    authorizer = Scripted(allow_all)
    gateway, function, _ = build(authorizer)

    for method, target in (("PUT", "/messages"), ("GET", "/nowhere")):
        response = call(gateway, method, target)
        assert (response.status, body(response)) == (404, {"message": "Not Found"})
    assert authorizer.events == function.events == []


def test_the_default_route_takes_what_no_other_route_takes() -> None:
    gateway, function, _ = build(Scripted(allow_all), default_route=True)

    assert call(gateway, "PUT", "/messages").status == 200
    assert function.events[-1]["routeKey"] == "$default"


def test_a_missing_identity_source_is_401_without_invoking_the_authorizer_and_no_challenge() -> None:
    authorizer = Scripted(allow_all)
    gateway, _, _ = build(authorizer)

    response = call(gateway, "GET", "/messages", token=None)

    assert (response.status, body(response)) == (401, {"message": "Unauthorized"})
    assert not any(name.lower() == "www-authenticate" for name, _ in response.headers)
    assert authorizer.events == []


def test_the_authorizer_gets_a_payload_2_0_request_event() -> None:
    authorizer = Scripted(allow_all)
    gateway, _, _ = build(authorizer)

    call(gateway, "GET", "/messages/42?b=1&b=2", Cookie="c=1; d=2")

    (event,) = authorizer.events
    assert (event["version"], event["type"], event["routeKey"]) == ("2.0", "REQUEST", "GET /messages/{id}")
    assert event["routeArn"] == f"{STAGE}/GET/messages/42"
    assert event["identitySource"] == ["Bearer t0k3n"]
    assert (event["rawPath"], event["rawQueryString"]) == ("/messages/42", "b=1&b=2")
    assert event["queryStringParameters"] == {"b": "1,2"}
    assert event["cookies"] == ["c=1", "d=2"]
    assert event["headers"]["authorization"] == "Bearer t0k3n"
    assert "cookie" not in event["headers"]
    assert event["pathParameters"] == {"id": "42"}
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["stage"] == "$default"


def test_an_iam_answer_is_evaluated_for_each_route_and_its_context_reaches_the_function_as_returned() -> None:
    gateway, function, _ = build(Scripted(allow_all))

    allowed = call(gateway, "GET", "/messages")
    denied = call(gateway, "POST", "/messages")

    assert allowed.status == 200
    assert function.events[0]["requestContext"]["authorizer"] == {
        "lambda": {"sub": "user-1", "count": 2, "groups": ["a", "b"]}
    }
    assert (denied.status, body(denied)) == (403, {"message": "Forbidden"})
    # The function's own headers reach the client as it set them: an HTTP API renames none.
    assert ("WWW-Authenticate", "Bearer") in allowed.headers


def test_one_cached_answer_serves_every_route_until_the_ttl_passes() -> None:
    authorizer = Scripted(allow_all)
    gateway, _, clock = build(authorizer, ttl=300)

    call(gateway, "GET", "/messages")
    call(gateway, "POST", "/messages")
    call(gateway, "GET", "/messages/7")
    assert len(authorizer.events) == 1
    clock.advance(300)
    call(gateway, "GET", "/messages")
    assert len(authorizer.events) == 2


def test_a_cached_simple_response_is_reused_on_every_route_unless_the_route_key_is_in_the_key() -> None:
    # Why the authorizer answers with a policy: a simple answer given for a read is replayed on a write.
    def for_reads_only(event: dict[str, Any]) -> dict[str, Any]:
        return {"isAuthorized": event["routeKey"].startswith("GET "), "context": {"sub": "user-1"}}

    shared, _, _ = build(Scripted(for_reads_only), simple=True)
    assert call(shared, "GET", "/messages").status == 200
    assert call(shared, "POST", "/messages").status == 200  # the cached "true", on the write route

    per_route, _, _ = build(
        Scripted(for_reads_only), simple=True, sources=("$request.header.Authorization", "$context.routeKey")
    )
    assert call(per_route, "GET", "/messages").status == 200
    refused = call(per_route, "POST", "/messages")
    assert (refused.status, body(refused)) == (403, {"message": "Forbidden"})


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        (Exception("Unauthorized"), 401, "Unauthorized"),
        (Exception("the keys could not be fetched"), 500, "Internal Server Error"),
        ({"isAuthorized": "yes"}, 500, "Internal Server Error"),
        ({"principalId": "u"}, 500, "Internal Server Error"),
        ("not an object", 500, "Internal Server Error"),
    ],
)
def test_what_the_authorizer_raises_or_answers_gives_an_http_apis_status(
    answer: object, status: int, message: str
) -> None:
    def respond(event: dict[str, Any]) -> object:
        if isinstance(answer, Exception):
            raise answer
        return answer

    gateway, function, _ = build(
        Scripted(respond), simple=isinstance(answer, dict) and "isAuthorized" in answer
    )

    response = call(gateway, "GET", "/messages")

    assert (response.status, body(response)) == (status, {"message": message})
    assert function.events == []


def test_an_any_route_is_keyed_as_written_and_its_greedy_parameter_is_the_rest_of_the_path() -> None:
    gateway, function, _ = build(Scripted(allow_all))

    assert call(gateway, "PATCH", "/admin/users/7").status == 200
    event = function.events[-1]
    assert (event["routeKey"], event["pathParameters"]) == ("ANY /admin/{proxy+}", {"proxy": "users/7"})


def test_a_function_that_fails_or_answers_malformed_is_500() -> None:
    gateway, function, _ = build(Scripted(allow_all))
    function.answer = lambda event: {"statusCode": "two hundred"}

    response = call(gateway, "GET", "/public")

    assert (response.status, body(response)) == (500, {"message": "Internal Server Error"})


def test_a_function_answer_without_a_status_code_is_a_200_json_body() -> None:
    gateway, function, _ = build(Scripted(allow_all))
    function.answer = lambda event: {"hello": "world"}

    response = call(gateway, "GET", "/public")

    assert (response.status, body(response)) == (200, {"hello": "world"})
