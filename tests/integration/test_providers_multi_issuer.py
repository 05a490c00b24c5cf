"""Several trusted issuers at once, each with its own JWKS server on 127.0.0.1 and its own audiences."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from devkit.jwks_server import JwksServer, running_jwks_server
from devkit.tokens import SigningKey, claims_for, jwks_of, mint, rsa_key
from jwt_authorizer import AuthorizerService, Settings, build_authorizer
from tests.support.api_events import FakeLambdaContext, delivered_context, proxy_event
from tests.support.providers import QuietTelemetry, authorize, rejection

SHARED_KID = "signing-key-1"  # both providers happen to name their key the same


@pytest.fixture(scope="module")
def key_a() -> SigningKey:
    return rsa_key(SHARED_KID)


@pytest.fixture(scope="module")
def key_b() -> SigningKey:
    return rsa_key(SHARED_KID)


# Two servers for the module (stopping one takes a while); each test starts from fresh replies and counts.
@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[JwksServer, JwksServer]]:
    with running_jwks_server() as first, running_jwks_server() as second:
        yield first, second


def fresh(server: JwksServer, key: SigningKey) -> JwksServer:
    server.replies.clear()
    server.hits.clear()
    server.publish(jwks_of(key))
    return server


@pytest.fixture
def server_a(servers: tuple[JwksServer, JwksServer], key_a: SigningKey) -> JwksServer:
    return fresh(servers[0], key_a)


@pytest.fixture
def server_b(servers: tuple[JwksServer, JwksServer], key_b: SigningKey) -> JwksServer:
    return fresh(servers[1], key_b)


def service_for(env: dict[str, str]) -> AuthorizerService:
    return build_authorizer(Settings.from_env(env), telemetry=QuietTelemetry())


@pytest.fixture
def service(server_a: JwksServer, server_b: JwksServer) -> AuthorizerService:
    return service_for({"ISSUER": f"{server_a.issuer},{server_b.issuer}", "AUDIENCE": "api://messages"})


def test_each_issuers_tokens_are_verified_with_that_issuers_keys(
    service: AuthorizerService,
    server_a: JwksServer,
    server_b: JwksServer,
    key_a: SigningKey,
    key_b: SigningKey,
) -> None:
    from_a = authorize(service, mint(key_a, claims_for(server_a.issuer, sub="from-a")))
    from_b = authorize(service, mint(key_b, claims_for(server_b.issuer, sub="from-b")))
    assert (from_a["principalId"], from_b["principalId"]) == ("from-a", "from-b")
    assert (server_a.jwks_fetches, server_b.jwks_fetches) == (1, 1)


def test_issuer_a_token_signed_with_issuer_b_key_is_refused_despite_the_colliding_kid(
    service: AuthorizerService, server_a: JwksServer, server_b: JwksServer, key_b: SigningKey
) -> None:
    # Given both issuers publish a key named SHARED_KID, and B's key is the one the attacker holds,
    # When a token claims to come from A but is signed with B's key,
    forged = mint(key_b, claims_for(server_a.issuer))
    # Then only A's keys are tried, and the signature fails.
    assert rejection(service, forged) == "invalid_signature"
    assert (server_a.jwks_fetches, server_b.jwks_fetches) == (1, 0)


def test_issuer_b_token_signed_with_issuer_a_key_is_refused_too(
    service: AuthorizerService,
    server_a: JwksServer,
    server_b: JwksServer,
    key_a: SigningKey,
    key_b: SigningKey,
) -> None:
    assert authorize(service, mint(key_b, claims_for(server_b.issuer)))["principalId"] == "user-123"
    assert rejection(service, mint(key_a, claims_for(server_b.issuer))) == "invalid_signature"
    assert (server_a.jwks_fetches, server_b.jwks_fetches) == (0, 1)


def test_a_kid_only_the_other_issuer_publishes_is_unknown_to_this_one(
    service: AuthorizerService, server_a: JwksServer, server_b: JwksServer
) -> None:
    only_in_b = rsa_key("only-in-b")
    server_b.publish(jwks_of(only_in_b))
    assert rejection(service, mint(only_in_b, claims_for(server_a.issuer))) == "unknown_kid"
    assert server_b.jwks_fetches == 0


def test_each_issuer_has_its_own_audiences(
    server_a: JwksServer, server_b: JwksServer, key_a: SigningKey, key_b: SigningKey
) -> None:
    service = service_for(
        {
            "ISSUER": f"{server_a.issuer},{server_b.issuer}",
            "ISSUER_AUDIENCES": json.dumps({server_a.issuer: ["api://a"], server_b.issuer: "api://b"}),
        }
    )
    assert (
        authorize(service, mint(key_a, claims_for(server_a.issuer, aud="api://a")))["context"]["aud"]
        == "api://a"
    )
    assert (
        authorize(service, mint(key_b, claims_for(server_b.issuer, aud="api://b")))["context"]["aud"]
        == "api://b"
    )
    assert rejection(service, mint(key_a, claims_for(server_a.issuer, aud="api://b"))) == "invalid_audience"
    assert rejection(service, mint(key_b, claims_for(server_b.issuer, aud="api://a"))) == "invalid_audience"


def test_one_issuer_being_down_does_not_affect_the_other(
    service: AuthorizerService, server_a: JwksServer, server_b: JwksServer, key_a: SigningKey
) -> None:
    server_b.replies.clear()  # B answers 404 to everything
    assert authorize(service, mint(key_a, claims_for(server_a.issuer)))["principalId"] == "user-123"


def test_alice_of_issuer_b_cannot_delete_the_message_of_alice_of_issuer_a(
    service: AuthorizerService,
    server_a: JwksServer,
    server_b: JwksServer,
    key_a: SigningKey,
    key_b: SigningKey,
    protected_function: ModuleType,
) -> None:
    # A `sub` is unique only within its issuer (OIDC Core section 2): two issuers may each have an alice.
    both_scopes = "messages:read messages:write"
    alice_of_a = authorize(service, mint(key_a, claims_for(server_a.issuer, sub="alice", scope=both_scopes)))
    alice_of_b = authorize(service, mint(key_b, claims_for(server_b.issuer, sub="alice", scope=both_scopes)))

    def call(method: str, resource: str, answer: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        event = proxy_event(method, resource, authorizer=delivered_context(answer), **kwargs)
        response: dict[str, Any] = protected_function.lambda_handler(event, FakeLambdaContext())
        return response

    # Given alice of issuer A posted a message,
    posted = call("POST", "/messages", alice_of_a, body='{"text": "from A"}')
    assert posted["statusCode"] == 201
    message = json.loads(posted["body"])
    assert (message["author"], message["authorIssuer"]) == ("alice", server_a.issuer)
    one_message = {"path_parameters": {"id": message["id"]}}

    # When alice of issuer B tries to delete it, she is refused and the message stays;
    refused = call("DELETE", "/messages/{id}", alice_of_b, **one_message)
    assert refused["statusCode"] == 403
    assert json.loads(refused["body"])["error"] == "forbidden"
    assert call("GET", "/messages/{id}", alice_of_b, **one_message)["statusCode"] == 200
    # Then only alice of issuer A deletes it.
    assert call("DELETE", "/messages/{id}", alice_of_a, **one_message)["statusCode"] == 204
