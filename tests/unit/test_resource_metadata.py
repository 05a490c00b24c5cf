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
from hypothesis import event as event_kind
from hypothesis import given
from hypothesis import strategies as st

import public_api
import resource_metadata_api
from messages_api.metadata_route import add_resource_metadata_route
from messages_api.resource_metadata import (
    MetadataConfigurationError,
    ResourceMetadataSettings,
    UnknownHost,
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
        # Spellings API Gateway passes on as sent: doubled slashes after the stage (routed to the
        # resource), more of them, a percent-encoded letter or slash, another letter case.
        ("api.example.com", f"/dev/{METADATA}", "https", "https://api.example.com/dev"),
        ("api.example.com", f"//dev//{METADATA}//", "https", "https://api.example.com/dev"),
        (
            "api.example.com",
            "/dev/.well-known/oauth%2Dprotected-resource",
            "https",
            "https://api.example.com/dev",
        ),
        (
            "api.example.com",
            "/dev/.well-known%2Foauth-protected-resource",
            "https",
            "https://api.example.com/dev",
        ),
        (
            "api.example.com",
            "/dev/.WELL-KNOWN/oauth-protected-resource",
            "https",
            "https://api.example.com/dev",
        ),
        # A base path of several segments, spelled as the client sent it.
        (
            "api.example.com",
            f"/v1/Orders%20API{METADATA}",
            "https",
            "https://api.example.com/v1/Orders%20API",
        ),
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


def test_a_greedy_route_serving_the_metadata_counts_the_events_path_not_its_resource() -> None:
    event = metadata_event("api.example.com", f"/dev{METADATA}")
    event["resource"] = event["requestContext"]["resourcePath"] = "/{proxy+}"

    assert resource_url(event) == "https://api.example.com/dev"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda e: e.pop("requestContext"), "no requestContext"),
        (lambda e: e["requestContext"].pop("domainName"), "domainName"),
        (lambda e: e["requestContext"].pop("path"), "path or the event's path"),
        (lambda e: (e.pop("path"), e["requestContext"].pop("resourcePath")), "path or the event's path"),
    ],
)
def test_an_event_that_is_no_proxy_event_is_refused(change: Any, problem: str) -> None:
    event = metadata_event("api.example.com", f"/dev{METADATA}")
    change(event)

    with pytest.raises(UnknownResourceUrl, match=problem):
        resource_url(event)


@pytest.mark.parametrize("host", ["evil.com/x", "a b", "", "host:99999999", "[::1"])
def test_a_host_that_is_not_a_host_name_is_refused_as_such(host: str) -> None:
    # Only a local gateway reports one: it passes on the client's Host header.
    with pytest.raises(UnknownHost):
        resource_url(metadata_event(host, METADATA))


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


# Every path and host a gateway can report ---------------------------------------------------------------

METADATA_ENV = {"ISSUER": "https://idp.example.com", "ROUTE_SCOPES": ROUTE_SCOPES}
#: Hosts API Gateway reports (execute-api, private API, custom domains) and the local gateways (a port).
HOSTS = [
    "abc123.execute-api.eu-west-1.amazonaws.com",
    "abc123-vpce-0123456789abcdef0.execute-api.eu-west-1.amazonaws.com",
    "API.Example.com",
    "127.0.0.1:3000",
    "localhost:3000",
    "[::1]:3000",
]
_SLASHES = st.sampled_from(["/", "/", "//", "///", "%2F", "/%2f"])


@st.composite
def _spelled_segment(draw: st.DrawFn, segment: str) -> str:
    """The segment as is, mostly; else with a letter upper-cased or percent-encoded, or all upper case."""
    at = draw(st.integers(0, len(segment) - 1))
    return draw(
        st.sampled_from(
            [
                segment,
                segment,
                segment,
                segment[:at] + segment[at].upper() + segment[at + 1 :],
                segment[:at] + f"%{ord(segment[at]):02X}" + segment[at + 1 :],
                segment.upper(),
            ]
        )
    )


@st.composite
def _sent_paths(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    """A path a client sent to the metadata route (requestContext.path), the event's `path` (the route's
    part, one leading slash), and the stage or base path segments it starts with."""
    alphabet = st.characters(codec="ascii", categories=["L", "N"], include_characters="-._~%")
    base = draw(
        st.lists(
            st.text(alphabet, min_size=1, max_size=8).filter(lambda s: "%2f" not in s.lower()), max_size=3
        )
    )
    route = [draw(_spelled_segment(part)) for part in METADATA.strip("/").split("/")]
    trailing = draw(st.sampled_from(["", "/", "//"]))
    route_path = "".join(draw(_SLASHES) + segment for segment in route) + trailing
    sent = "".join(draw(_SLASHES) + segment for segment in base) + route_path
    return sent, "/" + route_path.lstrip("/"), base


@given(sent=_sent_paths(), host=st.sampled_from(HOSTS), proto=st.sampled_from(["https", "http", None]))
def test_every_path_and_host_a_gateway_reports_gets_the_document_never_a_server_error(
    sent: tuple[str, str, list[str]], host: str, proto: str | None
) -> None:
    path, event_path, base = sent
    event = metadata_event(host, path, proto)
    event["path"] = event_path

    status, body, _ = call(METADATA_ENV, event)

    # The resolver finds its route by the event's path: a spelling it does not know is its 404.
    assert status in (200, 404), body
    event_kind("answered" if status == 200 else "not the resolver's route")
    if status == 200:
        assert body["resource"] == f"{proto or 'https'}://{host}{''.join(f'/{segment}' for segment in base)}"
    else:
        assert body["error"] == "not_found"


@given(host=st.text(max_size=40))
def test_any_host_a_local_gateway_passes_on_is_answered_without_a_server_error(host: str) -> None:
    status, body, _ = call(METADATA_ENV, metadata_event(host, METADATA))

    assert status in (200, 400), body
    assert status == 200 or body["error"] == "invalid_request"
