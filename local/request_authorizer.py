"""API Gateway's REQUEST authorizer (REST, payload 1.0), as the local gateway runs it.

What API Gateway does, and so this does (API Gateway API reference, Authorizer `identitySource`; the
developer guide, "Input to an API Gateway Lambda authorizer"):

- Identity sources, when the authorizer has any, must each be present and non-empty, or the caller gets
  401 without the authorizer being invoked. Together they are the result cache's key; an authorizer
  without them has no cache (API Gateway requires them when caching is on).
- The event carries the call: `type: REQUEST`, `methodArn`, `resource`, `path`, `httpMethod`, the headers
  (last value and every value), the query, the path parameters and a `requestContext` whose `path` is the
  path as the client sent it (here the stage is served at the root of the host, as on a custom domain
  mapped with an empty base path) and whose `domainName` is the host called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: The header names of identity sources such as "method.request.header.DPoP".
HEADER_SOURCE = "method.request.header."


def identity_headers(identity_source: str) -> tuple[str, ...]:
    """The header names of a REQUEST authorizer's `identitySource` (comma-separated); ValueError for a
    source this gateway cannot read (query strings, stage variables, context)."""
    names = []
    for source in (part.strip() for part in identity_source.split(",")):
        if not source:
            continue
        if not source.startswith(HEADER_SOURCE):
            raise ValueError(f"identity source {source!r}: only headers are supported locally")
        names.append(source.removeprefix(HEADER_SOURCE))
    return tuple(names)


def missing_identity(names: Sequence[str], header: Callable[[str], str | None]) -> str | None:
    """The first identity source the call lacks (absent or empty), or None."""
    for name in names:
        if not header(name):
            return name
    return None


def cache_key(names: Sequence[str], header: Callable[[str], str | None]) -> str | None:
    """The result cache's key for this call: its identity sources' values; None without sources."""
    if not names:
        return None
    return "\n".join(f"{name}: {header(name)}" for name in names)


def request_authorizer_event(
    *,
    method_arn: str,
    resource: str,
    path: str,
    raw_path: str,
    method: str,
    headers: Sequence[tuple[str, str]],
    query: Sequence[tuple[str, str]],
    path_parameters: dict[str, str],
    stage: str,
    host: str,
    request_id: str,
    identity: dict[str, Any],
    api_id: str,
    account_id: str,
) -> dict[str, Any]:
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        multi_query.setdefault(name, []).append(value)
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()},
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters,
        "stageVariables": {},
        "requestContext": {
            "path": raw_path,
            "accountId": account_id,
            "resourceId": resource,
            "stage": stage,
            "domainName": host.rsplit(":", 1)[0] if host.count(":") == 1 else host,
            "domainPrefix": host.split(".", 1)[0],
            "requestId": request_id,
            "identity": identity,
            "resourcePath": resource,
            "httpMethod": method,
            "apiId": api_id,
        },
    }
