"""template.yaml's Dpop parameter: the authorizer's type, identity sources and cache, the replay table and
its one permission, the 401 and 403 challenges; translated by aws-sam-translator and linted by cfn-lint in
every mode."""

from __future__ import annotations

from typing import Any

import pytest

from jwt_authorizer import DEFAULT_PROOF_ALGORITHMS
from tests.integration.test_template import openapi, resolve, translate
from tests.integration.test_template_operations import REGIONS, lint_findings
from tools.stack_options import MODES, instantiate

pytestmark = pytest.mark.integration

PROVIDER = MODES["own-provider"]


def deployed(dpop: str, **parameters: str) -> dict[str, Any]:
    values = {**PROVIDER, "Dpop": dpop, **parameters}
    return instantiate(translate(Dpop=dpop, **parameters), values)


def authorizer(stack: dict[str, Any]) -> dict[str, Any]:
    scheme: dict[str, Any] = openapi(stack)["components"]["securitySchemes"]["JwtAuthorizer"]
    return scheme


def unauthorized_challenge(
    stack: dict[str, Any], response: str = "UNAUTHORIZED", public_api_url: str = ""
) -> str:
    """The header as CloudFormation resolves it (the deployed template's Fn::Sub)."""
    responses = openapi(stack)["x-amazon-apigateway-gateway-responses"]
    value = responses[response]["responseParameters"]["gatewayresponse.header.WWW-Authenticate"]
    resolved: str = resolve(value, {"PublicApiUrl": public_api_url}, {})
    return resolved


def test_off_is_the_token_authorizer_with_its_cache_and_no_dpop_resource() -> None:
    stack = deployed("off")
    extension = authorizer(stack)["x-amazon-apigateway-authorizer"]

    assert extension["type"] == "token"
    assert extension["authorizerResultTtlInSeconds"] == 300
    assert "DpopReplayTable" not in stack["Resources"]
    assert "AuthorizerDpopReplayPolicy" not in stack["Resources"]
    variables = stack["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert not {"DPOP", "DPOP_REPLAY_TABLE", "DYNAMODB_ENDPOINT_URL"} & set(variables)


@pytest.mark.parametrize(
    ("mode", "identity_source"),
    [("allowed", None), ("required", "method.request.header.Authorization, method.request.header.DPoP")],
)
def test_dpop_modes_make_a_request_authorizer_without_result_cache(
    mode: str, identity_source: str | None
) -> None:
    stack = deployed(mode, AuthorizerCacheTtl="600")
    extension = authorizer(stack)["x-amazon-apigateway-authorizer"]

    assert extension["type"] == "request"
    assert extension["authorizerResultTtlInSeconds"] == 0
    assert extension.get("identitySource") == identity_source
    assert "identityValidationExpression" not in extension


@pytest.mark.parametrize("mode", ["allowed", "required"])
def test_dpop_modes_add_the_replay_table_and_only_a_put_on_it(mode: str) -> None:
    resources = deployed(mode)["Resources"]
    table = resources["DpopReplayTable"]["Properties"]
    policy = resources["AuthorizerDpopReplayPolicy"]["Properties"]
    variables = resources["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]

    assert table["KeySchema"] == [{"AttributeName": "proof", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert policy["Roles"] == [{"Ref": "AuthorizerFunctionRole"}]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": "dynamodb:PutItem",
            "Resource": {"Fn::GetAtt": ["DpopReplayTable", "Arn"]},
        }
    ]
    assert variables["DPOP"] == {"Ref": "Dpop"}
    assert variables["DPOP_REPLAY_TABLE"] == {"Ref": "DpopReplayTable"}


def test_the_401_challenge_names_the_algorithms_the_authorizer_takes_for_proofs() -> None:
    algorithms = " ".join(DEFAULT_PROOF_ALGORITHMS)

    assert unauthorized_challenge(deployed("required")) == f"'DPoP algs=\"{algorithms}\"'"
    assert (
        unauthorized_challenge(deployed("allowed"))
        == f'\'Bearer realm="messages-api", DPoP algs="{algorithms}"\''
    )
    assert (
        unauthorized_challenge(deployed("required"), "ACCESS_DENIED") == "'DPoP error=\"insufficient_scope\"'"
    )


@pytest.mark.parametrize("mode", ["off", "allowed", "required"])
def test_each_mode_lints_clean(mode: str) -> None:
    assert lint_findings(deployed(mode), REGIONS) == []
