"""API Gateway's rules as the local gateway applies them: policy evaluation, validation expression,
authorizer results, the result cache and gateway responses."""

from __future__ import annotations

import re
from typing import Any

import pytest

from devkit.clock import FakeClock
from local.apigateway import (
    AuthorizerCache,
    AuthorizerConfigurationError,
    AuthorizerResult,
    Decision,
    GatewayResponse,
    GatewayResponses,
    evaluate_policy,
    identity_is_acceptable,
    method_arn,
    render_template,
)

STAGE = "arn:aws:execute-api:us-east-1:123456789012:api1/dev"
GET_MESSAGES = f"{STAGE}/GET/messages"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(resource: str | list[str], action: str = "execute-api:Invoke") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(resource: str | list[str]) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": resource}


# Policy evaluation -------------------------------------------------------------------------------------


def test_method_arn_names_the_actual_path_under_the_stage() -> None:
    assert method_arn("api1", "dev", "GET", "/messages/42") == (
        "arn:aws:execute-api:us-east-1:123456789012:api1/dev/GET/messages/42"
    )
    assert method_arn("api1", "dev", "GET", "/") == "arn:aws:execute-api:us-east-1:123456789012:api1/dev/GET/"


@pytest.mark.parametrize(
    ("resource", "decision"),
    [
        (f"{STAGE}/*/*", Decision.ALLOW),
        (f"{STAGE}/*", Decision.ALLOW),  # `*` runs across `/`
        ("arn:aws:execute-api:*:*:*", Decision.ALLOW),
        ("*", Decision.ALLOW),
        (f"{STAGE}/GET/messages", Decision.ALLOW),
        (f"{STAGE}/GET/messag?s", Decision.ALLOW),
        (f"{STAGE}/POST/*", Decision.IMPLICIT_DENY),
        (f"{STAGE}/GET/profile", Decision.IMPLICIT_DENY),
        (f"{STAGE}/get/messages", Decision.IMPLICIT_DENY),  # resources are case-sensitive
        (f"{STAGE}/GET/messages/*", Decision.IMPLICIT_DENY),
        ("arn:aws:execute-api:us-east-1:123456789012:api1/prod/*/*", Decision.IMPLICIT_DENY),
    ],
)
def test_allow_statement_matches_resources_with_iam_wildcards(resource: str, decision: Decision) -> None:
    assert evaluate_policy(policy(allow(resource)), GET_MESSAGES) is decision


def test_a_resource_wildcard_matches_any_character_even_a_newline() -> None:
    # IAM's `*` is any run of characters: a percent-decoded newline in a path is no exception.
    odd_path = f"{STAGE}/GET/messages/a%0Ab".replace("%0A", "\n")
    assert evaluate_policy(policy(allow(f"{STAGE}/*/*")), odd_path) is Decision.ALLOW
    assert evaluate_policy(policy(allow("*"), deny(f"{STAGE}/GET/messages/*")), odd_path) is (
        Decision.EXPLICIT_DENY
    )


def test_explicit_deny_wins_over_any_allow_whatever_the_order() -> None:
    assert evaluate_policy(policy(deny(f"{STAGE}/GET/*"), allow("*")), GET_MESSAGES) is Decision.EXPLICIT_DENY
    assert evaluate_policy(
        policy(allow("*"), deny([f"{STAGE}/POST/messages", GET_MESSAGES])), GET_MESSAGES
    ) is (Decision.EXPLICIT_DENY)


def test_a_deny_for_another_route_leaves_the_allow() -> None:
    assert evaluate_policy(policy(allow(f"{STAGE}/*/*"), deny(f"{STAGE}/POST/messages")), GET_MESSAGES) is (
        Decision.ALLOW
    )


@pytest.mark.parametrize(
    ("action", "decision"),
    [
        ("execute-api:Invoke", Decision.ALLOW),
        ("execute-api:*", Decision.ALLOW),
        ("*", Decision.ALLOW),
        ("EXECUTE-API:invoke", Decision.ALLOW),  # IAM actions are case-insensitive
        ("execute-api:ManageConnections", Decision.IMPLICIT_DENY),
        ("s3:GetObject", Decision.IMPLICIT_DENY),
    ],
)
def test_only_statements_about_invoke_count(action: str, decision: Decision) -> None:
    assert evaluate_policy(policy(allow("*", action=action)), GET_MESSAGES) is decision


def test_a_single_statement_object_is_accepted() -> None:
    assert evaluate_policy({"Version": "2012-10-17", "Statement": allow("*")}, GET_MESSAGES) is Decision.ALLOW


@pytest.mark.parametrize(
    "document",
    [
        {"Version": "2012-10-17"},
        policy(),
        policy({"Effect": "Maybe", "Action": "execute-api:Invoke", "Resource": "*"}),
        policy({"Effect": "Allow", "Resource": "*"}),
        policy({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": []}),
        policy({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": [1]}),
        {"Statement": "Allow"},
    ],
)
def test_a_malformed_policy_is_a_configuration_error(document: dict[str, Any]) -> None:
    with pytest.raises(AuthorizerConfigurationError):
        evaluate_policy(document, GET_MESSAGES)


# The identity header and its validation expression -------------------------------------------------------

BEARER = re.compile(r"^[Bb][Ee][Aa][Rr][Ee][Rr] [-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+$")


@pytest.mark.parametrize(
    ("value", "acceptable"),
    [
        ("Bearer aaa.bbb.ccc", True),
        ("bEaReR aaa.bbb.ccc", True),
        (None, False),
        ("", False),
        ("   ", False),
        ("Basic dXNlcjpwYXNz", False),
        ("Bearer aaa.bbb", False),
        ("Bearer aaa.bbb.ccc extra", False),
        ("Bearer  aaa.bbb.ccc", False),
        ("Bearer aaa.bbb.ccc\n", False),  # the whole value must match, not a prefix
    ],
)
def test_validation_expression_must_match_the_whole_header(value: str | None, acceptable: bool) -> None:
    assert identity_is_acceptable(value, BEARER) is acceptable


def test_an_unanchored_expression_still_has_to_match_the_whole_value() -> None:
    assert identity_is_acceptable("xBearer abc", re.compile("Bearer [a-z]+")) is False


def test_without_an_expression_any_non_empty_header_goes_to_the_authorizer() -> None:
    assert identity_is_acceptable("anything at all", None) is True
    assert identity_is_acceptable("", None) is False


# Authorizer results --------------------------------------------------------------------------------------


def test_result_context_is_stringified_for_the_proxy_event_with_principal_and_latency() -> None:
    result = AuthorizerResult.parse(
        {
            "principalId": "user-1",
            "policyDocument": policy(allow("*")),
            "context": {"sub": "user-1", "admin": False, "count": 2, "ratio": 0.5, "nothing": None},
        }
    )

    assert result.request_context(7) == {
        "sub": "user-1",
        "admin": "false",
        "count": "2",
        "ratio": "0.5",
        "nothing": None,
        "principalId": "user-1",
        "integrationLatency": 7,
    }


@pytest.mark.parametrize(
    "result",
    [
        "Allow",
        {"policyDocument": policy(allow("*"))},
        {"principalId": "", "policyDocument": policy(allow("*"))},
        {"principalId": "u", "policyDocument": "Allow"},
        {"principalId": "u", "policyDocument": policy()},
        {"principalId": "u", "policyDocument": policy(allow("*")), "context": ["a"]},
        {"principalId": "u", "policyDocument": policy(allow("*")), "context": {"groups": ["a", "b"]}},
        {"principalId": "u", "policyDocument": policy(allow("*")), "context": {"claims": {"a": 1}}},
    ],
    ids=[
        "not-an-object",
        "no-principal",
        "empty-principal",
        "policy-not-object",
        "no-statements",
        "context-list",
        "context-value-list",
        "context-value-object",
    ],
)
def test_results_api_gateway_cannot_use_are_configuration_errors(result: object) -> None:
    with pytest.raises(AuthorizerConfigurationError):
        AuthorizerResult.parse(result)


# The result cache ------------------------------------------------------------------------------------


def result_for(principal: str) -> AuthorizerResult:
    return AuthorizerResult(principal, policy(allow("*")))


def test_cache_keeps_a_result_per_identity_for_the_ttl() -> None:
    clock = FakeClock()
    cache: AuthorizerCache[str, AuthorizerResult] = AuthorizerCache(300, clock)
    cache.put("Bearer a", result_for("a"))
    cache.put("Bearer b", result_for("b"))

    clock.advance(299.9)
    assert cache.get("Bearer a") == result_for("a")
    assert cache.get("Bearer b") == result_for("b")
    assert cache.get("Bearer c") is None
    clock.advance(0.1)
    assert cache.get("Bearer a") is None


def test_a_ttl_of_zero_turns_the_cache_off() -> None:
    cache: AuthorizerCache[str, AuthorizerResult] = AuthorizerCache(0, FakeClock())
    cache.put("Bearer a", result_for("a"))

    assert cache.get("Bearer a") is None


# Gateway responses --------------------------------------------------------------------------------------


def render(
    configured: dict[str, GatewayResponse], response_type: str, message: str | None
) -> tuple[Any, ...]:
    rendered = GatewayResponses(configured).render(
        response_type, message, {"requestId": "req-1"}, {"X-Trace": "t-9"}, {"q": "1"}
    )
    return rendered.status, rendered.headers, rendered.body


def test_without_configuration_api_gateways_default_responses_are_used() -> None:
    assert render({}, "UNAUTHORIZED", "Unauthorized") == (
        401,
        {"Content-Type": "application/json"},
        '{"message":"Unauthorized"}',
    )
    assert render({}, "AUTHORIZER_FAILURE", None) == (
        500,
        {"Content-Type": "application/json"},
        '{"message":null}',
    )


def test_a_configured_response_sets_status_headers_and_body_with_context_variables() -> None:
    configured = {
        "UNAUTHORIZED": GatewayResponse.from_extension(
            {
                "statusCode": "401",
                "responseParameters": {
                    "gatewayresponse.header.WWW-Authenticate": "'Bearer error=\"invalid_token\"'",
                    "gatewayresponse.header.X-Trace": "method.request.header.x-trace",
                    "gatewayresponse.header.X-Q": "method.request.querystring.q",
                },
                "responseTemplates": {
                    "application/json": '{"m": $context.error.messageString, "id": "${context.requestId}"}'
                },
            }
        )
    }

    assert render(configured, "UNAUTHORIZED", "Unauthorized") == (
        401,
        {
            "Content-Type": "application/json",
            "WWW-Authenticate": 'Bearer error="invalid_token"',
            "X-Trace": "t-9",
            "X-Q": "1",
        },
        '{"m": "Unauthorized", "id": "req-1"}',
    )


def test_default_4xx_and_5xx_stand_in_for_types_not_configured() -> None:
    configured = {
        "DEFAULT_5XX": GatewayResponse(
            status=None, templates={"application/json": "$context.error.responseType"}
        ),
        "DEFAULT_4XX": GatewayResponse(status=None, headers={"X-Family": "'4xx'"}),
    }

    assert render(configured, "AUTHORIZER_CONFIGURATION_ERROR", None)[::2] == (
        500,
        "AUTHORIZER_CONFIGURATION_ERROR",
    )
    assert render(configured, "ACCESS_DENIED", "Denied") == (
        403,
        {"Content-Type": "application/json", "X-Family": "4xx"},
        '{"message":"Denied"}',
    )


def test_templates_render_unknown_context_variables_empty() -> None:
    assert render_template('{"a": "$context.nothing.here", "b": $context.n}', {"n": 3}) == '{"a": "", "b": 3}'
