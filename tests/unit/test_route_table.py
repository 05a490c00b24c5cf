"""ROUTE_SCOPES, the one route table the authorizer and the protected function share."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from jwt_authorizer import MethodArn, build_policy
from local.apigateway import Decision, evaluate_policy
from route_table import Route, RouteTable, RouteTableError, first_match, stage_resources
from tests.support.api_events import ROUTE_SCOPES as TEMPLATE_ROUTE_SCOPES

pytestmark = pytest.mark.unit

STAGE = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev"
TABLE = RouteTable.parse(
    json.dumps(
        {
            "GET /messages": ["messages:read"],
            "POST /messages": ["messages:write"],
            "GET /messages/{id}": ["messages:read"],
            "DELETE /messages/{id}": ["messages:write", "messages:admin"],
            "ANY /admin/{proxy+}": ["admin"],
            "* /reports": ["reports"],
        }
    )
)


def test_each_route_is_parsed_with_its_method_path_and_scopes() -> None:
    table = RouteTable.parse('{"GET /a/{id}": ["read", "base"], "ANY /b": [], "* /c": ["c"]}')

    assert table == RouteTable(
        (
            Route("GET", "/a/{id}", frozenset({"read", "base"})),
            Route("*", "/b", frozenset()),
            Route("*", "/c", frozenset({"c"})),
        )
    )
    assert [route.key for route in table] == ["GET /a/{id}", "* /b", "* /c"]
    assert len(table) == 3


def test_an_empty_value_is_an_empty_table() -> None:
    assert RouteTable.parse("  ") == RouteTable()
    assert RouteTable.parse("").required("GET", "/a") == frozenset()
    assert RouteTable.parse("").scopes == frozenset()


def test_the_scopes_of_the_table_are_every_scope_some_route_requires() -> None:
    assert TABLE.scopes == {"messages:read", "messages:write", "messages:admin", "admin", "reports"}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{", "is not valid JSON"),
        ('["GET /a"]', 'must be a JSON object like {"GET /path": ["scope"]}'),
        ('{"/a": ["x"]}', "'/a' is not \"METHOD /path\" (METHOD an HTTP method, ANY or *)"),
        ('{"get /a": ["x"]}', "'get /a' is not \"METHOD /path\""),
        ('{"FETCH /a": ["x"]}', "'FETCH /a' is not \"METHOD /path\""),
        ('{"GET a": ["x"]}', "'GET a' is not \"METHOD /path\""),
        ('{"GET /a b": ["x"]}', "'GET /a b' is not \"METHOD /path\""),
        ('{"GET /a": "x"}', "'GET /a' must map to a list of scope names"),
        ('{"GET /a": [1]}', "'GET /a' must map to a list of scope names"),
        ('{"GET /a": ["two words"]}', "'GET /a' must map to a list of scope names"),
        ('{"GET /a": ["quo\\"te"]}', "'GET /a' must map to a list of scope names"),
    ],
)
def test_a_malformed_table_is_refused_with_a_message_naming_the_variable(raw: str, problem: str) -> None:
    with pytest.raises(RouteTableError) as raised:
        RouteTable.parse(raw)

    assert problem in raised.value.problem
    assert str(raised.value) == f"ROUTE_SCOPES: {raised.value.problem}"
    assert isinstance(raised.value, ValueError)


def test_a_route_matches_its_method_and_any_value_of_its_path_parameters() -> None:
    by_id = Route("GET", "/messages/{id}", frozenset())

    assert by_id.matches("GET", "/messages/42")
    assert by_id.matches("get", "messages/42")  # as a methodArn ends: no leading slash
    assert by_id.matches("GET", "/messages/{id}")  # the template resource a proxy event carries
    assert not by_id.matches("DELETE", "/messages/42")
    assert not by_id.matches("GET", "/messages")
    assert not by_id.matches("GET", "/messagesX/42")


def test_a_route_covers_what_its_iam_resource_covers() -> None:
    # IAM's `*` matches any run of characters, slashes included: the Deny a route becomes covers these.
    assert Route("GET", "/messages/{id}", frozenset()).matches("GET", "/messages/42/replies")
    assert Route("*", "/admin/{proxy+}", frozenset()).matches("DELETE", "/admin/users/7")
    assert Route("*", "/reports", frozenset()).matches("POST", "/reports")
    assert not Route("GET", "/messages", frozenset()).matches("GET", "/messages/42")


def test_the_scopes_a_request_needs_are_those_of_every_route_covering_it() -> None:
    table = RouteTable.parse('{"GET /a/{id}": ["read"], "ANY /a/{id}": ["base"], "* /b": ["b"]}')

    assert table.required("GET", "/a/{id}") == {"read", "base"}
    assert table.required("GET", "/a/7") == {"read", "base"}
    assert table.required("post", "/a/{id}") == {"base"}
    assert table.required("DELETE", "/b") == {"b"}
    assert table.required("GET", "/c") == frozenset()


def test_the_routes_a_scope_set_is_denied_are_those_needing_a_scope_it_lacks() -> None:
    denied = TABLE.denied(frozenset({"messages:read", "messages:write"}))

    assert [route.key for route in denied] == ["DELETE /messages/{id}", "* /admin/{proxy+}", "* /reports"]
    assert TABLE.denied(TABLE.scopes) == ()
    assert TABLE.denied(frozenset({"Messages:Read"})) == TABLE.routes  # scopes are exact tokens


def test_the_policy_resources_of_a_stage_allow_everything_and_deny_each_denied_route() -> None:
    denied = TABLE.denied(frozenset({"messages:read"}))

    assert stage_resources(STAGE, denied) == (
        f"{STAGE}/*/*",
        (
            f"{STAGE}/*/admin/*",
            f"{STAGE}/*/reports",
            f"{STAGE}/DELETE/messages/*",
            f"{STAGE}/POST/messages",
        ),
    )
    assert stage_resources(STAGE, ()) == (f"{STAGE}/*/*", ())


def test_the_first_matching_route_is_the_one_a_request_is_denied_by() -> None:
    denied = TABLE.denied(frozenset())

    assert first_match(denied, "DELETE", "messages/42") == Route(
        "DELETE", "/messages/{id}", frozenset({"messages:write", "messages:admin"})
    )
    assert first_match(denied, "GET", "profile") is None


def _request_paths(route: Route) -> list[str]:
    # A concrete path for the route, and the template resource the proxy event names.
    concrete = re.sub(r"\{[^/{}]+\}", "42", route.path)
    return [concrete] if concrete == route.path else [concrete, route.path]


#: This module's table, and the one the template deploys.
TABLES = {"wide": TABLE, "template": RouteTable.parse(TEMPLATE_ROUTE_SCOPES)}


@pytest.mark.parametrize(
    ("table", "route"),
    [(table, route) for table in TABLES.values() for route in table],
    ids=[f"{name}: {route.key}" for name, table in TABLES.items() for route in table],
)
def test_the_authorizers_deny_and_the_functions_recheck_agree_for_every_scope_set(
    table: RouteTable, route: Route
) -> None:
    methods = ["GET", "POST", "DELETE"] if route.method == "*" else [route.method]
    scope_sets = [
        frozenset(chosen)
        for size in range(len(table.scopes) + 1)
        for chosen in itertools.combinations(sorted(table.scopes), size)
    ]
    for scopes, method in itertools.product(scope_sets, methods):
        for path in _request_paths(route):
            method_arn = f"{STAGE}/{method}/{path.lstrip('/')}"
            # The authorizer: the stage's policy for this token, as API Gateway evaluates it.
            policy = build_policy(MethodArn.parse(method_arn), table.denied(scopes))
            authorizer_allows = evaluate_policy(policy, method_arn) is Decision.ALLOW
            # The protected function: the same table, for the request the gateway passes on.
            function_allows = table.required(method, path) <= scopes

            assert authorizer_allows == function_allows, (method, path, sorted(scopes))
            if not route.scopes <= scopes:
                assert not authorizer_allows, (method, path, sorted(scopes))
