"""What the template gives a team taking it to production: throttling, an optional concurrency cap, a TLS
1.2 minimum, opt-in access logs and alarms, and no deploy-time surprises (long stack names, GovCloud,
regions without Cognito).

Read from the template as aws-sam-translator translates it, for each combination of the options, and as
CloudFormation would deploy it (tools.stack_options.instantiate).
"""

from __future__ import annotations

import importlib
import json
import re
from functools import cache
from typing import Any

import botocore.loaders
import pytest
from cfnlint.api import ManualArgs, lint

from devkit.jwks_server import JwksServer, Reply
from devkit.tokens import SigningKey, claims_for, mint
from jwt_authorizer import (
    DECISION_METRIC,
    INTERNAL_ERROR_REASON,
    JWKS_FETCH_METRIC,
    KEYS_UNAVAILABLE_REASON,
    OUTCOME_DIMENSION,
    REASON_DIMENSION,
    SERVICE_DIMENSION,
    AuthorizerUnavailableError,
    DecisionOutcome,
    FetchOutcome,
)
from tests.integration.test_template import (
    ROOT,
    TEMPLATE_PATH,
    environment,
    holds,
    resolve,
    source,
    translate,
)
from tools.stack_options import MODES, OPTIONS, combinations, instantiate

REGIONS = ["us-east-1", "eu-west-1", "us-gov-west-1"]
OWN_PROVIDER = MODES["own-provider"]
EVERYTHING_ON = {"AccessLogs": "true", "AlarmEmail": "ops@example.com"}
ALARM_TYPE = "AWS::CloudWatch::Alarm"


def deployed(**parameters: str) -> dict[str, Any]:
    """The CloudFormation template as deployed with these parameters (the provider's given unless set)."""
    given = OWN_PROVIDER | parameters
    return instantiate(translate(**given), given)


def of_type(stack: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in stack["Resources"].items() if r["Type"] == resource_type}


def stage(stack: dict[str, Any]) -> dict[str, Any]:
    [resource] = of_type(stack, "AWS::ApiGateway::Stage").values()
    properties: dict[str, Any] = resource["Properties"]
    return properties


def lint_findings(template: dict[str, Any], regions: list[str]) -> list[str]:
    # W2001 (a parameter is not used): an option that is off leaves its parameters unused, by design.
    config = ManualArgs(regions=regions, ignore_checks=["W2001"])
    return [str(match) for match in lint(json.dumps(template), config=config)]


# Every combination, as deployed, lints clean in each region -------------------------------------------

# Mode, access logs and alarms decide which resources exist: every combination of them. The TLS policy and
# the reserved concurrency each set one property of one resource, whatever else is on: each of their
# values is linted with everything else on, in both modes. (`make validate` runs `sam validate --lint`
# on all the combinations.)
RESOURCE_OPTIONS = ("access-logs", "alarms")
LINTED = {
    name: parameters
    for name, parameters in combinations().items()
    if "reserved-concurrency=off-tls=enhanced" in name
}
LINTED |= {
    f"{mode}-everything-on-{option}={value}": MODES[mode] | EVERYTHING_ON | OPTIONS[option][value]
    for mode in MODES
    for option in ("reserved-concurrency", "tls")
    for value in OPTIONS[option]
    if OPTIONS[option][value]
}


def test_the_linted_combinations_cover_every_resource_option_in_both_modes() -> None:
    assert len(LINTED) == len(MODES) * 2 * 3 + len(MODES) * 2


@pytest.mark.parametrize("parameters", LINTED.values(), ids=LINTED.keys())
def test_the_deployed_template_lints_clean_in_each_region(parameters: dict[str, str]) -> None:
    template = instantiate(translate(**parameters), parameters)

    assert lint_findings(template, REGIONS) == []


def test_every_combination_translates_to_the_resources_its_options_ask_for() -> None:
    for name, parameters in combinations().items():
        stack = instantiate(translate(**parameters), parameters)
        alarms = "alarms=off" not in name
        assert bool(of_type(stack, ALARM_TYPE)) is alarms, name
        assert bool(of_type(stack, "AWS::SNS::Topic")) is ("alarms=email" in name), name
        assert ("ApiAccessLogGroup" in stack["Resources"]) is ("access-logs=on" in name), name
        assert ("AccessLogSetting" in stage(stack)) is ("access-logs=on" in name), name
        assert bool(of_type(stack, "AWS::Cognito::UserPool")) is name.startswith("self-contained"), name
        function = stack["Resources"]["AuthorizerFunction"]["Properties"]
        assert ("ReservedConcurrentExecutions" in function) is ("reserved-concurrency=50" in name), name
        api = stack["Resources"]["MessagesApi"]["Properties"]
        assert ("EndpointAccessMode" in api) is ("tls=enhanced" in name), name


def test_in_the_china_regions_only_the_cognito_types_are_missing() -> None:
    # docs/deploy.md's note: the template cannot be deployed there as it is, in either mode, because
    # CloudFormation refuses a template naming a resource type the region lacks, even a conditional one.
    findings = lint(TEMPLATE_PATH.read_text(), config=ManualArgs(regions=["cn-north-1"]))

    assert sorted({(match.rule.id, match.message) for match in findings}) == [
        ("E3006", f"Resource type '{kind}' does not exist in 'cn-north-1'")
        for kind in sorted(
            {
                "AWS::Cognito::UserPool",
                "AWS::Cognito::UserPoolClient",
                "AWS::Cognito::UserPoolDomain",
                "AWS::Cognito::UserPoolResourceServer",
            }
        )
    ]


# Throttling and concurrency -------------------------------------------------------------------------------


def test_the_stage_throttles_every_route_by_default() -> None:
    assert stage(deployed())["MethodSettings"] == [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"},
        }
    ]
    parameters = source()["Parameters"]
    bounds = {
        name: (parameters[name]["Type"], parameters[name]["Default"], parameters[name]["MinValue"])
        for name in ("ThrottlingRateLimit", "ThrottlingBurstLimit")
    }
    assert bounds == {"ThrottlingRateLimit": ("Number", 100, 1), "ThrottlingBurstLimit": ("Number", 200, 1)}
    # Not above the account's default regional limits, which a stage cannot exceed.
    assert parameters["ThrottlingRateLimit"]["MaxValue"] == 10000
    assert parameters["ThrottlingBurstLimit"]["MaxValue"] == 5000


def test_the_authorizer_reserves_concurrency_only_when_asked() -> None:
    def reserved(**parameters: str) -> Any:
        function = deployed(**parameters)["Resources"]["AuthorizerFunction"]["Properties"]
        return function.get("ReservedConcurrentExecutions")

    # 0 means "no reservation" here; to Lambda a reservation of 0 would mean "never run".
    assert reserved() is None
    assert reserved(AuthorizerReservedConcurrency="0") is None
    assert reserved(AuthorizerReservedConcurrency="50") == {"Ref": "AuthorizerReservedConcurrency"}
    assert source()["Parameters"]["AuthorizerReservedConcurrency"]["MinValue"] == 0
    assert "at least 100" in source()["Parameters"]["AuthorizerReservedConcurrency"]["Description"]


# TLS ---------------------------------------------------------------------------------------------------


@cache
def api_gateway_security_policies() -> set[str]:
    """The SecurityPolicy values API Gateway's own API model (botocore's) accepts."""
    loader = botocore.loaders.Loader()
    model = loader.load_service_model("apigateway", "service-2")
    return set(model["shapes"]["SecurityPolicy"]["enum"])


def test_the_api_requires_tls_1_2_at_least_with_a_policy_api_gateway_offers_regional_apis() -> None:
    parameter = source()["Parameters"]["SecurityPolicy"]
    offered = {policy for policy in api_gateway_security_policies() if not policy.endswith("_EDGE")}

    assert set(parameter["AllowedValues"]) <= offered
    assert "TLS_1_0" not in parameter["AllowedValues"]
    # TLS13_1_2: TLS 1.3 and 1.2; TLS13_1_3: 1.3 only; TLS_1_2: the legacy 1.2 policy.
    assert all(re.search(r"TLS13_1_[23]_|^TLS_1_2$", policy) for policy in parameter["AllowedValues"])
    assert parameter["Default"] == "SecurityPolicy_TLS13_1_2_2021_06"


@pytest.mark.parametrize(
    ("policy", "access_mode"),
    [("SecurityPolicy_TLS13_1_2_2021_06", "STRICT"), ("SecurityPolicy_TLS13_1_3_2025_09", "STRICT"),
     ("TLS_1_2", None)],
)  # fmt: skip
def test_enhanced_policies_get_the_strict_endpoint_access_mode_they_require(
    policy: str, access_mode: str | None
) -> None:
    api = deployed(SecurityPolicy=policy)["Resources"]["MessagesApi"]["Properties"]

    assert api["SecurityPolicy"] == {"Ref": "SecurityPolicy"}
    assert api.get("EndpointAccessMode") == access_mode


# Access logs -------------------------------------------------------------------------------------------

# Every field the access log must carry, and the API Gateway variable that fills it.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "status": "$context.status",
    "principalId": "$context.authorizer.principalId",
    "authorizerLatency": "$context.authorizer.latency",
    "authorizerStatus": "$context.authorizer.status",
    "errorResponseType": "$context.error.responseType",
}


def test_no_access_logs_unless_asked() -> None:
    stack = deployed()

    assert "AccessLogSetting" not in stage(stack)
    assert "ApiAccessLogGroup" not in stack["Resources"]


def test_access_logs_are_json_lines_with_the_principal_and_the_authorizers_answer() -> None:
    stack = deployed(AccessLogs="true")
    setting = stage(stack)["AccessLogSetting"]
    group = stack["Resources"]["ApiAccessLogGroup"]

    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Delete", "Delete")
    variables = re.findall(r"\$context\.[A-Za-z.]+", setting["Format"])
    # One line of JSON once API Gateway fills it in (it writes "-" for an empty variable).
    line = setting["Format"]
    for variable in sorted(set(variables), key=len, reverse=True):
        line = line.replace(variable, "-")
    assert "\n" not in line
    assert set(json.loads(line).values()) == {"-"}
    record = json.loads(setting["Format"])
    assert {name: record[name] for name in ACCESS_LOG_FIELDS} == ACCESS_LOG_FIELDS
    # The token itself is never logged: no header, no raw identity source.
    assert not any(v.startswith(("$context.identity.api", "$input", "$method")) for v in variables)
    assert "$context.authorizer.principalId" in variables


# Alarms ------------------------------------------------------------------------------------------------


def alarms(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in of_type(stack, ALARM_TYPE).items()}


def metrics_of(alarm: dict[str, Any], values: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric name, dimensions) of every metric an alarm reads, resolved for `values`."""

    def described(metric: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
        dimensions = {d["Name"]: resolve(d["Value"], values) for d in metric.get("Dimensions", [])}
        return resolve(metric["Namespace"], values), metric["MetricName"], dimensions

    if "Metrics" in alarm:
        return [
            described(query["MetricStat"]["Metric"]) for query in alarm["Metrics"] if "MetricStat" in query
        ]
    return [described(alarm)]


def test_no_alarms_unless_an_email_or_a_topic_is_given() -> None:
    assert alarms(deployed()) == {}
    assert of_type(deployed(), "AWS::SNS::Topic") == {}


def test_an_alarm_email_gets_a_topic_of_the_stack_that_only_its_alarms_may_publish_to() -> None:
    stack = deployed(AlarmEmail="ops@example.com")
    [(topic_id, topic)] = of_type(stack, "AWS::SNS::Topic").items()
    [policy] = of_type(stack, "AWS::SNS::TopicPolicy").values()

    assert topic["Properties"]["Subscription"] == [{"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}]
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert {name for name in alarms(stack)} == {
        "AuthorizerUnavailableAlarm",
        "JwksFetchFailedAlarm",
        "Api5xxRateAlarm",
        "AuthorizerDurationAlarm",
    }
    for name, alarm in alarms(stack).items():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], name
        assert alarm["OKActions"] == [{"Ref": topic_id}], name
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_an_alarm_topic_arn_is_used_as_it_is_and_no_topic_is_created() -> None:
    arn = OPTIONS["alarms"]["topic"]["AlarmTopicArn"]
    stack = deployed(AlarmTopicArn=arn)

    assert of_type(stack, "AWS::SNS::Topic") == {}
    assert len(alarms(stack)) == 4
    for name, alarm in alarms(stack).items():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopicArn"}], name


def test_no_alarm_reads_lambdas_errors_metric() -> None:
    # Every 401 is a failed invocation to Lambda (the Unauthorized error): it counts bad tokens.
    values = {"AWS::StackName": "messages", "StageName": "dev", "AuthorizerFunction": "fn"}
    for name, alarm in alarms(deployed(**EVERYTHING_ON)).items():
        assert ("AWS/Lambda", "Errors") not in {m[:2] for m in metrics_of(alarm, values)}, name


@pytest.fixture
def failing_provider(
    monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> tuple[JwksServer, SigningKey]:
    """The authorizer deployed as the template configures it, its provider's keys answering 503."""
    stack = translate(**OWN_PROVIDER)
    jwks_uri = jwks_server.base_url + jwks_server.jwks_path
    env = environment(stack, "AuthorizerFunction", IssuerUrl=jwks_server.issuer, JwksUri=jwks_uri)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    jwks_server.replies[jwks_server.jwks_path] = Reply(status=503, body=b"{}")
    return jwks_server, rsa_signing_key


def emitted(output: str) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric name, dimensions) of every EMF record in `output`."""
    found = []
    for line in output.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            [dimension_names] = directive["Dimensions"]
            for metric in directive["Metrics"]:
                dimensions = {name: record[name] for name in dimension_names}
                found.append((directive["Namespace"], metric["Name"], dimensions))
    return found


def test_the_authorizer_alarms_read_exactly_the_metrics_the_authorizer_emits(
    failing_provider: tuple[JwksServer, SigningKey], capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy the tools force: a CloudWatch alarm in the template names its namespace, metric and
    dimensions as literals, and CloudFormation cannot read them from the telemetry module."""
    # Given the authorizer, as deployed, whose provider's keys cannot be fetched
    server, key = failing_provider
    import authorizer_handler

    handler = importlib.reload(authorizer_handler)
    capsys.readouterr()
    event = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {mint(key, claims_for(server.issuer))}",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/GET/profile",
    }
    # When a token arrives: the fetch fails and the authorizer fails closed
    with pytest.raises(AuthorizerUnavailableError):
        handler.lambda_handler(event, None)
    fetch_failed_and_unavailable = emitted(capsys.readouterr().out)
    # (An unexpected failure is also a failed-closed decision; it cannot be provoked from outside.)
    namespace = handler.os.environ["POWERTOOLS_METRICS_NAMESPACE"]
    handler.current_service().telemetry.internal_error(route=None)
    internal_error = emitted(capsys.readouterr().out)

    # Then the alarms read those metrics, with the same namespace, names and dimensions
    stack = deployed(**EVERYTHING_ON)
    values = {"AWS::StackName": "messages"}
    watched = alarms(stack)
    unavailable = [m for m in fetch_failed_and_unavailable if m[1] != "JwksFetch"]
    jwks_failed = [m for m in fetch_failed_and_unavailable if m[1] == "JwksFetch"]
    assert len(unavailable) == len(jwks_failed) == 1
    assert metrics_of(watched["AuthorizerUnavailableAlarm"], values) == unavailable + internal_error
    assert metrics_of(watched["JwksFetchFailedAlarm"], values) == jwks_failed
    assert namespace == "messages"  # the stack's name, which the alarms resolve too
    # ...which are the ones the telemetry module names as its contract.
    service = {SERVICE_DIMENSION: handler.SERVICE_NAME}
    error = service | {OUTCOME_DIMENSION: DecisionOutcome.ERROR}
    assert metrics_of(watched["AuthorizerUnavailableAlarm"], values) == [
        (namespace, DECISION_METRIC, error | {REASON_DIMENSION: KEYS_UNAVAILABLE_REASON}),
        (namespace, DECISION_METRIC, error | {REASON_DIMENSION: INTERNAL_ERROR_REASON}),
    ]
    assert metrics_of(watched["JwksFetchFailedAlarm"], values) == [
        (namespace, JWKS_FETCH_METRIC, service | {OUTCOME_DIMENSION: FetchOutcome.FAILED})
    ]


def test_the_failed_closed_alarm_adds_both_kinds_of_failure_and_fires_on_one() -> None:
    alarm = alarms(deployed(**EVERYTHING_ON))["AuthorizerUnavailableAlarm"]
    [expression] = [query for query in alarm["Metrics"] if "Expression" in query]
    read = [query["Id"] for query in alarm["Metrics"] if "MetricStat" in query]

    assert expression["ReturnData"] is True
    assert expression["Expression"] == " + ".join(f"FILL({query}, 0)" for query in read)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


def test_the_5xx_alarm_reads_this_api_and_stage_as_a_rate_of_requests() -> None:
    stack = deployed(**EVERYTHING_ON)
    alarm = alarms(stack)["Api5xxRateAlarm"]
    api = stack["Resources"]["MessagesApi"]["Properties"]
    values = {"AWS::StackName": "messages", "StageName": "prod"}

    api_dimensions = {
        "ApiName": resolve(api["Name"], values),
        "Stage": resolve(stage(stack)["StageName"], values),
    }
    assert metrics_of(alarm, values) == [
        ("AWS/ApiGateway", "5XXError", api_dimensions),
        ("AWS/ApiGateway", "Count", api_dimensions),
    ]
    [rate] = [query for query in alarm["Metrics"] if "Expression" in query]
    assert rate["Expression"] == "IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 5)


def test_the_duration_alarm_reads_the_authorizers_p99() -> None:
    alarm = alarms(deployed(**EVERYTHING_ON))["AuthorizerDurationAlarm"]

    assert (alarm["Namespace"], alarm["MetricName"], alarm["ExtendedStatistic"]) == (
        "AWS/Lambda",
        "Duration",
        "p99",
    )
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "AuthorizerFunction"}}]
    timeout_ms = deployed()["Resources"]["AuthorizerFunction"]["Properties"]["Timeout"] * 1000
    assert alarm["Threshold"] < timeout_ms


@pytest.mark.parametrize(
    ("email", "topic", "allowed"),
    [("", "", True), ("ops@example.com", "", True), ("", "arn:aws:sns:eu-west-1:123456789012:ops", True),
     ("ops@example.com", "arn:aws:sns:eu-west-1:123456789012:ops", False)],
)  # fmt: skip
def test_a_rule_refuses_both_an_email_and_a_topic(email: str, topic: str, allowed: bool) -> None:
    rule = source()["Rules"]["AlarmsGoToOnePlace"]
    values = {"AlarmEmail": email, "AlarmTopicArn": topic}

    applies = holds(rule["RuleCondition"], values)
    assert (not applies or all(holds(a["Assert"], values) for a in rule["Assertions"])) is allowed


@pytest.mark.parametrize(
    ("parameter", "value", "allowed"),
    [
        ("AlarmEmail", "ops@example.com", True),
        ("AlarmEmail", "not an email", False),
        ("AlarmTopicArn", "arn:aws:sns:eu-west-1:123456789012:ops-alarms", True),
        ("AlarmTopicArn", "arn:aws-us-gov:sns:us-gov-west-1:123456789012:ops", True),
        ("AlarmTopicArn", "arn:aws:sns:eu-west-1:123456789012:ops.fifo", False),
        ("AlarmTopicArn", "ops-alarms", False),
    ],
)
def test_alarm_destinations_are_checked_when_given(parameter: str, value: str, allowed: bool) -> None:
    pattern = source()["Parameters"][parameter]["AllowedPattern"]

    assert (re.fullmatch(pattern, value) is not None) is allowed
    assert re.fullmatch(pattern, "")


# Deploy-time edge cases ----------------------------------------------------------------------------------

LONGEST_STACK_NAME = "s" + "-x" * 63 + "y"  # 128 characters, CloudFormation's maximum


def test_names_derived_from_the_stack_name_fit_their_limits_for_the_longest_stack_name() -> None:
    assert len(LONGEST_STACK_NAME) == 128
    stack = deployed(**MODES["self-contained"], **EVERYTHING_ON)
    values = {"AWS::StackName": LONGEST_STACK_NAME, "StageName": "dev"}
    limits = {  # the service quotas on each name
        ("AWS::Cognito::UserPool", "UserPoolName"): 128,
        ("AWS::Cognito::UserPoolClient", "ClientName"): 128,
        ("AWS::Logs::LogGroup", "LogGroupName"): 512,
        ("AWS::SNS::Topic", "DisplayName"): 100,
        ("AWS::SNS::Topic", "TopicName"): 256,
        ("AWS::CloudWatch::Alarm", "AlarmName"): 255,
    }
    checked = 0
    for name, resource in stack["Resources"].items():
        for (resource_type, key), limit in limits.items():
            if resource["Type"] == resource_type and key in resource["Properties"]:
                assert len(resolve(resource["Properties"][key], values)) <= limit, name
                checked += 1
    assert checked >= 6  # two Cognito names and four log groups


@pytest.mark.parametrize(
    ("partition", "region", "host"),
    [("aws", "eu-west-1", "auth"), ("aws-us-gov", "us-gov-west-1", "auth-fips")],
)
def test_the_token_endpoint_output_names_the_partitions_cognito_domain(
    partition: str, region: str, host: str
) -> None:
    stack = deployed(**MODES["self-contained"])
    output = stack["Outputs"]["TokenEndpoint"]["Value"]
    values = {"UserPoolDomain": "auth-1234", "AWS::Region": region}
    conditions = {"GovCloud": partition == "aws-us-gov"}

    assert resolve(output, values, conditions) == (
        f"https://auth-1234.{host}.{region}.amazoncognito.com/oauth2/token"
    )


@cache
def cognito_scope_name_pattern() -> str:
    loader = botocore.loaders.Loader()
    model = loader.load_service_model("cognito-idp", "service-2")
    pattern: str = model["shapes"]["ResourceServerScopeNameType"]["pattern"]
    return pattern


def test_the_default_scopes_are_valid_cognito_scope_names_and_the_descriptions_say_no_slash() -> None:
    # CloudFormation cannot test a parameter for a substring, so a "/" in self-contained mode is refused
    # by Cognito when the resource server is created; the parameters' descriptions say so first.
    pattern = cognito_scope_name_pattern()
    for name in ("ReadScope", "WriteScope"):
        parameter = source()["Parameters"][name]
        assert re.fullmatch(pattern, parameter["Default"]), name
        assert re.fullmatch(pattern, "messages/read") is None
        assert 'cannot contain "/"' in parameter["Description"] or 'no "/"' in parameter["Description"]


def test_jwks_uri_says_it_takes_a_single_issuer() -> None:
    assert "Only with a single IssuerUrl" in source()["Parameters"]["JwksUri"]["Description"]


# docs/deploy.md -------------------------------------------------------------------------------------------


@cache
def deploy_section() -> str:
    return (ROOT / "docs" / "deploy.md").read_text()


def test_the_deploy_guide_documents_every_parameter_of_the_template() -> None:
    documented = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)? \|", deploy_section(), flags=re.MULTILINE))
    names = {name for pair in documented for name in pair if name}

    assert set(source()["Parameters"]) <= names


def test_the_deploy_guides_snippets_use_the_chosen_stack_and_region_and_evaluate_no_output() -> None:
    snippets = "\n".join(re.findall(r"```sh\n(.*?)```", deploy_section(), flags=re.DOTALL))

    assert "eval" not in snippets
    assert "--stack-name sam-jwt-authorizer" not in snippets
    for command in re.findall(r"aws cloudformation describe-stacks[^\n]*", snippets):
        assert '--stack-name "$STACK"' in command, command
        assert '--region "$REGION"' in command, command
    assert 'sam deploy --guided --stack-name "$STACK" --region "$REGION"' in snippets
    assert "aws apigateway update-account" in snippets


def test_the_deploy_guide_says_which_regions_cannot_run_the_template() -> None:
    assert "China" in deploy_section()
    assert "GovCloud" in deploy_section()
