"""The self-contained deploy: with IssuerUrl empty, the template brings its own Amazon Cognito user pool.

Read from the template as aws-sam-translator translates it for each case, with the conditions, rules,
references and outputs resolved as CloudFormation would for these parameter values.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from devkit.tokens import SigningKey, mint
from jwt_authorizer import Settings, is_cognito_issuer
from messages_api.identity import Caller
from route_table import RouteTable
from tests.integration.test_template import environment, holds, resolve, translate
from tests.support.policies import denied_resources
from tests.support.providers import NOW, STAGE, authorize, rejection, service_with_keys

SELF_CONTAINED = {"IssuerUrl": "", "Audience": ""}
OWN_PROVIDER = {"IssuerUrl": "https://dev-123456.okta.com/oauth2/default", "Audience": "api://default"}
COGNITO_TYPES = {
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolResourceServer",
    "AWS::Cognito::UserPoolClient",
}
# What CloudFormation will hand back for the pool's resources once created.
POOL_ID = "us-east-1_Ab12Cd34E"
CLIENT_ID = "4jq6l0d9lfqjg1fjsb8o2dhaq1"
CREATED = {
    "UserPool": POOL_ID,
    "UserPool.ProviderURL": f"cognito-idp.us-east-1.amazonaws.com/{POOL_ID}",
    "UserPoolClient": CLIENT_ID,
    "UserPoolDomain": "auth-51af3dc0-da1e-11e4-8d3a-500150b34a36",
    "AWS::Region": "us-east-1",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/messages/"
    "51af3dc0-da1e-11e4-8d3a-500150b34a36",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::Partition": "aws",
    "MessagesApi": "a1b2c3d4e5",
    "AuthorizerFunction": "messages-AuthorizerFunction-1A2B3C",
}


@pytest.fixture(scope="module")
def self_contained() -> dict[str, Any]:
    return translate(**SELF_CONTAINED)


@pytest.fixture(scope="module")
def own_provider() -> dict[str, Any]:
    return translate(**OWN_PROVIDER)


def parameters_of(stack: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    defaults = {name: str(p.get("Default", "")) for name, p in stack["Parameters"].items()}
    resources = {name: name for name in stack["Resources"]}  # a resource's Ref: its logical id here
    return resources | defaults | given | CREATED | {"AWS::StackName": "messages"}


def conditions_of(stack: dict[str, Any], given: dict[str, str]) -> dict[str, bool]:
    values, defined = parameters_of(stack, given), stack["Conditions"]
    return {name: holds(condition, values, defined) for name, condition in defined.items()}


def created(stack: dict[str, Any], given: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The resources CloudFormation creates for these parameters: those whose condition holds."""
    conditions = conditions_of(stack, given)
    return {
        name: resource
        for name, resource in stack["Resources"].items()
        if "Condition" not in resource or conditions[resource["Condition"]]
    }


def outputs(stack: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    values, conditions = parameters_of(stack, given), conditions_of(stack, given)
    return {
        name: resolve(output["Value"], values, conditions)
        for name, output in stack["Outputs"].items()
        if "Condition" not in output or conditions[output["Condition"]]
    }


def broken_rules(stack: dict[str, Any], given: dict[str, str]) -> list[str]:
    values = parameters_of(stack, given)
    broken = []
    for name, rule in stack["Rules"].items():
        if "RuleCondition" in rule and not holds(rule["RuleCondition"], values):
            continue
        broken += [name for assertion in rule["Assertions"] if not holds(assertion["Assert"], values)]
    return broken


# What gets created ---------------------------------------------------------------------------------------


def test_without_an_issuer_the_stack_creates_a_user_pool_with_domain_resource_server_and_client(
    self_contained: dict[str, Any],
) -> None:
    cognito = {
        name: resource
        for name, resource in created(self_contained, SELF_CONTAINED).items()
        if resource["Type"] in COGNITO_TYPES
    }

    assert {name: resource["Type"] for name, resource in cognito.items()} == {
        "UserPool": "AWS::Cognito::UserPool",
        "UserPoolDomain": "AWS::Cognito::UserPoolDomain",
        "UserPoolResourceServer": "AWS::Cognito::UserPoolResourceServer",
        "UserPoolClient": "AWS::Cognito::UserPoolClient",
    }
    assert cognito["UserPoolResourceServer"]["Properties"] == {
        "UserPoolId": {"Ref": "UserPool"},
        "Identifier": "messages-api",
        "Name": "Messages API",
        "Scopes": [
            {
                "ScopeName": {"Ref": "ReadScope"},
                "ScopeDescription": "Read messages (GET /messages, GET /messages/{id})",
            },
            {
                "ScopeName": {"Ref": "WriteScope"},
                "ScopeDescription": (
                    "Post messages and delete your own (POST /messages, DELETE /messages/{id})"
                ),
            },
        ],
    }
    assert cognito["UserPoolClient"]["Properties"] == {
        "UserPoolId": {"Ref": "UserPool"},
        "ClientName": "api-client",
        "GenerateSecret": True,
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthFlows": ["client_credentials"],
        "AllowedOAuthScopes": [
            {"Fn::Sub": "messages-api/${ReadScope}"},
            {"Fn::Sub": "messages-api/${WriteScope}"},
        ],
        "SupportedIdentityProviders": ["COGNITO"],
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
        "PreventUserExistenceErrors": "ENABLED",
        "EnableTokenRevocation": True,
    }
    # The client may only be granted scopes that exist already.
    assert cognito["UserPoolClient"]["DependsOn"] == "UserPoolResourceServer"
    assert cognito["UserPool"]["Properties"]["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}


def test_the_pool_domain_prefix_is_unique_and_one_cognito_accepts(self_contained: dict[str, Any]) -> None:
    domain = self_contained["Resources"]["UserPoolDomain"]["Properties"]["Domain"]["Fn::Sub"]
    template, variables = domain
    assert variables == {"StackUuid": {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}}
    prefix = template.replace("${StackUuid}", CREATED["AWS::StackId"].split("/")[2])
    # Cognito's rules for a domain prefix: lowercase letters, digits and hyphens, and no reserved words.
    assert re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", prefix), prefix
    assert not any(word in prefix for word in ("aws", "amazon", "cognito"))


def test_with_an_issuer_no_cognito_resource_or_output_is_created(own_provider: dict[str, Any]) -> None:
    types = {resource["Type"] for resource in created(own_provider, OWN_PROVIDER).values()}
    assert types.isdisjoint(COGNITO_TYPES)
    assert set(outputs(own_provider, OWN_PROVIDER)) == {
        "ApiUrl",
        "PublicUrl",
        "ProfileUrl",
        "MessagesUrl",
        "ResourceMetadataUrl",
        "MessagesTableName",
        "AuthorizerFunctionName",
    }


# How the authorizer is pointed at it ---------------------------------------------------------------------


def test_the_self_contained_authorizer_trusts_the_pool_with_its_client_as_audience(
    self_contained: dict[str, Any],
) -> None:
    env = environment(self_contained, "AuthorizerFunction", **SELF_CONTAINED, **CREATED)
    settings = Settings.from_env(env)

    assert (env["ISSUER"], env["AUDIENCE"]) == (
        f"https://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}",
        CLIENT_ID,
    )
    assert is_cognito_issuer(env["ISSUER"])  # so access tokens are matched on client_id
    assert json.loads(env["ROUTE_SCOPES"]) == {
        "GET /messages": ["messages-api/messages:read"],
        "POST /messages": ["messages-api/messages:write"],
        "GET /messages/{id}": ["messages-api/messages:read"],
        "DELETE /messages/{id}": ["messages-api/messages:write"],
    }
    assert (
        env["ROUTE_SCOPES"]
        == environment(self_contained, "ProtectedFunction", **SELF_CONTAINED, **CREATED)["ROUTE_SCOPES"]
    )
    assert (settings.token_uses, settings.require_at_jwt_typ, settings.scope_claims) == (
        frozenset({"access"}),
        False,
        (),
    )


def test_with_an_issuer_the_authorizer_uses_it_and_the_scopes_unprefixed(
    own_provider: dict[str, Any],
) -> None:
    env = environment(own_provider, "AuthorizerFunction", **OWN_PROVIDER)
    assert (env["ISSUER"], env["AUDIENCE"]) == (OWN_PROVIDER["IssuerUrl"], OWN_PROVIDER["Audience"])
    assert json.loads(env["ROUTE_SCOPES"]) == {
        "GET /messages": ["messages:read"],
        "POST /messages": ["messages:write"],
        "GET /messages/{id}": ["messages:read"],
        "DELETE /messages/{id}": ["messages:write"],
    }


def client_credentials_claims(scope: str) -> dict[str, Any]:
    """A Cognito access token from the client credentials grant: the client is its own subject."""
    return {
        "sub": CLIENT_ID,
        "token_use": "access",
        "scope": scope,
        "auth_time": NOW,
        "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}",
        "exp": NOW + 3600,
        "iat": NOW,
        "version": 2,
        "jti": "4b1c5d5e-2a4f-4c0e-9d59-6e1f7a3b2c10",
        "client_id": CLIENT_ID,
    }


def test_a_client_credentials_token_of_the_pool_passes_the_self_contained_authorizer_and_function(
    self_contained: dict[str, Any], rsa_signing_key: SigningKey
) -> None:
    env = environment(self_contained, "AuthorizerFunction", **SELF_CONTAINED, **CREATED)
    service = service_with_keys(env, {env["ISSUER"]: [rsa_signing_key]})
    read_only = mint(rsa_signing_key, client_credentials_claims("messages-api/messages:read"))

    result = authorize(service, read_only)

    assert result["principalId"] == CLIENT_ID
    assert result["policyDocument"]["Statement"][1] == {
        "Action": "execute-api:Invoke",
        "Effect": "Deny",
        "Resource": denied_resources(STAGE, "DELETE/messages/*", "POST/messages"),
    }
    caller = Caller.from_event({"requestContext": {"authorizer": result["context"]}})
    caller.require(RouteTable.parse(env["ROUTE_SCOPES"]).required("GET", "/messages"))
    both = mint(
        rsa_signing_key, client_credentials_claims("messages-api/messages:read messages-api/messages:write")
    )
    assert authorize(service, both)["policyDocument"]["Statement"][1:] == []


def test_the_pools_id_tokens_and_other_clients_are_refused(
    self_contained: dict[str, Any], rsa_signing_key: SigningKey
) -> None:
    env = environment(self_contained, "AuthorizerFunction", **SELF_CONTAINED, **CREATED)
    service = service_with_keys(env, {env["ISSUER"]: [rsa_signing_key]})
    other_client = client_credentials_claims("messages-api/messages:read") | {"client_id": "7otherclient"}
    id_token = client_credentials_claims("") | {"token_use": "id", "aud": CLIENT_ID}
    assert rejection(service, mint(rsa_signing_key, other_client)) == "invalid_audience"
    assert rejection(service, mint(rsa_signing_key, id_token)) == "invalid_token_use"


# Outputs and rules ---------------------------------------------------------------------------------------


def test_outputs_give_the_token_endpoint_client_id_scopes_and_the_command_for_the_secret(
    self_contained: dict[str, Any],
) -> None:
    given = outputs(self_contained, SELF_CONTAINED)
    assert {name: given[name] for name in ("TokenEndpoint", "ClientId", "ClientSecretCommand", "Scopes")} == {
        "TokenEndpoint": "https://auth-51af3dc0-da1e-11e4-8d3a-500150b34a36.auth.us-east-1.amazoncognito.com/oauth2/token",
        "ClientId": CLIENT_ID,
        "ClientSecretCommand": (
            f"aws cognito-idp describe-user-pool-client --region us-east-1 --user-pool-id {POOL_ID}"
            f" --client-id {CLIENT_ID} --query UserPoolClient.ClientSecret --output text"
        ),
        "Scopes": "messages-api/messages:read messages-api/messages:write",
    }


@pytest.mark.parametrize(
    ("given", "broken"),
    [
        (OWN_PROVIDER, []),
        (SELF_CONTAINED, []),
        ({"IssuerUrl": "https://dev-123456.okta.com/oauth2/default", "Audience": ""}, ["ProviderIsSet"]),
        ({"IssuerUrl": "", "Audience": "api://default"}, ["SelfContainedNeedsNoProviderSettings"]),
        (
            SELF_CONTAINED | {"JwksUri": "https://example.com/jwks.json"},
            ["SelfContainedNeedsNoProviderSettings"],
        ),
    ],
)
def test_rules_refuse_an_issuer_without_audience_and_provider_settings_without_an_issuer(
    self_contained: dict[str, Any], given: dict[str, str], broken: list[str]
) -> None:
    assert broken_rules(self_contained, given) == broken
