"""template.yaml through aws-sam-translator, as the local gateway reads it, and the functions it loads."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from local.lambdas import FunctionLoadError, LambdaFunction
from local.template import AuthorizerSpec, RouteSpec, TemplateError, load_api

FIXTURE_APP = Path(__file__).parent.parent / "e2e" / "fixture_app"
ROOT = Path(__file__).parent.parent.parent


def test_routes_authorizer_and_stage_come_from_the_translated_template() -> None:
    api = load_api(FIXTURE_APP / "template.yaml")

    assert api.stage == "test"
    assert set(api.routes) == {
        RouteSpec("GET", "/echo", "EchoFunction", "Scripted"),
        RouteSpec("GET", "/items/{id}", "EchoFunction", "Scripted"),
        RouteSpec("POST", "/items/{id}", "EchoFunction", "Scripted"),
        RouteSpec("GET", "/items/special", "EchoFunction", "Scripted"),
        RouteSpec("GET", "/broken", "EchoFunction", "Scripted"),
        RouteSpec("ANY", "/open/{proxy+}", "EchoFunction", None),
        RouteSpec("GET", "/second", "SecondEchoFunction", None),
    }
    assert api.authorizers == {
        "Scripted": AuthorizerSpec("Scripted", "ScriptedAuthorizer", "X-Token", "^Bearer [a-z-]+$", 300)
    }
    assert set(api.gateway_responses) == {"UNAUTHORIZED", "AUTHORIZER_FAILURE", "DEFAULT_5XX"}


def test_function_environment_merges_globals_and_resolves_intrinsics_from_parameters() -> None:
    default = load_api(FIXTURE_APP / "template.yaml")
    overridden = load_api(FIXTURE_APP / "template.yaml", {"Greeting": "hi", "CacheTtl": "60"})

    assert default.functions["EchoFunction"].environment == {
        "GREETING": "hello from us-east-1",
        "SHARED": "from-globals",
        "LABEL": "first",
    }
    # Fn::If with AWS::NoValue drops the variable when the condition is false.
    assert overridden.functions["EchoFunction"].environment == {"SHARED": "from-globals", "LABEL": "first"}
    assert overridden.authorizers["Scripted"].ttl_seconds == 60
    assert default.functions["SecondEchoFunction"].code_dir == (FIXTURE_APP / "echo").resolve()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Nope": "1"}, "unknown parameter"),
        ({"CacheTtl": "7200"}, "outside 0..3600"),
    ],
)
def test_bad_parameters_stop_with_a_clear_message(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load_api(FIXTURE_APP / "template.yaml", overrides)


def test_a_template_that_is_not_yaml_or_has_no_code_stops_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("Resources: {")
    (tmp_path / "nocode.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: missing/, Handler: app.handler, Runtime: python3.12}\n"
    )

    with pytest.raises(TemplateError, match="cannot read"):
        load_api(tmp_path / "broken.yaml")
    with pytest.raises(TemplateError, match="not a directory"):
        load_api(tmp_path / "nocode.yaml")


def test_a_function_whose_init_fails_names_the_problem() -> None:
    api = load_api(FIXTURE_APP / "template.yaml")
    # The real authorizer, with ISSUER missing from its environment:
    broken = dataclasses.replace(
        api.functions["ScriptedAuthorizer"],
        code_dir=ROOT / "functions" / "authorizer",
        handler="authorizer_handler.lambda_handler",
        environment={"AUDIENCE": "api://messages"},
    )

    with pytest.raises(FunctionLoadError, match="ISSUER: is required"):
        LambdaFunction(broken).load()
