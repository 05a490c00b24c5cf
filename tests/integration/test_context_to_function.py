"""What the authorizer decided is what the protected function behind it reads: the same names, one caller.

Each test takes the authorizer's answer for a signed token, hands its context to the protected function as
API Gateway does (values stringified, `principalId` added) and asks the function. The function re-checks
the route's scopes on its own (defense in depth); whatever the names hold, it must come to the
authorizer's answer, never to a more generous one.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from devkit.tokens import AUDIENCE, REMOVE, SigningKey, claims_for, mint
from jwt_authorizer import AuthorizerService
from tests.support.api_events import (
    ROUTE_SCOPES,
    FakeLambdaContext,
    delivered_context,
    json_response,
    proxy_event,
)
from tests.support.policies import denied_resources
from tests.support.providers import NOW, STAGE, authorize, service_with_keys

ISSUER = "https://issuer.example.com"


@pytest.fixture
def service(rsa_signing_key: SigningKey) -> AuthorizerService:
    env = {"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, "ROUTE_SCOPES": ROUTE_SCOPES, "SCOPE_CLAIMS": "groups"}
    return service_with_keys(env, {ISSUER: [rsa_signing_key]})


def answer_for(service: AuthorizerService, key: SigningKey, **claims: Any) -> dict[str, Any]:
    return authorize(service, mint(key, claims_for(ISSUER, now=NOW, **claims)))


def denied(answer: dict[str, Any]) -> set[str]:
    """The resources the answer's policy denies, as "METHOD/path" after the stage."""
    return {
        resource.removeprefix(f"{STAGE}/")
        for statement in answer["policyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        for resource in statement["Resource"]
    }


def call(
    function: ModuleType, method: str, resource: str, answer: dict[str, Any], body: str | None = None
) -> tuple[int, dict[str, Any]]:
    event = proxy_event(method, resource, body=body, authorizer=delivered_context(answer))
    status, payload, _ = json_response(function.lambda_handler(event, FakeLambdaContext()))
    return status, payload


@pytest.mark.parametrize(
    "names",
    [
        pytest.param({"scope": REMOVE, "scp": ["messages:read", "team messages:write"]}, id="scp element"),
        pytest.param({"scope": ["messages:read", "team messages:write"]}, id="scope element"),
        pytest.param({"scope": "messages:read", "groups": ["Support messages:write"]}, id="group name"),
    ],
)
def test_a_name_with_a_space_never_grants_what_follows_the_space_in_the_function_either(
    protected_function: ModuleType, service: AuthorizerService, rsa_signing_key: SigningKey, names: Any
) -> None:
    # Given a token whose one name "… messages:write" is not the scope messages:write,
    answer = answer_for(service, rsa_signing_key, **names)
    assert "POST/messages" in denied(answer)
    # When a request reaches the function anyway (a route spelling the Deny does not cover),
    status, body = call(protected_function, "POST", "/messages", answer, body='{"text": "hi"}')
    # Then the function refuses it too: it reads the names the authorizer checked, not a string to split.
    assert (status, body.get("error")) == (403, "insufficient_scope")


@pytest.mark.parametrize(
    "separator", ["\t", "\n", "\r", "\x0b", "\x0c", "\x1f", "\u00a0", "\u2003", "\u3000"]
)
def test_only_the_space_character_separates_names_in_a_scope_string(
    protected_function: ModuleType, service: AuthorizerService, rsa_signing_key: SigningKey, separator: str
) -> None:
    # RFC 6749 section 3.3: scope-token *( SP scope-token ). Anything else is part of one (useless) name.
    answer = answer_for(service, rsa_signing_key, scope=f"messages:read{separator}messages:write")
    assert {"GET/messages", "POST/messages"} <= denied(answer)
    status, body = call(protected_function, "GET", "/messages", answer)
    assert (status, body.get("error")) == (403, "insufficient_scope")


def test_the_function_sees_exactly_the_names_the_authorizer_checked(
    protected_function: ModuleType, service: AuthorizerService, rsa_signing_key: SigningKey
) -> None:
    # Okta's groups have spaces in their names: each stays one name, all the way to the function.
    answer = answer_for(
        service, rsa_signing_key, scope="messages:read", groups=["Everyone", "Support Team", "a,b"]
    )
    status, profile = call(protected_function, "GET", "/profile", answer)
    assert status == 200
    assert profile["scopes"] == ["Everyone", "Support Team", "a,b", "messages:read"]


def test_the_readers_list_and_the_writers_post_still_pass_through_both(
    protected_function: ModuleType, service: AuthorizerService, rsa_signing_key: SigningKey
) -> None:
    reader = answer_for(service, rsa_signing_key, scope="messages:read")
    writer = answer_for(service, rsa_signing_key, scope="messages:read messages:write")
    # Each route's Deny also covers its other spellings (tests/support/policies.py).
    spellings = denied_resources(STAGE, "POST/messages", "DELETE/messages/*")
    assert denied(reader) == {resource.removeprefix(f"{STAGE}/") for resource in spellings}
    assert denied(writer) == set()
    assert call(protected_function, "GET", "/messages", reader)[0] == 200
    assert call(protected_function, "POST", "/messages", writer, body='{"text": "hi"}')[0] == 201
    assert json.loads(json.dumps(reader["context"])) == reader["context"]


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"sub": "s" * 1_900}, id="a long sub"),
        pytest.param({"sub": "é" * 100, "groups": [f"group {n}" for n in range(40)]}, id="escapes and names"),
        pytest.param({f"claim{n}": "v" * 200 for n in range(30)}, id="many claims"),
    ],
)
def test_the_answer_is_at_most_the_bound_plus_its_policy(
    service: AuthorizerService, rsa_signing_key: SigningKey, claims: dict[str, Any]
) -> None:
    from jwt_authorizer import MAX_CONTEXT_BYTES

    answer = answer_for(service, rsa_signing_key, **claims)
    envelope = len('{"policyDocument": , "context": {}}')
    policy = len(json.dumps(answer["policyDocument"]))
    assert len(json.dumps(answer)) <= MAX_CONTEXT_BYTES + policy + envelope
    assert answer["context"]["sub"] == claims.get("sub", "user-123")  # required members are never cut


def test_a_number_no_json_reader_holds_exactly_reaches_the_function_digit_for_digit(
    protected_function: ModuleType, service: AuthorizerService, rsa_signing_key: SigningKey
) -> None:
    answer = answer_for(service, rsa_signing_key, account=10**999, small=2**53 - 1)
    assert (answer["context"]["account"], answer["context"]["small"]) == ("1" + "0" * 999, 2**53 - 1)
    status, profile = call(protected_function, "GET", "/profile", answer)
    assert (status, profile["claims"]["account"]) == (200, "1" + "0" * 999)
