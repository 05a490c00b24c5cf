"""The authorizer on an HTTP API's payload 2.0 events: read as API Gateway documents them, decided by the
same pipeline as a TOKEN event, answered with the same IAM policy, refusals, logs and metrics.

The events follow the API Gateway developer guide's payload 2.0 example (http-api-lambda-authorizer):
`version`, `type`, `routeArn`, `identitySource`, `routeKey`, `rawPath`, lower-case `headers`,
`requestContext.http`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from devkit.clock import FakeClock
from devkit.tokens import AUDIENCE, claims_for, jwks_of, mint, rsa_key
from jwt_authorizer import (
    AuthorizerService,
    AuthorizerUnavailableError,
    Settings,
    build_authorizer,
)
from jwt_authorizer.errors import Reason
from jwt_authorizer.http_api import EventShapes, HttpApiEvent
from tests.support.api_events import http_api_event as payload_2_0_event
from tests.support.harness import Outcome, policy_effect
from tests.support.providers import StaticFetcher

ISSUER = "https://issuer.example.com"
NOW = 1_800_000_000
KEY = rsa_key("rsa-1")
API = "arn:aws:execute-api:us-east-1:123456789012:abcdef123"
STAGE = f"{API}/$default"
ROUTE_SCOPES = {
    "GET /messages": ["messages:read"],
    "POST /messages": ["messages:write"],
    "GET /messages/{id}": ["messages:read"],
    "DELETE /messages/{id}": ["messages:write"],
    "ANY /admin/{proxy+}": ["admin"],
}

ROUTES_CALLED = (
    "GET/messages",
    "GET/messages/42",
    "GET/profile",
    "POST/messages",
    "DELETE/messages/42",
    "PATCH/admin/users/7",
)


class RecordedTelemetry:
    """Every report the pipeline makes, in order."""

    def __init__(self) -> None:
        self.reports: list[tuple[Any, ...]] = []

    def allowed(self) -> None:
        self.reports.append(("allowed",))

    def route_denied(self, route: str, subject: str, missing_scopes: list[str]) -> None:
        self.reports.append(("route_denied", route, subject, missing_scopes))

    def rejected(self, reason: Reason, fields: dict[str, object], route: str | None) -> None:
        self.reports.append(("rejected", reason, route))

    def unavailable(self, issuer: str | None, detail: str, route: str | None) -> None:
        self.reports.append(("unavailable", issuer, route))

    def internal_error(self, route: str | None) -> None:
        self.reports.append(("internal_error", route))

    def jwks_fetched(self, issuer: str, key_count: int, skipped: tuple[str, ...], reason: str) -> None:
        pass

    def jwks_fetch_failed(self, issuer: str, error: str, serving_stale: bool) -> None:
        pass

    def flush_allowed(self) -> None:
        pass


def service(telemetry: RecordedTelemetry, jwks: object = None) -> AuthorizerService:
    settings = Settings.from_env(
        {"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, "ROUTE_SCOPES": json.dumps(ROUTE_SCOPES)}
    )
    documents: dict[str, Any] = {
        f"{ISSUER}/.well-known/openid-configuration": {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"}
    }
    if jwks is not None:
        documents[f"{ISSUER}/jwks"] = jwks
    return build_authorizer(
        settings, telemetry=telemetry, fetcher=StaticFetcher(documents), clock=FakeClock(), now=lambda: NOW
    )


def token(scope: str = "messages:read") -> str:
    return mint(KEY, claims_for(ISSUER, now=NOW, scope=scope))


def http_api_event(
    route_key: str, method: str, path: str, authorization: str | None, stage: str = "$default"
) -> dict[str, Any]:
    """A payload 2.0 REQUEST event as API Gateway sends it for `method path`, matched by `route_key`: the
    request's fields as a function gets them, with the authorizer's own (`type`, `routeArn`,
    `identitySource`) and no body."""
    event = payload_2_0_event(route_key, path=path, stage=stage)
    event["requestContext"]["http"]["method"] = method
    if authorization is not None:
        event["headers"]["authorization"] = authorization
    return event | {
        "type": "REQUEST",
        "routeArn": f"{API}/{stage}/{method}{path}",
        "identitySource": [authorization] if authorization is not None else [],
    }


def raises_unauthorized(authorizer: AuthorizerService, event: dict[str, Any]) -> None:
    with pytest.raises(Exception) as raised:  # noqa: PT011 - the exact type and text are asserted
        authorizer.handle(event)
    assert (type(raised.value), str(raised.value)) == (Exception, "Unauthorized")


def test_a_valid_token_gets_the_policy_for_the_whole_api_with_a_deny_for_each_route_it_lacks() -> None:
    telemetry = RecordedTelemetry()
    answer = service(telemetry, jwks_of(KEY)).handle(
        http_api_event("GET /messages/{id}", "GET", "/messages/42", f"Bearer {token()}")
    )

    assert answer["principalId"] == "user-123"
    policy = answer["policyDocument"]
    assert policy["Statement"][0] == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": f"{STAGE}/*/*",
    }
    # Read as API Gateway reads it for each route of the API, whatever route the answer was cached from.
    effects = {route: policy_effect(policy, f"{STAGE}/{route}") for route in ROUTES_CALLED}
    assert effects == {
        "GET/messages": Outcome.ALLOW,
        "GET/messages/42": Outcome.ALLOW,
        "GET/profile": Outcome.ALLOW,
        "POST/messages": Outcome.DENY,
        "DELETE/messages/42": Outcome.DENY,
        "PATCH/admin/users/7": Outcome.DENY,
    }
    assert (answer["context"]["sub"], answer["context"]["iss"]) == ("user-123", ISSUER)
    assert telemetry.reports == [("allowed",)]


def test_the_route_denied_is_the_route_keys_template_whatever_path_was_called() -> None:
    telemetry = RecordedTelemetry()
    event = http_api_event("DELETE /messages/{id}", "DELETE", "/messages/42", f"Bearer {token()}")

    service(telemetry, jwks_of(KEY)).handle(event)

    assert telemetry.reports == [("route_denied", "DELETE /messages/{id}", "user-123", ["messages:write"])]


def test_an_any_route_is_read_with_the_requests_method_and_the_default_route_with_its_path() -> None:
    telemetry = RecordedTelemetry()
    authorizer = service(telemetry, jwks_of(KEY))

    authorizer.handle(http_api_event("ANY /admin/{proxy+}", "PATCH", "/admin/users/7", f"Bearer {token()}"))
    authorizer.handle(http_api_event("$default", "POST", "/messages", f"Bearer {token()}"))
    authorizer.handle(http_api_event("$default", "GET", "/anything/else", f"Bearer {token()}"))

    assert telemetry.reports == [
        ("route_denied", "PATCH /admin/{proxy+}", "user-123", ["admin"]),
        ("route_denied", "POST /messages", "user-123", ["messages:write"]),
        ("allowed",),
    ]


def test_a_named_stage_is_the_policys_stage() -> None:
    answer = service(RecordedTelemetry(), jwks_of(KEY)).handle(
        http_api_event("GET /messages", "GET", "/messages", f"Bearer {token()}", stage="prod")
    )

    assert answer["policyDocument"]["Statement"][0]["Resource"] == f"{API}/prod/*/*"


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, Reason.MALFORMED_HEADER),
        ("Basic dXNlcjpwYXNz", Reason.MALFORMED_HEADER),
        ("Bearer not.a.jwt", Reason.MALFORMED_TOKEN),
        (f"Bearer {mint(rsa_key('rsa-1'), claims_for(ISSUER, now=NOW))}", Reason.INVALID_SIGNATURE),
        (f"Bearer {mint(KEY, claims_for(ISSUER, now=NOW - 7200))}", Reason.TOKEN_EXPIRED),
    ],
)
def test_a_token_that_is_not_acceptable_raises_exactly_unauthorized_with_the_tokens_reason(
    authorization: str | None, reason: Reason
) -> None:
    telemetry = RecordedTelemetry()

    raises_unauthorized(
        service(telemetry, jwks_of(KEY)), http_api_event("GET /profile", "GET", "/profile", authorization)
    )

    assert telemetry.reports == [("rejected", reason, "GET /profile")]


@pytest.mark.parametrize(
    "change",
    [
        {"version": "1.0"},
        {"type": "TOKEN"},
        {"routeArn": "arn:aws:lambda:us-east-1:123456789012:function:f"},
        {"routeArn": None},
        {"routeKey": None},
        {"routeKey": "GET"},
        {"routeKey": "GET messages"},
        {"headers": ["authorization"]},
        {"headers": {"authorization": "Bearer a.b.c", "Authorization": "Bearer d.e.f"}},
    ],
)
def test_a_malformed_payload_2_0_event_is_refused_as_malformed(change: dict[str, Any]) -> None:
    telemetry = RecordedTelemetry()
    event = http_api_event("GET /profile", "GET", "/profile", f"Bearer {token()}") | change

    raises_unauthorized(service(telemetry, jwks_of(KEY)), event)

    assert [report[:2] for report in telemetry.reports] in (
        [("rejected", Reason.MALFORMED_EVENT)],
        [("rejected", Reason.MALFORMED_TOKEN)],  # version 1.0 is read as a TOKEN event: no methodArn
    )


def test_keys_that_cannot_be_fetched_fail_closed_with_a_server_error_never_unauthorized() -> None:
    telemetry = RecordedTelemetry()
    authorizer = service(telemetry)  # the JWKS URL answers nothing

    with pytest.raises(AuthorizerUnavailableError):
        authorizer.handle(http_api_event("GET /profile", "GET", "/profile", f"Bearer {token()}"))

    assert telemetry.reports == [("unavailable", ISSUER, "GET /profile")]


def test_token_events_are_answered_as_before_by_the_same_authorizer() -> None:
    telemetry = RecordedTelemetry()
    authorizer = service(telemetry, jwks_of(KEY))
    token_event = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token()}",
        "methodArn": f"{API}/dev/POST/messages",
    }

    answer = authorizer.handle(token_event)

    assert answer["policyDocument"]["Statement"][0]["Resource"] == f"{API}/dev/*/*"
    assert telemetry.reports == [("route_denied", "POST /messages", "user-123", ["messages:write"])]


def test_both_shapes_give_one_answer_for_one_token() -> None:
    authorizer = service(RecordedTelemetry(), jwks_of(KEY))
    bearer = f"Bearer {token()}"

    over_http_api = authorizer.handle(
        http_api_event("GET /messages", "GET", "/messages", bearer, stage="dev")
    )
    over_token = authorizer.handle(
        {"type": "TOKEN", "authorizationToken": bearer, "methodArn": f"{API}/dev/GET/messages"}
    )

    assert over_http_api == over_token


def test_the_shapes_are_told_apart_by_the_events_version_alone() -> None:
    shapes = EventShapes(HttpApiEvent(), HttpApiEvent())
    event = http_api_event("GET /messages/{id}", "GET", "/messages/42", "Bearer a.b.c")

    assert shapes.route_of(event) == "GET /messages/{id}"
    assert shapes.route_of({"type": "TOKEN", "methodArn": f"{API}/dev/GET/messages/42"}) is None
