"""API Gateway's answer: one stage-wide policy, and the claims flattened into the context."""

from __future__ import annotations

from typing import Any

import pytest

from jwt_authorizer.method_arn import MethodArn
from jwt_authorizer.policy import MAX_CONTEXT_CHARS, build_context, build_policy
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
        "scope": "messages:read messages:write",
        "client_id": "okta-client",
        "aud": "api://a,api://b",
        "scp": "messages:write,messages:read",
        "cid": "okta-client",
        "exp": 1_800_000_300,
        "auth_time": 1.5,
        "email_verified": True,
        "cognito:groups": "admins,readers",
        "realm_access": '{"roles":["r1"]}',
        "mixed": '[1,"a"]',
    }


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


def test_the_context_is_bounded_and_says_when_claims_were_left_out() -> None:
    claims: dict[str, Any] = {"sub": "s", "iss": "i", "huge": "x" * 5_000}
    claims |= {f"claim{index}": "y" * 500 for index in range(20)}
    context = build_context(claims, frozenset())
    assert "huge" not in context
    assert context["context_truncated"] is True
    assert sum(len(key) + len(str(value)) for key, value in context.items()) <= MAX_CONTEXT_CHARS + 30
    assert all(isinstance(value, (str, int, float, bool)) for value in context.values())


def test_claims_cannot_overwrite_the_derived_context_keys() -> None:
    claims = {"sub": "s", "iss": "i", "scp": ["a"], "client_id": ["not", "a", "string"], "azp": "real"}
    context = build_context(claims, scopes_of(claims))
    assert (context["scope"], context["client_id"]) == ("a", "real")
