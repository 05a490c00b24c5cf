"""template.yaml, translated offline by aws-sam-translator and linted by cfn-lint: the wiring of the stack.

The translation is what `sam deploy` hands CloudFormation, so these tests read the API Gateway definition
(OpenAPI body, authorizer, gateway responses) and the Lambda functions as they will really be created.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint
from samtranslator.yaml_helper import yaml_parse

from devkit.jwks_server import JwksServer
from devkit.tokens import AUDIENCE, SigningKey, claims_for, jwks_of, mint, rsa_key
from jwt_authorizer import (
    AuthorizerService,
    CloudWatchTelemetry,
    EmfMetrics,
    Settings,
    TokenRejected,
    bearer_token,
    build_authorizer,
)
from messages_api.errors import NotTheAuthor
from messages_api.identity import Identity
from messages_api.messages import Message
from messages_api.store import INDEX_NAME, MessageStore
from route_table import Route, RouteTable
from tests.support.api_events import EVENTS_DIR, ROUTE_SCOPES, load_event
from tests.support.policies import denied_resources
from tools import stack_options

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
PROVIDER = {"IssuerUrl": "https://issuer.example.com", "Audience": AUDIENCE}
FUNCTIONS = ("AuthorizerFunction", "PublicFunction", "ProtectedFunction")
PSEUDO_PARAMETERS = {
    "AWS::StackName": "messages",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
}


@cache
def source() -> dict[str, Any]:
    template: dict[str, Any] = yaml_parse(TEMPLATE_PATH.read_text())
    return template


def translate(**parameters: str) -> dict[str, Any]:
    """The CloudFormation template `sam deploy` would create, for these parameter values."""
    return stack_options.translate(source(), {**PROVIDER, **parameters})


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    return translate()


def resources_of_type(stack: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in stack["Resources"].items() if r["Type"] == resource_type}


def openapi(stack: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = stack["Resources"]["MessagesApi"]["Properties"]["Body"]
    return body


def jwt_authorizer(stack: dict[str, Any]) -> dict[str, Any]:
    scheme: dict[str, Any] = openapi(stack)["components"]["securitySchemes"]["JwtAuthorizer"]
    return scheme


#: What `Ref: AWS::NoValue` resolves to: the property is left out.
NO_VALUE = "<AWS::NoValue>"
# What API Gateway invokes and may invoke: with SnapStart the published alias SnapStart snapshots, else the
# function (an alias there would hide the authorizer from `sam local start-api`).
INVOKED_AUTHORIZER = {
    "Fn::If": [
        "SnapStartEnabled",
        {"Ref": "AuthorizerFunctionAliaslive"},
        {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]},
    ]
}


def resolve(value: Any, parameters: dict[str, str], conditions: dict[str, bool] | None = None) -> Any:
    """Ref, Fn::Sub and Fn::If over parameters, as CloudFormation will resolve them at deploy time."""
    if isinstance(value, dict) and set(value) == {"Fn::If"} and conditions is not None:
        name, if_true, if_false = value["Fn::If"]
        return resolve(if_true if conditions[name] else if_false, parameters, conditions)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return parameters[value["Ref"]]
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        known = parameters | {name: resolve(v, parameters, conditions) for name, v in variables.items()}
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(known[m[1]]), text)
    return value


def environment(stack: dict[str, Any], function: str, **parameters: str) -> dict[str, str]:
    """A function's variables as CloudFormation resolves them; a resource's `Ref` gives its logical id."""
    defaults = {name: str(p.get("Default", "")) for name, p in stack["Parameters"].items()}
    values = {name: name for name in stack["Resources"]} | {"AWS::NoValue": NO_VALUE}
    values |= defaults | PROVIDER | parameters | PSEUDO_PARAMETERS
    variables = stack["Resources"][function]["Properties"]["Environment"]["Variables"]
    defined = stack.get("Conditions", {})
    conditions = {name: holds(condition, values, defined) for name, condition in defined.items()}
    resolved = {name: resolve(value, values, conditions) for name, value in variables.items()}
    return {name: value for name, value in resolved.items() if value is not NO_VALUE}


def holds(condition: Any, parameters: dict[str, str], defined: dict[str, Any] | None = None) -> bool:
    """A template condition for these parameter values, naming the conditions `defined` in the template."""
    return stack_options.holds(condition, lambda argument: str(resolve(argument, parameters)), defined or {})


# Lint ----------------------------------------------------------------------------------------------------


def test_cfn_lint_finds_nothing_in_the_template() -> None:
    matches = lint(TEMPLATE_PATH.read_text(), regions=["us-east-1", "eu-west-1", "us-gov-west-1"])

    assert [str(match) for match in matches] == []


def test_the_template_translates_with_only_the_provider_given() -> None:
    stack = translate()

    assert set(resources_of_type(stack, "AWS::Lambda::Function")) == set(FUNCTIONS)
    assert set(resources_of_type(stack, "AWS::ApiGateway::RestApi")) == {"MessagesApi"}


# The authorizer on the API -------------------------------------------------------------------------------


def test_the_api_uses_the_token_authorizer_on_the_authorization_header(stack: dict[str, Any]) -> None:
    scheme = jwt_authorizer(stack)
    authorizer = scheme["x-amazon-apigateway-authorizer"]

    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert scheme["x-amazon-apigateway-authtype"] == "custom"
    assert authorizer["type"] == "token"
    assert authorizer["authorizerUri"]["Fn::Sub"][1] == {"__FunctionArn__": INVOKED_AUTHORIZER}


def test_the_authorizers_alias_points_at_the_version_each_deploy_publishes(stack: dict[str, Any]) -> None:
    alias = stack["Resources"]["AuthorizerFunctionAliaslive"]
    [(version_id, version)] = resources_of_type(stack, "AWS::Lambda::Version").items()

    assert alias["Type"] == "AWS::Lambda::Alias"
    assert version["Properties"]["FunctionName"] == {"Ref": "AuthorizerFunction"}
    assert alias["Properties"]["FunctionName"] == {"Ref": "AuthorizerFunction"}
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}


@pytest.mark.parametrize(
    ("enabled", "applied"), [(None, "None"), ("false", "None"), ("true", "PublishedVersions")]
)
def test_snapstart_is_off_unless_the_parameter_turns_it_on(
    stack: dict[str, Any], enabled: str | None, applied: str
) -> None:
    defaults = {name: str(p.get("Default", "")) for name, p in stack["Parameters"].items()}
    values = defaults | PROVIDER | PSEUDO_PARAMETERS
    values |= {} if enabled is None else {"EnableSnapStart": enabled}
    defined = stack["Conditions"]
    conditions = {name: holds(condition, values, defined) for name, condition in defined.items()}
    apply_on = stack["Resources"]["AuthorizerFunction"]["Properties"]["SnapStart"]["ApplyOn"]

    assert resolve(apply_on, values, conditions) == applied


@pytest.mark.parametrize(("ttl", "expected"), [(None, 300), ("0", 0), ("60", 60), ("3600", 3600)])
def test_the_authorizer_result_cache_ttl_comes_from_the_parameter(ttl: str | None, expected: int) -> None:
    stack = translate() if ttl is None else translate(AuthorizerCacheTtl=ttl)

    ttl_seconds = jwt_authorizer(stack)["x-amazon-apigateway-authorizer"]["authorizerResultTtlInSeconds"]

    # CloudFormation hands parameter values to the transform as strings; API Gateway reads "60" as 60.
    assert int(ttl_seconds) == expected


def test_the_cache_ttl_parameter_is_bounded_as_api_gateway_is(stack: dict[str, Any]) -> None:
    parameter = stack["Parameters"]["AuthorizerCacheTtl"]

    assert (parameter["Type"], parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (
        "Number",
        300,
        0,
        3600,
    )


@pytest.fixture(scope="module")
def validation_expression(stack: dict[str, Any]) -> re.Pattern[str]:
    return re.compile(jwt_authorizer(stack)["x-amazon-apigateway-authorizer"]["identityValidationExpression"])


def test_the_validation_expression_accepts_a_bearer_jwt_in_any_case(
    validation_expression: re.Pattern[str],
) -> None:
    token = mint(rsa_key("validation"), claims_for("https://issuer.example.com"))

    for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
        assert validation_expression.fullmatch(f"{scheme} {token}")
        assert validation_expression.search(f"{scheme} {token}")  # anchored either way


REFUSED = [
    "Basic dXNlcjpwYXNzd29yZA==",
    "Basic a.b.c",
    "Digest username=a.b.c",
    "Token a.b.c",
    "a.b.c",
    "Bearer",
    "Bearer ",
    "Bearer a.b",
    "Bearer a.b.c.d",
    "Bearer a..c",
    "Bearer .b.c",
    "Bearer  a.b.c",
    "Bearer\ta.b.c",
    " Bearer a.b.c",
    "Bearer a.b.c ",
    "Bearer a.b.c, Bearer a.b.c",
    "Bearer a+b.c.d",
    "Bearer a/b.c.d",
    "Bearer a.b.c=",
    "Bearer a.b.c\n",
    "Bearerx a.b.c",
    "",
]


@pytest.mark.parametrize("header", REFUSED)
def test_the_validation_expression_refuses_everything_but_a_bearer_jwt(
    validation_expression: re.Pattern[str], header: str
) -> None:
    assert validation_expression.fullmatch(header) is None
    assert validation_expression.search(header) is None or header.endswith("\n")


@pytest.mark.parametrize("header", [*REFUSED, "Bearer a.b.c", "bearer x-_.y-_.z-_"])
def test_the_validation_expression_agrees_with_the_authorizers_own_parser(
    validation_expression: re.Pattern[str], header: str
) -> None:
    """A copy the tools force: API Gateway takes the ValidationExpression as a literal of the template, and
    the function cannot read the template at run time (nor the template import the parser)."""
    try:
        bearer_token(header)
        parsed = True
    except TokenRejected:
        parsed = False

    assert (validation_expression.fullmatch(header) is not None) is parsed


def test_the_sample_authorizer_event_passes_the_validation_expression(
    validation_expression: re.Pattern[str],
) -> None:
    assert validation_expression.fullmatch(load_event("authorizer-token.json")["authorizationToken"])


@pytest.fixture
def deployed_authorizer(
    stack: dict[str, Any], jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> tuple[AuthorizerService, SigningKey]:
    """The authorizer configured as the template configures it, its provider's keys served on 127.0.0.1."""
    key = dataclasses.replace(rsa_signing_key, kid="example-key")  # the sample event's kid
    jwks_server.publish(jwks_of(key))
    env = environment(stack, "AuthorizerFunction", JwksUri=jwks_server.base_url + jwks_server.jwks_path)
    telemetry = CloudWatchTelemetry(
        logging.getLogger("tests.authorizer"), EmfMetrics("Tests", "jwt-authorizer")
    )
    return build_authorizer(Settings.from_env(env), telemetry=telemetry), key


def test_the_authorizer_refuses_the_sample_events_placeholder_token_with_unauthorized(
    deployed_authorizer: tuple[AuthorizerService, SigningKey], jwks_server: JwksServer
) -> None:
    service, _ = deployed_authorizer

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        service.handle(load_event("authorizer-token.json"))

    assert jwks_server.jwks_fetches == 1  # it got as far as the signature


def test_the_sample_authorizer_event_with_a_real_token_gets_a_stage_wide_policy(
    deployed_authorizer: tuple[AuthorizerService, SigningKey],
) -> None:
    service, key = deployed_authorizer
    event = load_event("authorizer-token.json")
    claims = claims_for("https://issuer.example.com", sub="user-123", scope="messages:read")
    event["authorizationToken"] = f"Bearer {mint(key, claims)}"

    result = service.handle(event)

    stage = "arn:aws:execute-api:us-east-1:123456789012:1234567890/dev"
    assert result["principalId"] == "user-123"
    assert result["policyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{stage}/*/*"},
            {
                "Action": "execute-api:Invoke",
                "Effect": "Deny",
                "Resource": denied_resources(stage, "DELETE/messages/*", "POST/messages"),
            },
        ],
    }


def test_api_gateway_may_invoke_the_authorizer_only_for_this_api(stack: dict[str, Any]) -> None:
    permission = stack["Resources"]["MessagesApiJwtAuthorizerAuthorizerPermission"]["Properties"]

    assert permission["FunctionName"] == INVOKED_AUTHORIZER
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"][0].endswith("${__ApiId__}/authorizers/*")
    assert permission["SourceArn"]["Fn::Sub"][1] == {"__ApiId__": {"Ref": "MessagesApi"}}


# Routes --------------------------------------------------------------------------------------------------


def test_only_public_and_the_resource_metadata_are_open_and_every_other_route_uses_the_jwt_authorizer(
    stack: dict[str, Any],
) -> None:
    routes = {
        (method.upper(), path): (
            operation["security"],
            operation["x-amazon-apigateway-integration"]["type"],
            re.search(r"\$\{(\w+)\.Arn\}", operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"])[1],  # type: ignore[index]
        )
        for path, operations in openapi(stack)["paths"].items()
        for method, operation in operations.items()
    }

    assert routes == {
        ("GET", "/public"): ([{"NONE": []}], "aws_proxy", "PublicFunction"),
        ("GET", "/.well-known/oauth-protected-resource"): ([{"NONE": []}], "aws_proxy", "PublicFunction"),
        ("GET", "/profile"): ([{"JwtAuthorizer": []}], "aws_proxy", "ProtectedFunction"),
        ("GET", "/messages"): ([{"JwtAuthorizer": []}], "aws_proxy", "ProtectedFunction"),
        ("POST", "/messages"): ([{"JwtAuthorizer": []}], "aws_proxy", "ProtectedFunction"),
        ("GET", "/messages/{id}"): ([{"JwtAuthorizer": []}], "aws_proxy", "ProtectedFunction"),
        ("DELETE", "/messages/{id}"): ([{"JwtAuthorizer": []}], "aws_proxy", "ProtectedFunction"),
    }


def test_every_sample_proxy_event_is_a_route_of_the_api(stack: dict[str, Any]) -> None:
    paths = openapi(stack)["paths"]
    for path in EVENTS_DIR.glob("*.json"):
        event = json.loads(path.read_text())
        if "httpMethod" in event:
            assert event["httpMethod"].lower() in paths[event["resource"]], path.name


# ROUTE_SCOPES: one table, read by the authorizer and the protected function ------------------------------


def test_the_authorizer_and_the_protected_function_read_the_same_route_scopes(stack: dict[str, Any]) -> None:
    authorizer = environment(stack, "AuthorizerFunction")["ROUTE_SCOPES"]

    assert authorizer == ROUTE_SCOPES
    assert environment(stack, "ProtectedFunction")["ROUTE_SCOPES"] == authorizer
    assert set(RouteTable.parse(authorizer)) == {
        Route("GET", "/messages", frozenset({"messages:read"})),
        Route("POST", "/messages", frozenset({"messages:write"})),
        Route("GET", "/messages/{id}", frozenset({"messages:read"})),
        Route("DELETE", "/messages/{id}", frozenset({"messages:write"})),
    }


def test_the_scope_parameters_change_the_table_for_both_readers(stack: dict[str, Any]) -> None:
    scopes = {"ReadScope": "api://messages/Messages.Read", "WriteScope": "messages/write"}

    authorizer = environment(stack, "AuthorizerFunction", **scopes)["ROUTE_SCOPES"]

    assert environment(stack, "ProtectedFunction", **scopes)["ROUTE_SCOPES"] == authorizer
    assert json.loads(authorizer) == {
        "GET /messages": ["api://messages/Messages.Read"],
        "POST /messages": ["messages/write"],
        "GET /messages/{id}": ["api://messages/Messages.Read"],
        "DELETE /messages/{id}": ["messages/write"],
    }


def test_every_route_in_route_scopes_is_a_protected_route_of_the_api(stack: dict[str, Any]) -> None:
    paths = openapi(stack)["paths"]
    for route in RouteTable.parse(environment(stack, "AuthorizerFunction")["ROUTE_SCOPES"]):
        operation = paths[route.path][route.method.lower()]
        assert operation["security"] == [{"JwtAuthorizer": []}]


@pytest.mark.parametrize("parameter", ["ReadScope", "WriteScope"])
@pytest.mark.parametrize(
    ("scope", "allowed"),
    [
        ("messages:read", True),
        ("api://x/Messages.Read", True),
        ('a"]}', False),
        ("a b", False),
        ("a\\b", False),
    ],
)
def test_scope_parameters_cannot_break_out_of_the_json(parameter: str, scope: str, allowed: bool) -> None:
    # CloudFormation applies AllowedPattern to the whole value, with Java's regex engine.
    pattern = source()["Parameters"][parameter]["AllowedPattern"]

    assert (re.fullmatch(pattern, scope) is not None) is allowed


# The functions -------------------------------------------------------------------------------------------


def test_the_authorizer_starts_with_the_environment_the_template_gives_it(stack: dict[str, Any]) -> None:
    env = environment(stack, "AuthorizerFunction")

    settings = Settings.from_env(env)

    assert settings.issuers == ("https://issuer.example.com",)
    assert settings.audiences == {AUDIENCE}
    assert settings.jwks_uri is None
    assert settings.algorithms == {"RS256"}
    assert settings.routes == RouteTable.parse(ROUTE_SCOPES)


def test_the_authorizers_variables_are_the_ones_the_reference_documents(stack: dict[str, Any]) -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text()
    configuration = reference.split("\n## Variables\n", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", configuration, flags=re.MULTILINE))

    variables = set(environment(stack, "AuthorizerFunction"))

    assert {name for name in variables if not name.startswith("POWERTOOLS_")} <= documented
    assert {"ISSUER", "AUDIENCE", "JWKS_URI", "ROUTE_SCOPES", "ALGORITHMS"} <= variables


def test_the_issuer_and_audience_have_no_default_and_a_rule_requires_an_audience_with_an_issuer(
    stack: dict[str, Any],
) -> None:
    assert stack["Parameters"]["IssuerUrl"]["Default"] == ""
    assert stack["Parameters"]["Audience"]["Default"] == ""
    rule = stack["Rules"]["ProviderIsSet"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "IssuerUrl"}, ""]}]}
    assert [a["Assert"] for a in rule["Assertions"]] == [
        {"Fn::Not": [{"Fn::Equals": [{"Ref": "Audience"}, ""]}]}
    ]


def test_the_functions_run_a_current_python_on_arm64_with_tracing(stack: dict[str, Any]) -> None:
    assert stack["Parameters"]["Architecture"]["Default"] == "arm64"
    for name in FUNCTIONS:
        properties = stack["Resources"][name]["Properties"]
        assert properties["Runtime"] in {"python3.12", "python3.13"}, name
        assert properties["Architectures"] == [{"Ref": "Architecture"}], name
        assert properties["TracingConfig"] == {"Mode": "Active"}, name
        assert properties["LoggingConfig"] == {"LogGroup": {"Ref": f"{name}LogGroup"}}, name


def test_every_function_is_built_into_bytecode_by_the_makefile_in_its_code_uri() -> None:
    """A copy the tools force: SAM's makefile builder runs `make build-<LogicalId>`, so the template and the
    Makefile each name every function."""
    # sam build runs `make build-<LogicalId>` with the Makefile in the CodeUri (see test_build.py).
    for name in FUNCTIONS:
        resource = source()["Resources"][name]
        assert resource["Metadata"] == {"BuildMethod": "makefile"}, name
        makefile = (ROOT / resource["Properties"]["CodeUri"] / "Makefile").read_text()
        assert f"\nbuild-{name}: " in makefile, name


def test_the_functions_handlers_and_powertools_settings(stack: dict[str, Any]) -> None:
    handlers = {name: stack["Resources"][name]["Properties"]["Handler"] for name in FUNCTIONS}
    code = {name: source()["Resources"][name]["Properties"]["CodeUri"] for name in FUNCTIONS}

    assert handlers == {
        "AuthorizerFunction": "authorizer_handler.lambda_handler",
        "PublicFunction": "public_api.lambda_handler",
        "ProtectedFunction": "protected_api.lambda_handler",
    }
    assert code == {
        "AuthorizerFunction": "functions/authorizer/",
        "PublicFunction": "functions/api/",
        "ProtectedFunction": "functions/api/",
    }
    for name in FUNCTIONS:
        module, _ = handlers[name].split(".")
        assert (ROOT / code[name] / f"{module}.py").is_file()
        env = environment(stack, name, LogLevel="DEBUG")
        assert env["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "messages"
        assert env["POWERTOOLS_SERVICE_NAME"] == (
            "jwt-authorizer" if name == "AuthorizerFunction" else "messages-api"
        )


def test_the_authorizer_timeout_covers_a_jwks_refresh_twice_over(stack: dict[str, Any]) -> None:
    jwks_refresh_budget_seconds = 2.5

    assert (
        stack["Resources"]["AuthorizerFunction"]["Properties"]["Timeout"] >= 2 * jwks_refresh_budget_seconds
    )


def test_each_function_may_only_write_its_own_logs_and_traces(stack: dict[str, Any]) -> None:
    for name in FUNCTIONS:
        role_id = stack["Resources"][name]["Properties"]["Role"]["Fn::GetAtt"][0]
        role = stack["Resources"][role_id]["Properties"]
        assert "ManagedPolicyArns" not in role, name
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
        policy = role["Policies"][0]
        assert policy["PolicyName"] == "logs-and-traces"
        assert policy["PolicyDocument"]["Statement"] == [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": {"Fn::GetAtt": [f"{name}LogGroup", "Arn"]},
            },
            {
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            },
        ], name
        others = [policy["PolicyName"] for policy in role["Policies"][1:]]
        assert others == (["messages-table"] if name == "ProtectedFunction" else []), name
    assert len(resources_of_type(stack, "AWS::IAM::Role")) == len(FUNCTIONS)


# The messages table --------------------------------------------------------------------------------------


def test_the_messages_table_is_on_demand_with_point_in_time_recovery_encrypted_and_kept_on_delete(
    stack: dict[str, Any],
) -> None:
    table = stack["Resources"]["MessagesTable"]

    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    properties = table["Properties"]
    assert "TableName" not in properties  # CloudFormation names it, so two stacks never collide
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert [index["IndexName"] for index in properties["GlobalSecondaryIndexes"]] == [INDEX_NAME]


def table_policy(stack: dict[str, Any]) -> list[dict[str, Any]]:
    role = stack["Resources"]["ProtectedFunctionRole"]["Properties"]
    [policy] = [policy for policy in role["Policies"] if policy["PolicyName"] == "messages-table"]
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


def test_the_protected_functions_table_policy_names_only_the_table_and_its_index(
    stack: dict[str, Any],
) -> None:
    assert table_policy(stack) == [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
            "Resource": {"Fn::GetAtt": ["MessagesTable", "Arn"]},
        },
        {
            "Effect": "Allow",
            "Action": "dynamodb:Query",
            "Resource": {"Fn::Sub": f"${{MessagesTable.Arn}}/index/{INDEX_NAME}"},
        },
    ]


def test_the_table_policy_allows_exactly_the_calls_the_store_makes_where_it_makes_them(
    stack: dict[str, Any], messages_table: Any
) -> None:
    """A copy the tools force: IAM reads the role's actions from the template, not from the store's code."""
    # Every call of every store operation, recorded as the SDK sends it: the action and what it targets.
    made: set[tuple[str, str]] = set()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        index = params.get("IndexName")
        made.add((f"dynamodb:{model.name}", f"index/{index}" if index else "table"))

    messages_table.meta.events.register("before-parameter-build.dynamodb", record)
    store = MessageStore(messages_table, "MessagesTable")
    alice = Identity("https://issuer.example.com", "alice")
    message = Message(
        "0190b2a4-5c2e-7d3f-9a1b-2c3d4e5f6a7b",
        "hi",
        alice.subject,
        alice.issuer,
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    store.put(message)
    store.get(message.id)
    store.newest(10)
    with pytest.raises(NotTheAuthor):
        store.delete(message.id, author=Identity(alice.issuer, "mallory"))
    store.delete(message.id, author=alice)
    messages_table.meta.events.unregister("before-parameter-build.dynamodb", record)

    allowed = set()
    for statement in table_policy(stack):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resource = statement["Resource"]
        target = "table" if resource == {"Fn::GetAtt": ["MessagesTable", "Arn"]} else resource["Fn::Sub"]
        target = target.replace("${MessagesTable.Arn}/", "")
        allowed |= {(action, target) for action in actions}
    assert made == allowed


def test_the_protected_function_is_given_the_tables_name_and_no_endpoint_when_deployed(
    stack: dict[str, Any],
) -> None:
    deployed = environment(stack, "ProtectedFunction")

    assert deployed["TABLE_NAME"] == "MessagesTable"  # a Ref: CloudFormation's name for the table
    # Declared, empty: the store uses DynamoDB itself; only a local run (local/) gives it a value.
    assert deployed["DYNAMODB_ENDPOINT_URL"] == ""
    assert "TABLE_NAME" not in environment(stack, "PublicFunction")


# Gateway responses ---------------------------------------------------------------------------------------

UNAVAILABLE = (
    '{"error": "temporarily_unavailable", "message": "The token could not be checked; try again later", '
    '"requestId": "$context.requestId"}'
)


def gateway_responses(stack: dict[str, Any], public_api_url: str = "") -> dict[str, Any]:
    """The gateway responses with their header values resolved for this PublicApiUrl."""
    conditions = {"HasPublicApiUrl": public_api_url != ""}
    responses: dict[str, Any] = copy.deepcopy(openapi(stack)["x-amazon-apigateway-gateway-responses"])
    for response in responses.values():
        parameters = response["responseParameters"]
        for name, value in parameters.items():
            parameters[name] = resolve(value, {"PublicApiUrl": public_api_url}, conditions)
    return responses


def test_gateway_responses_follow_rfc_6750_with_json_bodies(stack: dict[str, Any]) -> None:
    responses = gateway_responses(stack)

    assert responses == {
        "UNAUTHORIZED": {
            "statusCode": "401",
            "responseParameters": {
                "gatewayresponse.header.WWW-Authenticate": "'Bearer realm=\"messages-api\"'"
            },
            "responseTemplates": {
                "application/json": '{"error": "invalid_token", "message": $context.error.messageString, '
                '"requestId": "$context.requestId"}'
            },
        },
        "ACCESS_DENIED": {
            "statusCode": "403",
            "responseParameters": {
                "gatewayresponse.header.WWW-Authenticate": "'Bearer error=\"insufficient_scope\"'"
            },
            "responseTemplates": {
                "application/json": '{"error": "insufficient_scope", "message": '
                '"The access token lacks a scope this route requires", "requestId": "$context.requestId"}'
            },
        },
        "AUTHORIZER_FAILURE": {
            "statusCode": "503",
            "responseParameters": {},
            "responseTemplates": {"application/json": UNAVAILABLE},
        },
        "AUTHORIZER_CONFIGURATION_ERROR": {
            "statusCode": "503",
            "responseParameters": {},
            "responseTemplates": {"application/json": UNAVAILABLE},
        },
        # An unknown route or method: 404 in the errors' shape, not 403 "Missing Authentication Token".
        "MISSING_AUTHENTICATION_TOKEN": {
            "statusCode": "404",
            "responseParameters": {},
            "responseTemplates": {
                "application/json": '{"error": "not_found", "message": '
                '"No route matches this method and path", "requestId": "$context.requestId"}'
            },
        },
    }


def test_with_public_api_url_the_401_and_403_name_the_resource_metadata_rfc_9728(
    stack: dict[str, Any],
) -> None:
    responses = gateway_responses(stack, "https://api.example.com")

    metadata = 'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"'
    assert {kind: response["responseParameters"] for kind, response in responses.items()} == {
        "UNAUTHORIZED": {
            "gatewayresponse.header.WWW-Authenticate": f"'Bearer realm=\"messages-api\", {metadata}'"
        },
        "ACCESS_DENIED": {
            "gatewayresponse.header.WWW-Authenticate": f"'Bearer error=\"insufficient_scope\", {metadata}'"
        },
        "AUTHORIZER_FAILURE": {},
        "AUTHORIZER_CONFIGURATION_ERROR": {},
        "MISSING_AUTHENTICATION_TOKEN": {},
    }


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("", True),
        ("https://api.example.com", True),
        ("https://abc123.execute-api.eu-west-1.amazonaws.com/dev", True),
        ("https://api.example.com/v1", True),
        ("https://api.example.com/", False),  # the well-known suffix would follow a double slash
        ("http://api.example.com", False),
        ("https://api.example.com/x'y", False),  # it lands inside a single-quoted header value
        ('https://api.example.com/x"y', False),
        ("https://api.example.com/a b", False),
    ],
)
def test_public_api_url_cannot_break_out_of_the_header_value(url: str, allowed: bool) -> None:
    pattern = source()["Parameters"]["PublicApiUrl"]["AllowedPattern"]

    assert (re.fullmatch(pattern, url) is not None) is allowed


def test_gateway_response_bodies_are_json_once_api_gateway_fills_them_in(stack: dict[str, Any]) -> None:
    filled = {"$context.error.messageString": '"Unauthorized"', "$context.requestId": "req-1"}
    for response in openapi(stack)["x-amazon-apigateway-gateway-responses"].values():
        body = response["responseTemplates"]["application/json"]
        for variable, value in filled.items():
            body = body.replace(variable, value)
        assert isinstance(json.loads(body), dict)


# Stage and outputs ---------------------------------------------------------------------------------------


def test_one_stage_named_by_the_parameter_with_tracing(stack: dict[str, Any]) -> None:
    [stage] = resources_of_type(stack, "AWS::ApiGateway::Stage").values()

    assert stage["Properties"]["StageName"] == {"Ref": "StageName"}
    assert stage["Properties"]["TracingEnabled"] is True
    assert stack["Parameters"]["StageName"]["Default"] == "dev"


def test_outputs_give_the_api_and_each_endpoints_url(stack: dict[str, Any]) -> None:
    base = "https://${MessagesApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${StageName}"
    urls = {
        name: output["Value"]["Fn::Sub"] for name, output in stack["Outputs"].items() if name.endswith("Url")
    }

    assert urls == {
        "ApiUrl": base,
        "PublicUrl": f"{base}/public",
        "ProfileUrl": f"{base}/profile",
        "MessagesUrl": f"{base}/messages",
        "ResourceMetadataUrl": f"{base}/.well-known/oauth-protected-resource",
    }
