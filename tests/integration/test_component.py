"""The authorizer as a component another SAM template includes (component/template.yaml), and the example
API that does (examples/own-api): translated by aws-sam-translator, linted by cfn-lint, and held to the
same authorizer as template.yaml's, so the two definitions cannot drift apart."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import lint
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

from jwt_authorizer import Settings
from local.template import resolve_before_sam
from route_table import Route

ROOT = Path(__file__).resolve().parents[2]
COMPONENT = ROOT / "component" / "template.yaml"
EXAMPLE = ROOT / "examples" / "own-api" / "template.yaml"
MAIN = ROOT / "template.yaml"
PROVIDER = {"IssuerUrl": "https://issuer.example.com", "Audience": "api://orders"}


@cache
def parsed(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = yaml_parse(path.read_text())
    return template


def translate(path: Path, **parameters: str) -> dict[str, Any]:
    template = copy.deepcopy(parsed(path))
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://artifacts/{logical_id}"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name="us-east-1"))
    translated: dict[str, Any] = translator.translate(
        resolve_before_sam(template, {**PROVIDER, **parameters}),
        parameter_values={**PROVIDER, **parameters},
        get_managed_policy_map=lambda: {},
    )
    return translated


@pytest.mark.parametrize("path", [COMPONENT, EXAMPLE], ids=["component", "example"])
def test_cfn_lint_finds_nothing(path: Path) -> None:
    matches = lint(path.read_text(), regions=["us-east-1", "eu-west-1"])

    assert [str(match) for match in matches] == []


def test_the_example_includes_the_component_as_a_nested_application_and_no_authorizer_of_its_own() -> None:
    stack = translate(EXAMPLE)
    resources = stack["Resources"]

    assert resources["JwtAuthorizer"]["Type"] == "AWS::CloudFormation::Stack"
    assert (EXAMPLE.parent / resources["JwtAuthorizer"]["Properties"]["TemplateURL"]).resolve() == COMPONENT
    # The example creates its own function and the project's metadata one: the authorizer is the component's.
    functions = {name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    assert functions == {"OrdersFunction", "ResourceMetadataFunction"}
    metadata = parsed(EXAMPLE)["Resources"]["ResourceMetadataFunction"]
    assert (EXAMPLE.parent / metadata["Properties"]["CodeUri"]).resolve() == ROOT / "functions" / "api"
    assert metadata["Metadata"] == {"BuildMethod": "makefile"}


def test_the_examples_auth_block_uses_the_components_outputs() -> None:
    body = translate(EXAMPLE)["Resources"]["OrdersApi"]["Properties"]["Body"]
    scheme = body["components"]["securitySchemes"]["JwtAuthorizer"]
    authorizer = scheme["x-amazon-apigateway-authorizer"]

    assert (scheme["in"], scheme["name"], authorizer["type"]) == ("header", "Authorization", "token")
    assert authorizer["authorizerUri"]["Fn::Sub"][1] == {
        "__FunctionArn__": {"Fn::GetAtt": ["JwtAuthorizer", "Outputs.FunctionArn"]}
    }
    assert authorizer["identityValidationExpression"] == {
        "Fn::GetAtt": ["JwtAuthorizer", "Outputs.ValidationExpression"]
    }
    routes = {
        (method.upper(), path): operation["security"]
        for path, operations in body["paths"].items()
        for method, operation in operations.items()
    }
    assert routes == {
        ("GET", "/orders"): [{"JwtAuthorizer": []}],
        ("POST", "/orders"): [{"JwtAuthorizer": []}],
        ("GET", "/health"): [{"NONE": []}],
        ("GET", "/.well-known/oauth-protected-resource"): [{"NONE": []}],
    }


def test_api_gateway_may_invoke_the_components_function_for_the_examples_api_only() -> None:
    permission = translate(EXAMPLE)["Resources"]["OrdersApiJwtAuthorizerAuthorizerPermission"]["Properties"]

    assert permission["FunctionName"] == {"Fn::GetAtt": ["JwtAuthorizer", "Outputs.FunctionArn"]}
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"][1] == {"__ApiId__": {"Ref": "OrdersApi"}}


# One authorizer, two templates ----------------------------------------------------------------------------


def lambda_function(path: Path) -> dict[str, Any]:
    properties: dict[str, Any] = translate(path)["Resources"]["AuthorizerFunction"]["Properties"]
    return properties


def test_the_components_function_is_template_yamls_authorizer() -> None:
    """A copy the tools force: template.yaml cannot include component/template.yaml as a nested application,
    because `sam local start-api` runs a Lambda authorizer only when its function is defined in the same
    template, not when the API names it by FunctionArn (aws-sam-cli #5037). So both define it."""
    component, main = lambda_function(COMPONENT), lambda_function(MAIN)
    same = (
        "Handler",
        "Runtime",
        "Architectures",
        "MemorySize",
        "Timeout",
        "TracingConfig",
        "Description",
        "SnapStart",
    )

    assert {key: component[key] for key in same} == {key: main[key] for key in same}
    assert set(component["Environment"]["Variables"]) == set(main["Environment"]["Variables"])
    source = {path: parsed(path)["Resources"]["AuthorizerFunction"] for path in (COMPONENT, MAIN)}
    assert source[COMPONENT]["Metadata"] == source[MAIN]["Metadata"] == {"BuildMethod": "makefile"}
    aliases = {path: source[path]["Properties"]["AutoPublishAlias"] for path in source}
    assert aliases[COMPONENT] == aliases[MAIN] == "live"
    code = {path: (path.parent / source[path]["Properties"]["CodeUri"]).resolve() for path in source}
    assert code[COMPONENT] == code[MAIN] == ROOT / "functions" / "authorizer"


def test_the_components_role_and_logs_are_template_yamls_authorizers() -> None:
    """A copy the tools force: template.yaml cannot include component/template.yaml as a nested application,
    because `sam local start-api` runs a Lambda authorizer only when its function is defined in the same
    template, not when the API names it by FunctionArn (aws-sam-cli #5037). So both define it."""
    component, main = translate(COMPONENT)["Resources"], translate(MAIN)["Resources"]

    for name in ("AuthorizerFunctionRole", "AuthorizerFunctionLogGroup"):
        assert component[name] == main[name], name


def test_the_validation_expression_output_is_template_yamls() -> None:
    """A copy the tools force: template.yaml cannot include component/template.yaml as a nested application,
    because `sam local start-api` runs a Lambda authorizer only when its function is defined in the same
    template, not when the API names it by FunctionArn (aws-sam-cli #5037). So both define it."""
    outputs = parsed(COMPONENT)["Outputs"]
    main = parsed(MAIN)["Resources"]["MessagesApi"]["Properties"]["Auth"]["Authorizers"]["JwtAuthorizer"]

    assert outputs["ValidationExpression"]["Value"] == main["Identity"]["ValidationExpression"]
    # What API Gateway invokes, as template.yaml's Auth names it: the alias with SnapStart, else the function.
    alias, function = {"Ref": "AuthorizerFunction.Alias"}, {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    assert outputs["FunctionArn"]["Value"] == {"Fn::If": ["SnapStartEnabled", alias, function]}
    assert outputs["FunctionArn"]["Value"] == main["FunctionArn"]


def test_the_components_parameters_give_the_authorizer_a_configuration_it_accepts() -> None:
    variables = lambda_function(COMPONENT)["Environment"]["Variables"]
    given = {
        **{name: str(p.get("Default", "")) for name, p in parsed(COMPONENT)["Parameters"].items()},
        **PROVIDER,
        "RouteScopes": '{"GET /orders": ["orders:read"]}',
    }
    env = {
        name: given[value["Ref"]] if isinstance(value, dict) and "Ref" in value else str(value)
        for name, value in variables.items()
        if not (isinstance(value, dict) and value.get("Ref", "").startswith("AWS::"))
    }

    settings = Settings.from_env(env)

    assert settings.issuers == ("https://issuer.example.com",)
    assert settings.audiences == {"api://orders"}
    assert list(settings.routes) == [Route("GET", "/orders", frozenset({"orders:read"}))]


# sam build -------------------------------------------------------------------------------------------------

SAM = ROOT / ".venv-sam" / "bin" / "sam"


def runtime_python() -> str | None:
    """RUNTIME_PYTHON, as `make build` takes it, or the real python3.12 on PATH (not a version manager's
    shim, which may not answer)."""
    found = os.environ.get("RUNTIME_PYTHON") or shutil.which("python3.12")
    if found is None:
        return None
    result = subprocess.run(  # noqa: S603 - the interpreter found on PATH
        [found, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None if result.returncode == 0 else None


PYTHON_312 = runtime_python()


@pytest.mark.skipif(not SAM.exists(), reason="the SAM CLI is not installed here (make build installs it)")
@pytest.mark.skipif(
    PYTHON_312 is None, reason="sam build without Docker needs python3.12 (on PATH, or RUNTIME_PYTHON)"
)
def test_sam_build_builds_the_example_with_the_components_authorizer_and_the_metadata_function(
    tmp_path: Path,
) -> None:
    assert PYTHON_312 is not None
    build_dir = tmp_path / "build"
    environment = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "PATH": f"{Path(PYTHON_312).parent}{os.pathsep}{os.environ['PATH']}",
    }
    result = subprocess.run(  # noqa: S603 - the project's own SAM CLI and template
        [str(SAM), "build", "--template", str(EXAMPLE), "--build-dir", str(build_dir)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    built = yaml_parse((build_dir / "template.yaml").read_text())
    assert built["Resources"]["JwtAuthorizer"]["Properties"]["Location"] == "JwtAuthorizer/template.yaml"
    artifact = build_dir / "JwtAuthorizer" / "AuthorizerFunction"
    assert {"authorizer_handler.py", "jwt_authorizer", "route_table.py", "authorizer_context.py", "jwt"} <= {
        entry.name for entry in artifact.iterdir()
    }
    assert re.search(
        r"authorizer_handler\.cpython-312\.pyc", " ".join(p.name for p in artifact.rglob("*.pyc"))
    )
    metadata = build_dir / "ResourceMetadataFunction"
    shipped = {entry.name for entry in metadata.iterdir()}
    assert {"resource_metadata_api.py", "messages_api", "route_table.py"} <= shipped
    assert "protected_api.py" not in shipped
