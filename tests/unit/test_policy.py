"""API Gateway's answer: one stage-wide policy, and the claims flattened into the context."""

from __future__ import annotations

import json
from typing import Any

import pytest

from authorizer_context import decode_scopes
from jwt_authorizer.errors import Reason, TokenRejected
from jwt_authorizer.method_arn import MethodArn
from jwt_authorizer.policy import MAX_CONTEXT_BYTES, build_context, build_policy
from jwt_authorizer.scopes import scopes_of
from route_table import Route, RouteTable

ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev/GET/messages"
STAGE = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev"
ROUTES = RouteTable.parse(
    '{"GET /messages": ["messages:read"], "POST /messages": ["messages:write"],'
    ' "DELETE /messages/{id}": ["messages:write", "messages:admin"], "* /admin/{proxy+}": ["admin"]}'
)


def test_a_route_requires_all_of_its_scopes_compared_as_exact_tokens() -> None:
    assert ROUTES.denied(frozenset({"messages:read", "messages:write", "admin"})) == (ROUTES.routes[2],)
    assert ROUTES.denied(frozenset({"messages:Read", "messages"})) == ROUTES.routes


def test_a_token_with_every_scope_gets_an_allow_for_the_whole_stage_only() -> None:
    assert build_policy(MethodArn.parse(ARN), []) == {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{STAGE}/*/*"}],
    }


def test_routes_whose_scopes_the_token_lacks_are_denied_on_top_of_the_stage_allow() -> None:
    denied = ROUTES.denied(frozenset({"messages:read"}))
    assert build_policy(MethodArn.parse(ARN), denied) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{STAGE}/*/*"},
            {
                "Action": "execute-api:Invoke",
                "Effect": "Deny",
                # Each route, with its trailing slash; every odd spelling of any method (docs/security.md).
                "Resource": [
                    f"{STAGE}/*/*%*",
                    f"{STAGE}/*/*//*",
                    f"{STAGE}/*//*",
                    f"{STAGE}/*/admin/*",
                    f"{STAGE}/DELETE/messages/*",
                    f"{STAGE}/POST/messages",
                    f"{STAGE}/POST/messages/",
                ],
            },
        ],
    }


def test_the_policy_is_the_same_whichever_route_came_first() -> None:
    # API Gateway reuses the cached result for every route, so it must not depend on the methodArn's route.
    denied = [Route("POST", "/messages", frozenset({"messages:write"}))]
    first = build_policy(MethodArn.parse(ARN), denied)
    other_route = build_policy(MethodArn.parse(f"{STAGE}/POST/messages"), denied)
    assert first == other_route


def test_the_policy_never_names_another_api_or_stage() -> None:
    policy = build_policy(MethodArn.parse(ARN), ROUTES.denied(frozenset()))
    resources = [policy["Statement"][0]["Resource"], *policy["Statement"][1]["Resource"]]
    assert all(resource.startswith(f"{STAGE}/") for resource in resources)


def test_the_context_flattens_claims_to_scalars() -> None:
    claims = {
        "iss": "https://issuer.example.com/",
        "sub": "user-123",
        "aud": ["api://a", "api://b"],
        "scp": ["messages:write", "messages:read"],
        "cid": "okta-client",
        "exp": 1_800_000_300,
        "auth_time": 1.5,
        "email_verified": True,
        "cognito:groups": ["admins", "readers"],
        "realm_access": {"roles": ["r1"]},
        "mixed": [1, "a"],
        "nothing": None,
    }
    assert build_context(claims, scopes_of(claims)) == {
        "sub": "user-123",
        "iss": "https://issuer.example.com/",
        "scopes": '["messages:read","messages:write"]',
        "client_id": "okta-client",
        "aud": "api://a,api://b",
        "cid": "okta-client",
        "exp": 1_800_000_300,
        "auth_time": 1.5,
        "email_verified": True,
        "cognito:groups": "admins,readers",
        "realm_access": '{"roles":["r1"]}',
        "mixed": '[1,"a"]',
    }


def test_the_scopes_travel_as_one_json_array_that_reads_back_to_the_same_names() -> None:
    scopes = frozenset({"Support Team", "messages:read", "a,b", 'say "hi"', "naïve", "tab\there"})
    context = build_context({"sub": "s", "iss": "i"}, scopes)
    assert decode_scopes(context["scopes"]) == scopes
    assert json.loads(str(context["scopes"])) == sorted(scopes)


@pytest.mark.parametrize(
    ("claims", "client_id"),
    [
        ({"client_id": "c1", "cid": "c2", "azp": "c3"}, "c1"),
        ({"cid": "c2", "azp": "c3"}, "c2"),
        ({"azp": "c3"}, "c3"),
        ({"client_id": 5}, None),
    ],
)
def test_client_id_comes_from_client_id_cid_or_azp(claims: dict[str, Any], client_id: str | None) -> None:
    context = build_context({"sub": "s", "iss": "i", **claims}, frozenset())
    assert context.get("client_id") == client_id


def answer_size(context: dict[str, Any]) -> int:
    """Bytes of the principalId and the context in the answer's JSON (as json.dumps writes them)."""
    return len(json.dumps({"principalId": context["sub"], **context}))


def test_the_context_is_bounded_and_says_when_claims_were_left_out() -> None:
    claims: dict[str, Any] = {"sub": "s", "iss": "i", "huge": "x" * 5_000}
    claims |= {f"claim{index}": "y" * 500 for index in range(20)}
    context = build_context(claims, frozenset())
    assert "huge" not in context
    assert context["context_truncated"] is True
    assert answer_size(context) <= MAX_CONTEXT_BYTES
    assert all(isinstance(value, (str, int, float, bool)) for value in context.values())


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "s" * 1_400, "iss": "i" * 400, "client_id": "c" * 200, "other": "o" * 1_000},
        {"sub": "s", "iss": "i", "note": "\u0001" * 1_000, "more": "é" * 600, "yet": '"' * 900},
        {"sub": "\u00e9" * 200, "iss": "i", **{f"n{index}": 2**60 + index for index in range(200)}},
    ],
    ids=["large required members", "escaped characters", "many members"],
)
def test_every_member_and_the_principal_id_count_against_the_bound(claims: dict[str, Any]) -> None:
    context = build_context(claims, frozenset({"messages:read", "x" * 200}))
    assert answer_size(context) <= MAX_CONTEXT_BYTES
    assert (context["sub"], context["iss"]) == (claims["sub"], claims["iss"])


@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({"sub": "s" * 6_000, "iss": "i"}, frozenset()),
        ({"sub": "s" * 2_100, "iss": "i"}, frozenset()),  # also the principalId: twice in the answer
        ({"sub": "s", "iss": "i"}, frozenset(f"group-{index:04}" for index in range(400))),
        ({"sub": "s", "iss": "i" * 1_500, "client_id": "c" * 1_500, "azp": "a"}, frozenset({"r" * 1_100})),
    ],
    ids=["a 6,000-character sub", "a 2,100-character sub", "400 granted names", "together"],
)
def test_required_members_that_do_not_fit_refuse_the_token_with_their_own_reason(
    claims: dict[str, Any], scopes: frozenset[str]
) -> None:
    with pytest.raises(TokenRejected) as raised:
        build_context(claims, scopes)
    assert raised.value.reason == Reason.CONTEXT_TOO_LARGE
    assert "bytes" in raised.value.detail


def test_required_members_that_just_fit_are_passed_on_whole() -> None:
    claims = {"sub": "s" * 1_900, "iss": "https://issuer.example.com", "client_id": "c"}
    context = build_context(claims, frozenset({"messages:read"}))
    assert context["sub"] == claims["sub"]
    assert answer_size(context) <= MAX_CONTEXT_BYTES


@pytest.mark.parametrize(
    ("value", "travels_as"),
    [
        (2**53 - 1, 2**53 - 1),
        (-(2**53 - 1), -(2**53 - 1)),
        (2**53, "9007199254740992"),
        (-(2**53) - 1, "-9007199254740993"),
        (10**999, "1" + "0" * 999),
        (1.5, 1.5),
        (1e300, 1e300),
        (
            {"n": 2**64, "list": [1, -(2**70)]},
            '{"list":[1,"-1180591620717411303424"],"n":"18446744073709551616"}',
        ),
    ],
)
def test_integers_no_json_reader_holds_exactly_travel_as_their_digits(value: Any, travels_as: Any) -> None:
    context = build_context({"sub": "s", "iss": "i", "number": value}, frozenset())
    assert context["number"] == travels_as
    assert type(context["number"]) is type(travels_as)


def test_claims_cannot_overwrite_the_derived_context_keys() -> None:
    claims = {
        "sub": "s",
        "iss": "i",
        "scp": ["a"],
        "scope": "b c",
        "scopes": '["admin"]',
        "client_id": ["not", "a", "string"],
        "azp": "real",
        "principalId": "someone-else",
        "integrationLatency": 0,
        "context_truncated": False,
    }
    context = build_context(claims, scopes_of(claims))
    assert context == {"sub": "s", "iss": "i", "scopes": '["a","b","c"]', "client_id": "real", "azp": "real"}
