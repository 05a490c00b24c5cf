"""examples/http-api/template.yaml, the HTTP API variant: linted by cfn-lint, translated by
aws-sam-translator, and the same API as template.yaml's REST API (routes, scopes, functions, table)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint
from samtranslator.yaml_helper import yaml_parse

from local.http_api import load_http_api, serves_http_api
from local.template import ApiSpec, HttpApiSpec, load_api
from tools import stack_options

ROOT = Path(__file__).resolve().parents[2]
HTTP_TEMPLATE = ROOT / "examples" / "http-api" / "template.yaml"
REST_TEMPLATE = ROOT / "template.yaml"
PROVIDER = {"IssuerUrl": "https://issuer.example.com", "Audience": "api://messages"}


@pytest.fixture(scope="module")
def http_api() -> HttpApiSpec:
    return load_http_api(HTTP_TEMPLATE, PROVIDER)


@pytest.fixture(scope="module")
def rest_api() -> ApiSpec:
    return load_api(REST_TEMPLATE, PROVIDER)


def translated(**parameters: str) -> dict[str, Any]:
    return stack_options.translate(yaml_parse(HTTP_TEMPLATE.read_text()), {**PROVIDER, **parameters})


def test_cfn_lint_finds_nothing_in_the_http_api_template() -> None:
    matches = lint(HTTP_TEMPLATE.read_text(), regions=["us-east-1", "eu-west-1", "us-gov-west-1"])

    assert [str(match) for match in matches] == []


def test_the_authorizer_is_a_payload_2_0_lambda_authorizer_answering_an_iam_policy_keyed_on_the_token() -> (
    None
):
    body = translated()["Resources"]["MessagesHttpApi"]["Properties"]["Body"]
    authorizer = body["components"]["securitySchemes"]["JwtAuthorizer"]["x-amazon-apigateway-authorizer"]

    assert authorizer["type"] == "request"
    assert authorizer["authorizerPayloadFormatVersion"] == "2.0"
    # No simple responses: a cached {"isAuthorized": true} would be reused on every route.
    assert authorizer.get("enableSimpleResponses", False) is False
    assert authorizer["identitySource"] == ["$request.header.Authorization"]
    assert authorizer["authorizerResultTtlInSeconds"] == {"Ref": "AuthorizerCacheTtl"}
    assert (
        load_http_api(HTTP_TEMPLATE, {**PROVIDER, "AuthorizerCacheTtl": "120"})
        .authorizers["JwtAuthorizer"]
        .ttl_seconds
        == 120
    )


def test_only_the_template_s_http_api_is_served_as_one(http_api: HttpApiSpec) -> None:
    assert serves_http_api(HTTP_TEMPLATE)
    assert not serves_http_api(REST_TEMPLATE)
    assert (http_api.logical_id, http_api.stage) == ("MessagesHttpApi", "$default")


def test_it_has_the_rest_apis_routes_each_to_the_same_function_open_or_behind_the_authorizer(
    http_api: HttpApiSpec, rest_api: ApiSpec
) -> None:
    def routes(api: ApiSpec | HttpApiSpec) -> set[tuple[str, str, str, bool]]:
        return {(r.method, r.path, r.function, r.authorizer is not None) for r in api.routes}

    assert routes(http_api) == routes(rest_api)
    assert {r.path for r in http_api.routes if r.authorizer is None} == {
        "/public",
        "/.well-known/oauth-protected-resource",
    }


@pytest.mark.parametrize("scopes", [{}, {"ReadScope": "api/read", "WriteScope": "api/write"}])
def test_the_authorizer_and_the_functions_read_the_rest_apis_route_scopes(scopes: dict[str, str]) -> None:
    http_api = load_http_api(HTTP_TEMPLATE, {**PROVIDER, **scopes})
    rest_api = load_api(REST_TEMPLATE, {**PROVIDER, **scopes})

    for function in ("AuthorizerFunction", "ProtectedFunction"):
        table = json.loads(http_api.functions[function].environment["ROUTE_SCOPES"])
        assert table == json.loads(rest_api.functions[function].environment["ROUTE_SCOPES"])
    # Keyed as the HTTP API's route keys are, so the authorizer reads each route by its own template.
    route_keys = {f"{r.method} {r.path}" for r in http_api.routes if r.authorizer is not None}
    assert set(table) <= route_keys


def test_the_functions_are_the_same_code_and_handlers_and_the_table_the_same_table(
    http_api: HttpApiSpec, rest_api: ApiSpec
) -> None:
    for name, spec in http_api.functions.items():
        rest = rest_api.functions[name]
        assert (spec.code_dir, spec.handler, spec.runtime) == (rest.code_dir, rest.handler, rest.runtime)
    assert {t.properties["KeySchema"][0]["AttributeName"] for t in http_api.tables.values()} == {"id"}
    assert [t.properties for t in http_api.tables.values()] == [
        t.properties for t in rest_api.tables.values()
    ]
