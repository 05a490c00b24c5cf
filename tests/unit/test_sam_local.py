"""The parts of `make sam-local` that decide without Docker: architecture, how containers reach this
machine, the parameters the functions get, and the local build's authorizer."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.sam_local import (
    CONTAINER_HOST_NAME,
    ContainerRoute,
    SamLocalError,
    SamLocalOptions,
    build_command,
    container_route,
    docker_info,
    gateway_of,
    lambda_architecture,
    local_dynamodb_endpoint,
    local_parameters,
    resolve_built_template,
    runtime_of,
    runtime_python,
    split_arguments,
)
from local.stack import StackOptions


@pytest.mark.parametrize(
    ("machine", "architecture"),
    [("x86_64", "x86_64"), ("AMD64", "x86_64"), ("aarch64", "arm64"), ("arm64", "arm64")],
)
def test_the_functions_are_built_for_this_machines_architecture(machine: str, architecture: str) -> None:
    assert lambda_architecture(machine) == architecture


def test_docker_desktop_names_this_machine_itself() -> None:
    route = container_route({"OperatingSystem": "Docker Desktop"}, (), docker="/nonexistent/docker")
    assert route == ContainerRoute(gateway=None, sam_arguments=())


@pytest.mark.parametrize(
    ("config", "gateway"),
    [
        ([{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}], "172.17.0.1"),
        ([{"Subnet": "172.18.0.0/16"}], "172.18.0.1"),  # Docker 28's default bridge lists no Gateway
        ([{"Subnet": "fd00::/64", "Gateway": "fd00::1"}, {"Subnet": "10.9.0.0/24"}], "10.9.0.1"),
    ],
)
def test_the_gateway_is_where_a_networks_containers_reach_this_machine(
    config: list[dict[str, str]], gateway: str
) -> None:
    assert gateway_of(config) == gateway


def test_a_network_without_ipv4_cannot_reach_the_provider() -> None:
    with pytest.raises(SamLocalError, match="no IPv4 gateway"):
        gateway_of([{"Subnet": "fd00::/64"}], "v6only")


def test_sam_local_args_are_split_as_a_shell_would() -> None:
    assert split_arguments("--skip-pull-image --warm-containers 'LAZY'") == (
        "--skip-pull-image",
        "--warm-containers",
        "LAZY",
    )


def test_the_functions_trust_the_local_provider_and_reach_it_through_the_container_host_name() -> None:
    options = SamLocalOptions(sam="sam", api_port=3000, provider_port=3001, dynamodb_port=8000)
    parameters = local_parameters(options, "api://messages", "x86_64")
    assert parameters["IssuerUrl"] == "http://127.0.0.1:3001"  # what `make token`'s tokens say in iss
    assert parameters["Audience"] == "api://messages"
    assert parameters["JwksUri"] == f"http://{CONTAINER_HOST_NAME}:3001/.well-known/jwks.json"
    assert parameters["Architecture"] == "x86_64"
    assert parameters.get("LocalDynamoDbEndpoint") in (None, f"http://{CONTAINER_HOST_NAME}:8000")


def test_the_local_dynamodb_goes_to_the_functions_that_declare_its_variable_not_through_a_parameter() -> None:
    options = SamLocalOptions(sam="sam", dynamodb_port=8000)
    assert local_dynamodb_endpoint(options) == f"http://{CONTAINER_HOST_NAME}:8000"
    assert local_dynamodb_endpoint(options, host="127.0.0.1") == "http://127.0.0.1:8000"
    # A template whose functions declare no DYNAMODB_ENDPOINT_URL gets no DynamoDB.
    example = Path(__file__).resolve().parents[2] / "examples" / "own-api" / "template.yaml"
    assert local_dynamodb_endpoint(SamLocalOptions(sam="sam", template=example)) is None


def test_the_runtime_is_the_templates() -> None:
    assert runtime_of(StackOptions.template).startswith("python3.")


def test_without_docker_it_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(
        SamLocalError, match=r"^make sam-local needs Docker: .* `make dev` needs no Docker\.$"
    ):
        docker_info(str(tmp_path / "docker"))


def test_without_the_runtimes_python_it_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(
        SamLocalError, match=r"^sam build needs Python 3\.12 .* RUNTIME_PYTHON=/path/to/python3\.12$"
    ):
        runtime_python("python3.12", str(tmp_path / "python3.12"))


def test_a_template_parameter_given_reaches_the_build_and_the_api() -> None:
    options = SamLocalOptions(sam="sam", parameters=(("Dpop", "required"),))

    assert local_parameters(options, "api://messages", "x86_64")["Dpop"] == "required"
    build = build_command(options, "x86_64")
    assert build[build.index("--parameter-overrides") + 1] == "Architecture=x86_64 Dpop=required"


@pytest.mark.parametrize(("mode", "payload"), [("off", "TOKEN"), ("required", "REQUEST")])
def test_the_built_template_has_its_dpop_conditions_resolved_for_the_sam_cli(
    tmp_path: Path, mode: str, payload: str
) -> None:
    import json

    from local.template import read_template

    built = tmp_path / "template.yaml"
    built.write_text(StackOptions.template.read_text())

    resolve_built_template(built, {"Dpop": mode})

    template = json.loads(built.read_text())
    authorizer = template["Resources"]["MessagesApi"]["Properties"]["Auth"]["Authorizers"]["JwtAuthorizer"]
    assert authorizer["FunctionPayloadType"] == payload
    assert ("Headers" in authorizer["Identity"]) == (mode == "required")
    assert read_template(built)["Resources"].keys() == template["Resources"].keys()
