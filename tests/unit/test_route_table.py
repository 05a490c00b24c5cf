"""ROUTE_SCOPES, the one route table the authorizer and the protected function share."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    denied = TABLE.denied(frozenset({"messages:read", "admin", "reports"}))

    assert stage_resources(STAGE, denied) == (
        f"{STAGE}/*/*",
        (
            f"{STAGE}/DELETE/*%*",
            f"{STAGE}/DELETE/*//*",
            f"{STAGE}/DELETE//*",
            f"{STAGE}/DELETE/messages/*",
            f"{STAGE}/POST/*%*",
            f"{STAGE}/POST/*//*",
            f"{STAGE}/POST//*",
            f"{STAGE}/POST/messages",
            f"{STAGE}/POST/messages/",
        ),
    )
    assert stage_resources(STAGE, ()) == (f"{STAGE}/*/*", ())


def test_a_denied_route_of_any_method_spares_the_policy_the_odd_spellings_of_each_method() -> None:
    denied = TABLE.denied(frozenset({"messages:read", "messages:write", "messages:admin", "admin"}))

    assert stage_resources(STAGE, denied) == (
        f"{STAGE}/*/*",
        (f"{STAGE}/*/*%*", f"{STAGE}/*/*//*", f"{STAGE}/*//*", f"{STAGE}/*/reports", f"{STAGE}/*/reports/"),
    )


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


# Spellings ----------------------------------------------------------------------------------------------
#
# A REST API routes `/orders/` to `POST /orders` and `//orders` too (docs/security.md, "Routes and their
# spellings"); whether it routes doubled slashes further on, or percent-encoded letters and slashes, is not
# known. The method ARN carries the spelling the client sent. Every one of them must be denied wherever the
# route's own spelling is, by the authorizer's policy and by the function's re-check alike.


def _spellings(route: Route) -> dict[str, str]:
    """The route's path as a method ARN ends with it, spelled in each way a client can send it."""
    path = re.sub(r"\{[^/{}]+\}", "42", route.path).removeprefix("/")
    first, _, rest = path.partition("/")
    return {
        "trailing slash": f"{path}/",
        "two trailing slashes": f"{path}//",
        "leading doubled slash": f"/{path}",
        "leading tripled slash": f"//{path}",
        "doubled slash inside": f"{first}//{rest}" if rest else f"{first}//",
        "percent-encoded letter": f"%{ord(path[0]):02X}{path[1:]}",
        "lowercase percent-encoding": f"%{ord(path[0]):02x}{path[1:]}",
        "encoded slash": f"{first}%2F{rest}" if rest else f"{first}%2F",
        "encoded trailing slash": f"{path}%2f",
    }


@pytest.mark.parametrize(
    ("table", "route"),
    [(table, route) for table in TABLES.values() for route in table if route.scopes],
    ids=[f"{name}: {route.key}" for name, table in TABLES.items() for route in table if route.scopes],
)
def test_every_spelling_api_gateway_may_route_to_a_denied_route_is_denied(
    table: RouteTable, route: Route
) -> None:
    # Given a token with every scope but the route's own
    scopes = table.scopes - route.scopes
    for method in ["GET", "POST", "DELETE"] if route.method == "*" else [route.method]:
        for spelling, path in _spellings(route).items():
            method_arn = f"{STAGE}/{method}/{path}"
            policy = build_policy(MethodArn.parse(method_arn), table.denied(scopes))

            request_path = MethodArn.parse(method_arn).request_path
            assert evaluate_policy(policy, method_arn) is Decision.EXPLICIT_DENY, (spelling, method_arn)
            assert not table.required(method, request_path) <= scopes, (spelling, method_arn)
            assert first_match(table.denied(scopes), method, request_path) is not None, (spelling, method_arn)


def test_the_odd_spellings_of_a_method_are_denied_only_to_a_token_denied_a_route_of_that_method() -> None:
    reader = TABLE.denied(frozenset({"messages:read", "admin", "reports"}))  # denied POST and DELETE only
    arn = f"{STAGE}/GET/messages/a%20b"
    assert evaluate_policy(build_policy(MethodArn.parse(arn), reader), arn) is Decision.ALLOW
    arn = f"{STAGE}/GET//messages"
    assert evaluate_policy(build_policy(MethodArn.parse(arn), reader), arn) is Decision.ALLOW
    arn = f"{STAGE}/POST/messages%2F"
    assert evaluate_policy(build_policy(MethodArn.parse(arn), reader), arn) is Decision.EXPLICIT_DENY


def test_letter_case_is_not_a_spelling_of_a_route() -> None:
    # REST API resource paths are case-sensitive: /Orders never reaches /orders (docs/security.md).
    orders = Route("POST", "/orders", frozenset({"orders:write"}))

    assert not orders.matches("POST", "Orders")
    assert not orders.matches("POST", "ORDERS/")
    assert orders.matches("POST", "orders/")


@dataclass(frozen=True)
class _Spelled:
    table: RouteTable
    route: Route
    method: str
    path: str  # as a method ARN ends with it
    scopes: frozenset[str]  # the token's
    same_letters: bool  # no letter's case changed: API Gateway may route it to `route`


@st.composite
def _spelled_requests(draw: st.DrawFn) -> _Spelled:
    """A route of a table, its path spelled any way a client can, and a token's scopes."""
    table = draw(st.sampled_from(list(TABLES.values())))
    route = draw(st.sampled_from(table.routes))
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"])) if route.method == "*" else route.method
    segments = re.sub(r"\{[^/{}]+\}", "42", route.path).strip("/").split("/")
    spelled, same_letters = [], True
    for segment in segments:
        for char in segment:
            kind = draw(st.sampled_from(["as is"] * 6 + ["upper", "%XX", "%xx"]))
            same_letters &= kind != "upper" or char.upper() == char
            spelled.append(
                {
                    "as is": char,
                    "upper": char.upper(),
                    "%XX": f"%{ord(char):02X}",
                    "%xx": f"%{ord(char):02x}",
                }[kind]
            )
        # Separators: one slash mostly, or more, or an encoded one.
        spelled.append(draw(st.sampled_from(["/"] * 6 + ["//", "%2F", "/%2f"])))
    leading = draw(st.sampled_from(["", "", "", "/", "//"]))
    trailing = draw(st.sampled_from(["", "", "/", "//", "%2F"]))
    path = leading + "".join(spelled[:-1]) + trailing
    scopes = draw(st.frozensets(st.sampled_from(sorted(table.scopes))))
    return _Spelled(table, route, method, path, scopes, same_letters)


@settings(max_examples=500, deadline=None)  # about 1 ms each: the spellings are many
@given(_spelled_requests())
def test_the_authorizer_and_the_function_agree_on_every_spelling(request: _Spelled) -> None:
    method_arn = f"{STAGE}/{request.method}/{request.path}"

    policy = build_policy(MethodArn.parse(method_arn), request.table.denied(request.scopes))
    authorizer_allows = evaluate_policy(policy, method_arn) is Decision.ALLOW
    request_path = MethodArn.parse(method_arn).request_path  # the path as the client spelled it
    function_allows = request.table.required(request.method, request_path) <= request.scopes

    assert authorizer_allows == function_allows
    if request.same_letters and not request.route.scopes <= request.scopes:
        assert not authorizer_allows
