"""The Lambda entry point end to end: environment in, API Gateway's answer out, JWKS over 127.0.0.1."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from devkit.clock import FakeClock
from devkit.jwks_server import JwksServer, Reply
from devkit.tokens import AUDIENCE, SigningKey, claims_for, jwks_of, mint, split
from jwt_authorizer import ALLOW_FLUSH_SECONDS, AuthorizerUnavailableError, ConfigurationError, TokenVerifier
from tests.support.harness import install_clocks
from tests.support.policies import denied_resources

ROUTE_SCOPES = {"GET /messages": ["messages:read"], "POST /messages": ["messages:write"]}
STAGE = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev"


def event(authorization: object, route: str = "GET/profile") -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": authorization, "methodArn": f"{STAGE}/{route}"}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer) -> JwksServer:
    monkeypatch.setenv("ISSUER", jwks_server.issuer)
    monkeypatch.setenv("AUDIENCE", AUDIENCE)
    monkeypatch.setenv("ROUTE_SCOPES", json.dumps(ROUTE_SCOPES))
    return jwks_server


@pytest.fixture
def handler(environment: JwksServer, rsa_signing_key: SigningKey) -> ModuleType:
    environment.publish(jwks_of(rsa_signing_key))
    import authorizer_handler

    authorizer_handler.reset()
    return authorizer_handler


@pytest.fixture
def logs(handler: ModuleType) -> Iterator[io.StringIO]:
    """What the authorizer's Powertools logger writes during the test."""
    stream = io.StringIO()
    handlers = [
        h for h in logging.getLogger(handler.SERVICE_NAME).handlers if isinstance(h, logging.StreamHandler)
    ]
    previous = [h.setStream(stream) for h in handlers]
    yield stream
    for log_handler, old_stream in zip(handlers, previous, strict=True):
        log_handler.setStream(old_stream)


def token(key: SigningKey, server: JwksServer, **claims: Any) -> str:
    return mint(key, claims_for(server.issuer, **claims))


def unauthorized(handler: ModuleType, authorization: object, route: str = "GET/profile") -> None:
    with pytest.raises(Exception) as raised:  # noqa: PT011 - the exact type and text are asserted
        handler.lambda_handler(event(authorization, route), None)
    assert type(raised.value) is Exception
    assert str(raised.value) == "Unauthorized"


def test_a_valid_token_gets_the_whole_stage_with_denies_for_missing_scopes(
    handler: ModuleType, rsa_signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    access_token = token(rsa_signing_key, jwks_server, now=1_700_000_000, exp=4_000_000_000)
    result = handler.lambda_handler(event(f"Bearer {access_token}"), None)
    assert result == {
        "principalId": "user-123",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{STAGE}/*/*"},
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Deny",
                    "Resource": denied_resources(STAGE, "POST/messages"),
                },
            ],
        },
        "context": {
            "sub": "user-123",
            "iss": jwks_server.issuer,
            "scopes": '["messages:read"]',
            "client_id": "client-abc",
            "aud": AUDIENCE,
            "iat": 1_700_000_000,
            "nbf": 1_700_000_000,
            "exp": 4_000_000_000,
            "jti": "token-1",
        },
    }


def test_a_token_with_every_scope_gets_no_deny(
    handler: ModuleType, rsa_signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    access_token = token(rsa_signing_key, jwks_server, scope="messages:read messages:write")
    result = handler.lambda_handler(event(f"bearer {access_token}", "POST/messages"), None)
    assert result["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{STAGE}/*/*"}
    ]


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", 12, {"token": "x"}],
)
def test_missing_or_malformed_tokens_get_exactly_unauthorized(
    handler: ModuleType, authorization: object
) -> None:
    unauthorized(handler, authorization)


def test_forged_expired_and_foreign_tokens_get_exactly_unauthorized(
    handler: ModuleType, rsa_signing_key: SigningKey, rotated_rsa_key: SigningKey, jwks_server: JwksServer
) -> None:
    forger = SigningKey("rsa-1", rotated_rsa_key.private_key, "RS256")
    unauthorized(handler, f"Bearer {token(forger, jwks_server)}")
    unauthorized(handler, f"Bearer {token(rsa_signing_key, jwks_server, exp=1_000)}")
    unauthorized(handler, f"Bearer {token(rsa_signing_key, jwks_server, aud='api://other')}")
    unauthorized(handler, f"Bearer {mint(rsa_signing_key, claims_for('https://evil.example.com'))}")


@pytest.mark.parametrize(
    "bad_event",
    [None, [], "Bearer x", {}, {"authorizationToken": "Bearer a.b.c"}, {"methodArn": f"{STAGE}/GET/x"}],
)
def test_a_malformed_event_gets_exactly_unauthorized(handler: ModuleType, bad_event: object) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler.lambda_handler(bad_event, None)


def test_an_untrusted_issuer_causes_no_fetch(
    handler: ModuleType, rsa_signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    unauthorized(handler, f"Bearer {mint(rsa_signing_key, claims_for('https://evil.example.com'))}")
    assert sum(jwks_server.hits.values()) == 0


def test_when_the_provider_is_down_at_cold_start_the_authorizer_fails_closed_with_a_server_error(
    handler: ModuleType,
    rsa_signing_key: SigningKey,
    jwks_server: JwksServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    jwks_server.replies[jwks_server.discovery_path] = Reply(status=503)

    with pytest.raises(AuthorizerUnavailableError) as raised:
        handler.lambda_handler(event(f"Bearer {token(rsa_signing_key, jwks_server)}"), None)

    # What Lambda reports to API Gateway: any text but exactly "Unauthorized" is a 5xx, never a 401.
    assert (type(raised.value), str(raised.value)) == (
        AuthorizerUnavailableError,
        "the token could not be checked",
    )
    # And it is counted as the provider's outage, not as a bug of ours nor a bad token.
    metrics = [json.loads(out) for out in capsys.readouterr().out.splitlines() if out.startswith('{"_aws"')]
    assert [(m["outcome"], m["reason"]) for m in metrics if "Decision" in m] == [
        ("error", "keys_unavailable")
    ]


def test_an_unexpected_failure_fails_closed_with_a_server_error(
    handler: ModuleType, rsa_signing_key: SigningKey, jwks_server: JwksServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(TokenVerifier, "verify", broken)
    with pytest.raises(AuthorizerUnavailableError):
        handler.lambda_handler(event(f"Bearer {token(rsa_signing_key, jwks_server)}"), None)


def test_keys_are_cached_across_invocations(
    handler: ModuleType, rsa_signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    for _ in range(20):
        handler.lambda_handler(event(f"Bearer {token(rsa_signing_key, jwks_server)}"), None)
    assert jwks_server.hits == {jwks_server.discovery_path: 1, jwks_server.jwks_path: 1}


def test_a_bad_variable_stops_the_cold_start_naming_it(
    handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALGORITHMS", "HS256")
    with pytest.raises(ConfigurationError, match=r"^ALGORITHMS: 'HS256' is not supported"):
        handler.reset()
    monkeypatch.delenv("ISSUER")
    with pytest.raises(ConfigurationError, match=r"^ISSUER: is required"):
        handler.reset()


def test_a_rejection_is_logged_and_counted_without_the_token(
    handler: ModuleType,
    logs: io.StringIO,
    rsa_signing_key: SigningKey,
    jwks_server: JwksServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    expired = token(rsa_signing_key, jwks_server, exp=1_000)
    unauthorized(handler, f"Bearer {expired}", "DELETE/messages/7")
    line = json.loads(logs.getvalue().splitlines()[-1])
    assert {name: line[name] for name in ("level", "message", "reason", "route", "kid", "iss", "sub")} == {
        "level": "INFO",
        "message": "token rejected",
        "reason": "token_expired",
        "route": "DELETE /messages/7",
        "kid": "rsa-1",
        "iss": jwks_server.issuer,
        "sub": "user-123",
    }
    metrics = [json.loads(out) for out in capsys.readouterr().out.splitlines() if out.startswith('{"_aws"')]
    assert [(m["outcome"], m["reason"], m["Decision"]) for m in metrics if "Decision" in m] == [
        ("unauthorized", "token_expired", [1.0])
    ]
    _assert_no_token_material(logs.getvalue() + capsys.readouterr().out, expired)


def test_a_sub_too_large_to_pass_on_is_refused_and_logged_with_its_own_reason(
    handler: ModuleType,
    logs: io.StringIO,
    rsa_signing_key: SigningKey,
    jwks_server: JwksServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The review's case: a 6,000-character sub made a 12.3 KB answer; now it is refused, whole, never cut.
    oversized = token(rsa_signing_key, jwks_server, sub="s" * 6_000)
    unauthorized(handler, f"Bearer {oversized}", "GET/profile")
    line = json.loads(logs.getvalue().splitlines()[-1])
    assert {name: line[name] for name in ("message", "reason", "route", "kid", "iss")} == {
        "message": "token rejected",
        "reason": "context_too_large",
        "route": "GET /profile",
        "kid": "rsa-1",
        "iss": jwks_server.issuer,
    }
    assert line["detail"].startswith("sub (also the principalId), iss, scopes and client_id take 12")
    assert line["sub"] == "s" * 128  # clipped in the log, as any claimed value
    metrics = [json.loads(out) for out in capsys.readouterr().out.splitlines() if out.startswith('{"_aws"')]
    assert [(m["outcome"], m["reason"]) for m in metrics if "Decision" in m] == [
        ("unauthorized", "context_too_large")
    ]


def test_allowed_calls_are_published_as_one_count_once_a_minute(
    handler: ModuleType,
    rsa_signing_key: SigningKey,
    jwks_server: JwksServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = FakeClock()
    install_clocks(handler, clock, time.time)
    allowed = event(f"Bearer {token(rsa_signing_key, jwks_server)}")
    for _ in range(3):
        handler.lambda_handler(allowed, None)
    clock.advance(ALLOW_FLUSH_SECONDS)

    handler.lambda_handler(allowed, None)

    metrics = [json.loads(out) for out in capsys.readouterr().out.splitlines() if out.startswith('{"_aws"')]
    assert [(m["outcome"], m["reason"], m["Decision"]) for m in metrics if "Decision" in m] == [
        ("allow", "valid", [4.0])
    ]


def test_allowed_calls_write_no_log_line(
    handler: ModuleType, logs: io.StringIO, rsa_signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    handler.lambda_handler(event(f"Bearer {token(rsa_signing_key, jwks_server)}"), None)  # cold: fetch log
    before = logs.getvalue()
    for _ in range(10):
        handler.lambda_handler(event(f"Bearer {token(rsa_signing_key, jwks_server)}"), None)
    assert logs.getvalue() == before


@pytest.mark.parametrize(
    ("spelling", "route"),
    [
        ("POST/messages", "POST /messages"),
        ("POST/messages/", "POST /messages/"),
        ("POST//messages", "POST //messages"),
    ],
)
def test_a_route_denied_for_scope_is_logged_with_the_missing_scopes_in_any_spelling(
    handler: ModuleType,
    logs: io.StringIO,
    rsa_signing_key: SigningKey,
    jwks_server: JwksServer,
    spelling: str,
    route: str,
) -> None:
    handler.lambda_handler(event(f"Bearer {token(rsa_signing_key, jwks_server)}", spelling), None)
    line = json.loads(logs.getvalue().splitlines()[-1])
    # The route as the call spelled it, and what the token lacks for it.
    assert (line["message"], line["route"], line["missing_scopes"]) == (
        "route denied: insufficient scope",
        route,
        ["messages:write"],
    )


def test_jwks_fetches_and_failures_are_logged(
    handler: ModuleType, logs: io.StringIO, rsa_signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    jwks_server.replies[jwks_server.jwks_path] = Reply(status=500)
    with pytest.raises(AuthorizerUnavailableError):
        handler.lambda_handler(event(f"Bearer {token(rsa_signing_key, jwks_server)}"), None)
    messages = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert [(m["level"], m["message"]) for m in messages] == [
        ("ERROR", "JWKS fetch failed"),
        ("ERROR", "keys unavailable: failing closed"),
    ]
    assert "answered HTTP 500" in messages[0]["error"]


def _assert_no_token_material(output: str, raw: str) -> None:
    header, payload, signature = split(raw)
    assert raw not in output
    assert signature not in output
    assert f"{header}.{payload}" not in output
