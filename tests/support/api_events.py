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
