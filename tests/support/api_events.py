"""API Gateway proxy events for the API functions, built from the samples in events/.

The samples have the shape `sam local generate-event apigateway aws-proxy` produces, with the authorizer
context as API Gateway delivers it: the JWT authorizer's keys with their values stringified, plus the
`principalId` and `integrationLatency` API Gateway adds.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authorizer_context import encode_scopes

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"

#: The template's ROUTE_SCOPES with its default ReadScope and WriteScope (tests/integration checks this).
ROUTE_SCOPES = (
    '{"GET /messages": ["messages:read"], "POST /messages": ["messages:write"], '
    '"GET /messages/{id}": ["messages:read"], "DELETE /messages/{id}": ["messages:write"]}'
)


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event


def authorizer_context(**overrides: Any) -> dict[str, Any]:
    """The sample authorizer context; pass a key as None to leave it out, `scopes` as a list of names."""
    if isinstance(overrides.get("scopes"), (list, tuple)):
        overrides["scopes"] = encode_scopes(overrides["scopes"])
    context = load_event("profile-get.json")["requestContext"]["authorizer"] | overrides
    return {name: value for name, value in context.items() if value is not None}


def delivered_context(answer: dict[str, Any]) -> dict[str, Any]:
    """`requestContext.authorizer` as API Gateway builds it from an authorizer's answer: the context's
    values stringified, `principalId` and `integrationLatency` added (as local/apigateway.py does it).
    """
    from local.apigateway import AuthorizerResult

    return AuthorizerResult.parse(answer).request_context(integration_latency_ms=0)


def proxy_event(
    method: str,
    resource: str,
    *,
    body: str | None = None,
    base64_encoded: bool = False,
    authorizer: dict[str, Any] | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A REST API proxy event for `method resource`, authorized with `authorizer` as its context.

    `path_parameters` fill the resource's `{name}` segments into the path, as API Gateway does.
    """
    event = copy.deepcopy(load_event("messages-post.json"))
    path = resource
    for name, value in (path_parameters or {}).items():
        path = path.replace(f"{{{name}}}", value)
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["resource"] = event["requestContext"]["resourcePath"] = resource
    event["path"] = path
    event["pathParameters"] = dict(path_parameters) if path_parameters else None
    event["requestContext"]["path"] = f"/{event['requestContext']['stage']}{path}"
    if query:
        event["multiValueQueryStringParameters"] = {name: list(values) for name, values in query.items()}
        event["queryStringParameters"] = {name: values[-1] for name, values in query.items()}
    event["body"] = base64.b64encode(body.encode()).decode() if base64_encoded and body else body
    event["isBase64Encoded"] = base64_encoded
    if authorizer is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"] = authorizer
    return event


@dataclass
class FakeLambdaContext:
    function_name: str = "messages-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:messages-api"
    aws_request_id: str = "7d8f2b1c-0000-4000-8000-000000000000"


def json_response(response: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, list[str]]]:
    """Status, decoded JSON body and headers of a proxy response, after checking it is JSON."""
    headers = dict(response["multiValueHeaders"])
    assert headers["Content-Type"] == ["application/json"]
    assert response["isBase64Encoded"] is False
    body: dict[str, Any] = json.loads(response["body"])
    return response["statusCode"], body, headers


def http_api_event(
    route_key: str,
    *,
    path: str | None = None,
    body: str | None = None,
    authorizer: dict[str, Any] | None = None,
    path_parameters: dict[str, str] | None = None,
    raw_query: str = "",
    stage: str = "$default",
    domain: str = "abc123.execute-api.us-east-1.amazonaws.com",
) -> dict[str, Any]:
    """An HTTP API's payload 2.0 event for the route `route_key` ("GET /messages/{id}"), shaped as the API
    Gateway developer guide shows it (http-api-develop-integrations-lambda), with a Lambda authorizer's
    `context` in `requestContext.authorizer.lambda`.

    `path` is the path the client called, after the stage (the route's path with its parameters filled in
    unless given); a named stage comes first in `rawPath` and `requestContext.http.path`, as sent.
    """
    method, _, route_path = route_key.partition(" ")
    if path is None:
        path = route_path
        for name, value in (path_parameters or {}).items():
            path = path.replace(f"{{{name}}}", value)
    sent = path if stage == "$default" else f"/{stage}{path}"
    query: dict[str, list[str]] = {}
    for name, _, value in (part.partition("=") for part in raw_query.split("&") if part):
        query.setdefault(name, []).append(value)
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": domain,
        "domainPrefix": domain.partition(".")[0],
        "http": {
            "method": "GET" if method in ("ANY", "$default") else method,
            "path": sent,
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": route_key,
        "stage": stage,
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390,
    }
    if authorizer is not None:
        request_context["authorizer"] = {"lambda": authorizer}
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": sent,
        "rawQueryString": raw_query,
        "headers": {
            "accept": "*/*",
            "content-type": "application/json",
            "host": domain,
            "user-agent": "curl/8.5.0",
            "x-forwarded-for": "192.0.2.1",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        **({"queryStringParameters": {k: ",".join(v) for k, v in query.items()}} if query else {}),
        "requestContext": request_context,
        **({"pathParameters": dict(path_parameters)} if path_parameters else {}),
        **({"body": body} if body is not None else {}),
        "isBase64Encoded": False,
    }


def http_json_response(response: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, decoded JSON body and headers of a payload 2.0 response, after checking it is JSON."""
    headers = dict(response["headers"])
    assert headers["Content-Type"] == "application/json"
    assert response["isBase64Encoded"] is False
    body: dict[str, Any] = json.loads(response["body"])
    return response["statusCode"], body, headers
