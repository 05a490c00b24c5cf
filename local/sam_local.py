"""`make sam-local`: template.yaml under the real SAM CLI's `sam local start-api`, with the local provider.

1. Checks that Docker answers and that the functions' runtime Python is installed (sam build needs it on
   PATH), and says what to do when either is missing.
2. `sam build` for this machine's architecture into .aws-sam/local/build (the template's Architecture
   parameter and LAMBDA_ARCHITECTURE together), so .aws-sam/build, which `sam deploy` ships, is left alone.
3. Starts the provider on 127.0.0.1 (its issuer is http://127.0.0.1:PORT, as with `make dev`, so
   `make token` works unchanged) and a DynamoDB with the template's tables (moto's server, in memory, as
   `make dev` has it) and, where the containers need them, both on Docker's bridge gateway too.
4. Runs `sam local start-api` on 127.0.0.1 in the foreground, with parameter overrides that make the
   authorizer trust the provider and fetch its keys, and the protected function use that DynamoDB, from
   where a container reaches this machine. Ctrl-C (or TERM) stops the SAM CLI, its containers and the rest.

How the containers reach this machine. The SAM CLI puts every function container on Docker's default
bridge network, or on the network `--docker-network` names: in a container, 127.0.0.1 is the container
itself. (`--docker-network host` does not help: SAM CLI 1.170 skips connecting the container to a network
called "host", samcli/local/docker/container.py, so the container stays on the bridge.)
- Docker Desktop (macOS, Windows; also OrbStack, Rancher Desktop) names this machine host.docker.internal
  and forwards it to its 127.0.0.1: the provider stays on 127.0.0.1 only.
- Docker Engine on Linux has no such name: the containers reach this machine at their network's gateway
  (172.17.0.1 on the default bridge). The provider listens there too, on that one address (never on
  0.0.0.0), and `--add-host host.docker.internal:<gateway>` gives the containers the same name as above.
Either way the authorizer fetches http://host.docker.internal:PORT/.well-known/jwks.json, plain http that
it accepts only under the SAM CLI (functions/authorizer/jwt_authorizer/sam_cli.py), and the protected
function talks to http://host.docker.internal:DYNAMODB_PORT.
"""

from __future__ import annotations

import ipaddress
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from local.apigateway import REGION
from local.dynamodb import DEFAULT_PORT as DEFAULT_DYNAMODB_PORT
from local.dynamodb import ENDPOINT_VARIABLE as DYNAMODB_ENDPOINT_VARIABLE
from local.dynamodb import LocalDynamoDB
from local.http_api import load_served_api
from local.provider import JWKS_PATH, KeyStore, ProviderConfig, ProviderServer, TokenIssuer
from local.serving import check_free, port_of
from local.stack import ROOT, StackOptions
from local.template import declared_parameters, declares_variable, read_template, resolve_before_sam

CONTAINER_HOST_NAME = "host.docker.internal"
BUILD_DIR = ROOT / ".aws-sam" / "local" / "build"
CACHE_DIR = ROOT / ".aws-sam" / "local" / "cache"
ENV_VARS_FILE = ROOT / ".aws-sam" / "local" / "env-vars.json"


class SamLocalError(Exception):
    """`make sam-local` cannot start; the message says what is missing and what to do."""


def lambda_architecture(machine: str | None = None) -> str:
    """This machine's architecture, as Lambda names it: the functions run natively in Docker."""
    machine = (machine or platform.machine()).lower()
    return "arm64" if machine in {"arm64", "aarch64"} else "x86_64"


def runtime_of(template: Path) -> str:
    """The functions' Runtime (python3.12, ...): all of them share one, from Globals."""
    functions = load_served_api(template, _placeholder_provider()).functions
    runtimes = {spec.runtime for spec in functions.values()}
    if len(runtimes) != 1:
        raise SamLocalError(f"{template.name}: the functions have several runtimes, {sorted(runtimes)}")
    return runtimes.pop()


def _placeholder_provider() -> dict[str, str]:
    # Only to translate the template: any issuer and audience will do to read its functions.
    return {"IssuerUrl": "https://issuer.example.com", "Audience": "api://example"}


def runtime_python(runtime: str, explicit: str | None = None) -> str:
    """The interpreter sam build compiles the functions with (its real path, not a pyenv shim's), or a
    clear error when it is not installed."""
    version = runtime.removeprefix("python")
    name = explicit or runtime  # python3.12
    found = shutil.which(name)
    probe = None
    if found is not None:
        probe = subprocess.run(  # noqa: S603 - the interpreter the user named, asked for its version
            [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
    answer = probe.stdout.split() if probe is not None and probe.returncode == 0 else []
    if len(answer) != 2 or answer[0] != version:
        raise SamLocalError(
            f"sam build needs Python {version} (the template's Runtime), as {name} on PATH: install it"
            f" (pyenv, your package manager or python.org), or pass RUNTIME_PYTHON=/path/to/{runtime}"
        )
    return answer[1]


@dataclass(frozen=True)
class ContainerRoute:
    """How the function containers reach this machine."""

    #: The address the provider listens on besides 127.0.0.1 (Docker Engine: the network's gateway).
    gateway: str | None
    #: SAM CLI arguments that give the containers the name host.docker.internal, if they lack it.
    sam_arguments: tuple[str, ...]


def docker_info(docker: str = "docker") -> dict[str, object]:
    """`docker info`, or a SamLocalError saying how to get Docker running."""
    if shutil.which(docker) is None:
        raise SamLocalError(
            "make sam-local needs Docker: the SAM CLI runs each function in a container. Install Docker"
            " (Docker Desktop, or Docker Engine on Linux) and start it; `make dev` needs no Docker."
        )
    result = subprocess.run(  # noqa: S603 - a fixed command
        [docker, "info", "--format", "{{json .}}"], capture_output=True, text=True, check=False, timeout=30
    )
    if result.returncode != 0:
        raise SamLocalError(
            "Docker is installed but does not answer (`docker info` failed): start Docker Desktop or the"
            " Docker daemon (sudo systemctl start docker), then run make sam-local again.\n"
            + result.stderr.strip()
        )
    info: dict[str, object] = json.loads(result.stdout)
    return info


def container_route(
    info: dict[str, object], sam_arguments: Sequence[str], docker: str = "docker"
) -> ContainerRoute:
    operating_system = str(info.get("OperatingSystem", ""))
    if "Docker Desktop" in operating_system or sys.platform != "linux":
        return ContainerRoute(gateway=None, sam_arguments=())
    network = _option(sam_arguments, "--docker-network") or "bridge"
    gateway = network_gateway(network, docker)
    return ContainerRoute(gateway=gateway, sam_arguments=("--add-host", f"{CONTAINER_HOST_NAME}:{gateway}"))


def _option(arguments: Sequence[str], name: str) -> str | None:
    for index, argument in enumerate(arguments):
        if argument == name and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith(f"{name}="):
            return argument.split("=", 1)[1]
    return None


def network_gateway(network: str, docker: str = "docker") -> str:
    """The IPv4 gateway of a Docker network: where its containers reach this machine."""
    result = subprocess.run(  # noqa: S603 - docker with a network name
        [docker, "network", "inspect", network, "--format", "{{json .IPAM.Config}}"],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    if result.returncode != 0:
        raise SamLocalError(f"docker network inspect {network} failed: {result.stderr.strip()}")
    return gateway_of(json.loads(result.stdout) or [], network)


def gateway_of(ipam_config: list[dict[str, str]], network: str = "bridge") -> str:
    for config in ipam_config:
        if config.get("Gateway") and ipaddress.ip_address(config["Gateway"]).version == 4:
            return config["Gateway"]
        subnet = config.get("Subnet")
        if subnet and ipaddress.ip_network(subnet).version == 4:
            # Docker gives a network's gateway the subnet's first address unless told otherwise.
            return str(next(ipaddress.ip_network(subnet).hosts()))
    raise SamLocalError(f"Docker network {network} has no IPv4 gateway the containers could reach")


@dataclass(frozen=True)
class SamLocalOptions:
    sam: str
    api_port: int = 3000
    provider_port: int = 3001
    dynamodb_port: int = DEFAULT_DYNAMODB_PORT
    sam_arguments: tuple[str, ...] = ()
    runtime_python: str | None = None
    template: Path = StackOptions.template
    #: Template parameters of the user's (e.g. Dpop=required), for the build, the API and the tables alike.
    parameters: tuple[tuple[str, str], ...] = ()


def sam_environment(python: str, architecture: str) -> dict[str, str]:
    return {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        # sam build finds the runtime's Python by name on PATH; make reads the architecture from here.
        "PATH": f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "LAMBDA_ARCHITECTURE": architecture,
    }


def build_command(options: SamLocalOptions, architecture: str) -> list[str]:
    return [
        options.sam, "build", "--template-file", str(options.template),
        "--build-dir", str(BUILD_DIR), "--cache-dir", str(CACHE_DIR), "--cached",
        *parameter_overrides({"Architecture": architecture, **dict(options.parameters)}),
    ]  # fmt: skip


def local_parameters(
    options: SamLocalOptions, audience: str, architecture: str, host: str = CONTAINER_HOST_NAME
) -> dict[str, str]:
    """The template parameters that make the functions use the local services, as a container reaches
    them through `host` (the issuer stays http://127.0.0.1:PORT: that is what the provider's tokens say)."""
    declared = declared_parameters(options.template)
    parameters = {
        "IssuerUrl": f"http://127.0.0.1:{options.provider_port}",
        "Audience": audience,
        "JwksUri": f"http://{host}:{options.provider_port}{JWKS_PATH}",
        "Architecture": architecture,
    }
    if "PublicApiUrl" in declared:
        parameters["PublicApiUrl"] = f"http://127.0.0.1:{options.api_port}"  # what clients call
    return parameters | dict(options.parameters)


def resolve_built_template(path: Path, parameters: dict[str, str]) -> None:
    """Resolve in the built template what AWS::LanguageExtensions resolves before SAM (local/template.py,
    resolve_before_sam): SAM CLI 1.170's start-api reads the authorizer's type and identity sources from
    the template as written, and an Fn::If there reads as a header named Fn::If."""
    import json

    template = read_template(path)
    resolved = resolve_before_sam(template, parameters)
    if resolved is not template:
        path.write_text(json.dumps(resolved, indent=1))  # JSON is YAML: the SAM CLI reads it as such


def local_dynamodb_endpoint(options: SamLocalOptions, host: str = CONTAINER_HOST_NAME) -> str | None:
    """Where the functions that declare DYNAMODB_ENDPOINT_URL find the local DynamoDB, as a container
    reaches it through `host`; None when no function of the template declares it."""
    api = load_served_api(options.template, _placeholder_provider() | dict(options.parameters))
    if not declares_variable(api, DYNAMODB_ENDPOINT_VARIABLE):
        return None
    return f"http://{host}:{options.dynamodb_port}"


def parameter_overrides(parameters: dict[str, str]) -> list[str]:
    return ["--parameter-overrides", " ".join(f"{name}={value}" for name, value in parameters.items())]


def sam_local_arguments(
    parameters: dict[str, str], route: ContainerRoute, dynamodb_endpoint: str | None = None
) -> list[str]:
    """What `sam local start-api` and `sam local invoke` both need to run the functions here."""
    arguments = [*parameter_overrides(parameters), *route.sam_arguments]
    if dynamodb_endpoint:
        # The template declares DYNAMODB_ENDPOINT_URL empty (as deployed): an --env-vars file is the SAM
        # CLI's way to give a declared variable a value, and it sets no variable a template does not
        # declare (aws-sam-cli #6145).
        ENV_VARS_FILE.parent.mkdir(parents=True, exist_ok=True)
        variables = {DYNAMODB_ENDPOINT_VARIABLE: dynamodb_endpoint}
        ENV_VARS_FILE.write_text(json.dumps({"Parameters": variables}, indent=2))
        arguments += ["--env-vars", str(ENV_VARS_FILE)]
    # The region the local DynamoDB's tables live in, whatever the AWS configuration of this machine says.
    return [*arguments, "--region", REGION]


def start_api_command(
    options: SamLocalOptions,
    parameters: dict[str, str],
    route: ContainerRoute,
    dynamodb_endpoint: str | None = None,
) -> list[str]:
    return [
        options.sam, "local", "start-api", "--template-file", str(BUILD_DIR / "template.yaml"),
        # The SAM CLI looks for samconfig.toml next to the template it is given: point it at the project's.
        "--config-file", str(ROOT / "samconfig.toml"),
        "--host", "127.0.0.1", "--port", str(options.api_port),
        *sam_local_arguments(parameters, route, dynamodb_endpoint), *options.sam_arguments,
    ]  # fmt: skip


def run(options: SamLocalOptions) -> int:
    info = docker_info()
    runtime = runtime_of(options.template)
    python = runtime_python(runtime, options.runtime_python)
    architecture = lambda_architecture()
    route = container_route(info, options.sam_arguments)
    environment = sam_environment(python, architecture)
    # Before the build, which takes minutes: a busy port would stop everything only after it.
    for service, variable, port in (
        ("sam local start-api", "API_PORT", options.api_port),
        ("the OpenID provider", "PROVIDER_PORT", options.provider_port),
        ("the local DynamoDB", "DYNAMODB_PORT", options.dynamodb_port),
    ):
        with port_of(service, variable, "make sam-local"):
            check_free("127.0.0.1", port)

    print(f"sam build for {architecture} ({runtime}) into {BUILD_DIR.relative_to(ROOT)}", flush=True)
    built = subprocess.run(build_command(options, architecture), env=environment, cwd=ROOT, check=False)  # noqa: S603
    if built.returncode != 0:
        return built.returncode

    config = ProviderConfig.load(StackOptions.provider_config)
    parameters = local_parameters(options, config.audience, architecture)
    resolve_built_template(BUILD_DIR / "template.yaml", parameters)
    # Every service on 127.0.0.1 (for this machine) and, on Docker Engine, on the containers' gateway.
    addresses = ["127.0.0.1"] + ([route.gateway] if route.gateway else [])
    with ExitStack() as running:
        issuer = TokenIssuer(
            f"http://127.0.0.1:{options.provider_port}", config, KeyStore(StackOptions.key_file)
        )
        issuer.keys.active()  # the signing key exists before the first token is asked for
        for address in addresses:
            with port_of("the OpenID provider", "PROVIDER_PORT", "make sam-local"):
                server = ProviderServer(address, options.provider_port, log=print)
            server.issuer = issuer
            server.start()
            running.callback(server.stop)
        dynamodb_endpoint = local_dynamodb_endpoint(options)
        if dynamodb_endpoint:
            _start_dynamodb(options, addresses, running)
        reachable = f"{CONTAINER_HOST_NAME} ({route.gateway or 'Docker Desktop'})"
        print(
            f"Provider  {issuer.issuer}  (issuer; the functions reach it as {reachable})\n"
            f"          tokens: make token SCOPE=messages:read  (audience {config.audience})\n"
            f"API       http://127.0.0.1:{options.api_port}  once the SAM CLI says it is running."
            " Ctrl-C stops everything.\n",
            flush=True,
        )
        status = _foreground(start_api_command(options, parameters, route, dynamodb_endpoint), environment)
    return status


def _start_dynamodb(options: SamLocalOptions, addresses: list[str], running: ExitStack) -> None:
    """The template's tables in moto's server; one server per address, one in-memory store for all."""
    tables = load_served_api(options.template, _placeholder_provider() | dict(options.parameters)).tables
    for index, address in enumerate(addresses):
        with port_of("the local DynamoDB", "DYNAMODB_PORT", "make sam-local"):
            dynamodb = LocalDynamoDB(address, options.dynamodb_port)
        dynamodb.start()
        running.callback(dynamodb.stop)
        if index == 0:
            dynamodb.create_tables(tables.values())
            names = ", ".join(table.name for table in tables.values())
            print(f"DynamoDB  {dynamodb.url}  (moto, in memory; tables {names})", flush=True)


def _foreground(command: list[str], environment: dict[str, str]) -> int:
    """Run the SAM CLI until it exits. Ctrl-C reaches it from the terminal and it stops its containers;
    a TERM sent to this process is passed on to it as that Ctrl-C."""
    process: subprocess.Popen[bytes] | None = None

    def forward(signal_number: int, frame: FrameType | None) -> None:
        if process is not None and signal_number == signal.SIGTERM:
            process.send_signal(signal.SIGINT)

    # Handlers, not SIG_IGN, before the SAM CLI starts: an ignored SIGINT would be inherited (as when make
    # runs in the background) and the SAM CLI could not be stopped with Ctrl-C; a handler is not.
    previous = {number: signal.signal(number, forward) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        process = subprocess.Popen(command, env=environment, cwd=ROOT)  # noqa: S603
        return process.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def split_arguments(raw: str) -> tuple[str, ...]:
    return tuple(shlex.split(raw))
