"""The real SAM CLI: the README's flow against `sam local start-api` started by `make sam-local`, and
`sam local invoke` with every event in events/, against the artifacts `make sam-local` built.

They need Docker and the Lambda Python base image of the template's Runtime, and are skipped elsewhere with
the reason (CI has no Docker). `make test-sam` runs only these.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from devkit.tokens import SigningKey, mint, rsa_key
from local.dynamodb import ENDPOINT_VARIABLE
from local.lambdas import LambdaFunction
from local.provider import KeyStore, ProviderConfig, TokenIssuer
from local.sam_local import (
    BUILD_DIR,
    SamLocalError,
    SamLocalOptions,
    container_route,
    docker_info,
    lambda_architecture,
    local_dynamodb_endpoint,
    local_parameters,
    runtime_of,
    runtime_python,
    sam_local_arguments,
)
from local.stack import ROOT, StackOptions
from local.template import load_api, with_variable

pytestmark = pytest.mark.sam

SAM = ROOT / ".venv-sam" / "bin" / "sam"
MAKE = shutil.which("make") or "make"
DOCKER = shutil.which("docker") or "docker"
EVENTS = sorted((ROOT / "events").glob("*.json"))
#: Building and starting three containers on a shared machine: generous, but bounded.
START_SECONDS = 600
TEMPLATE = StackOptions.template


def _skip_reason() -> str | None:
    """Why these tests cannot run here, after what they need and how to run them; None when they can.

    Read in a plain `make test`'s summary, so it speaks of the tests, not of `make sam-local`."""
    runtime = runtime_of(TEMPLATE)
    image = f"public.ecr.aws/lambda/{runtime.replace('python', 'python:')}-{lambda_architecture()}"
    needs = (
        f"the SAM CLI tests need Docker running, the Lambda base image {image} and {runtime} (the"
        f" template's Runtime, for sam build); with them, run make test-sam. Here"
    )
    if shutil.which(DOCKER) is None:
        return f"{needs}, Docker is not installed"
    try:
        docker_info()
    except SamLocalError:
        return f"{needs}, Docker does not answer (`docker info` failed): start it"
    try:
        runtime_python(runtime, os.environ.get("RUNTIME_PYTHON"))
    except SamLocalError:
        return f"{needs}, {runtime} is not on PATH (or: make test-sam RUNTIME_PYTHON=/path/to/{runtime})"
    present = subprocess.run(  # noqa: S603 - a fixed docker command
        [DOCKER, "image", "inspect", image], capture_output=True, check=False, timeout=60
    )  # fmt: skip
    if present.returncode != 0:
        return f"{needs}, the image is not present: docker pull {image}"
    # Lambda's Python runtime provides the AWS SDK, which the protected function imports; so does the real
    # image. An image without it (a home-made stand-in) would fail every protected route.
    sdk = subprocess.run(  # noqa: S603 - a fixed docker command
        [DOCKER, "run", "--rm", "--entrypoint", "/bin/sh", image, "-c",
         "PYTHONPATH=/var/runtime exec /var/lang/bin/python3 -c 'import boto3'"],
        capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    if sdk.returncode != 0:
        return f"{needs}, {image} lacks the AWS SDK for Python that Lambda's runtime has: use the real image"
    if not SAM.exists():
        return f"{needs}, the SAM CLI is not installed in .venv-sam: make test-sam installs it"
    return None


@pytest.fixture(scope="module")
def skip_unless_docker() -> None:
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SamLocal:
    api: str
    options: SamLocalOptions
    log: Path

    def call(
        self, method: str, path: str, authorization: str | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = {"Authorization": authorization} if authorization is not None else {}
        return requests.request(method, f"{self.api}{path}", headers=headers, timeout=60, **kwargs)

    def token(self, scope: str) -> str:
        # `make token`, unchanged, against the provider make sam-local started.
        result = subprocess.run(  # noqa: S603 - our own Makefile
            [MAKE, "-s", "token", f"PROVIDER_PORT={self.options.provider_port}", f"SCOPE={scope}"],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        return result.stdout.strip()


@pytest.fixture(scope="module")
def sam_local(skip_unless_docker: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamLocal]:
    with running_sam_local(tmp_path_factory.mktemp("sam-local")) as running:
        yield running


@contextmanager
def running_sam_local(
    log_dir: Path, template: Path | None = None, variables: Sequence[str] = ()
) -> Iterator[SamLocal]:
    """`make sam-local` on free ports (for `template`, else template.yaml, with make `variables` such as
    DPOP=required), until the block ends."""
    options = SamLocalOptions(
        str(SAM), _free_port(), _free_port(), _free_port(), template=template or TEMPLATE
    )
    log = log_dir / "make-sam-local.log"
    chosen = [f"TEMPLATE={template.relative_to(ROOT)}"] if template is not None else []
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own Makefile
            [MAKE, "sam-local", *chosen, f"API_PORT={options.api_port}",
             f"PROVIDER_PORT={options.provider_port}", f"DYNAMODB_PORT={options.dynamodb_port}",
             "SAM_LOCAL_ARGS=--skip-pull-image", *variables],
            cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    running = SamLocal(f"http://127.0.0.1:{options.api_port}", options, log)
    try:
        _wait_until_serving(running, process)
        yield running
    finally:
        # Ctrl-C, as in a terminal: the whole process group (make, the provider, the SAM CLI), unless
        # make sam-local already exited (its failure is the test's report, not a missing process).
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _wait_until_serving(running: SamLocal, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"make sam-local exited with {process.returncode}:\n{running.log.read_text()[-4000:]}"
            )
        try:
            if requests.get(f"{running.api}/public", timeout=30).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    pytest.fail(f"make sam-local did not serve within {START_SECONDS}s:\n{running.log.read_text()[-4000:]}")


def _expired_token(provider_port: int) -> str:
    """A token the provider signed an hour and a half ago: its one-hour lifetime is over."""
    config = ProviderConfig.load(StackOptions.provider_config)
    past = time.time() - 5_400
    issuer = TokenIssuer(
        f"http://127.0.0.1:{provider_port}", config, KeyStore(StackOptions.key_file), now=lambda: past
    )
    client = next(client for client in config.clients.values() if client.secret is not None)
    assert client.secret is not None
    form = {
        "grant_type": "client_credentials",
        "client_id": client.client_id,
        "client_secret": client.secret,
    }
    return str(issuer.issue(form, None)["access_token"])


def _forged(token: str) -> str:
    """The same header and claims, signed by a key the provider never had."""
    header, claims, _ = token.split(".")
    kid = str(json.loads(_b64decode(header))["kid"])
    return mint(SigningKey(kid, rsa_key("forger").private_key, "RS256"), json.loads(_b64decode(claims)))


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _seen(response: requests.Response) -> str:
    return f"{response.status_code} {response.text.strip()}"


def test_the_readme_flow_gives_the_documented_statuses(sam_local: SamLocal) -> None:
    reader = sam_local.token("messages:read")
    writer = sam_local.token("messages:read messages:write")
    post = {"json": {"text": "hello"}}
    steps = [
        ("public, no token", "GET", "/public", None, {}, 200),
        ("no token", "GET", "/profile", None, {}, 401),
        ("malformed token", "GET", "/profile", "Bearer not-a-jwt", {}, 401),
        ("forged token", "GET", "/profile", f"Bearer {_forged(reader)}", {}, 403),
        (
            "expired token",
            "GET",
            "/profile",
            f"Bearer {_expired_token(sam_local.options.provider_port)}",
            {},
            403,
        ),
        ("read token, profile", "GET", "/profile", f"Bearer {reader}", {}, 200),
        ("read token, messages", "GET", "/messages", f"Bearer {reader}", {}, 200),
        ("read token, post", "POST", "/messages", f"Bearer {reader}", post, 403),
        ("both scopes, post", "POST", "/messages", f"Bearer {writer}", post, 201),
    ]
    seen = {}
    for name, method, path, authorization, kwargs, _ in steps:
        seen[name] = sam_local.call(method, path, authorization, **kwargs)
    print("\n".join(f"{name}: {method} {path} -> {_seen(seen[name])}" for name, method, path, *_ in steps))
    assert {name: seen[name].status_code for name, *_ in steps} == {
        name: status for name, *_, status in steps
    }
    assert seen["read token, profile"].json()["scopes"] == ["messages:read"]
    assert seen["both scopes, post"].json()["text"] == "hello"
    # Refused tokens are the SAM CLI's own 403, never its 502 for an authorizer that raised.
    refused = {"message": "User is not authorized to access this resource"}
    assert seen["forged token"].json() == seen["expired token"].json() == refused


def _function_for(event: dict[str, Any], parameters: dict[str, str]) -> str:
    api = load_api(TEMPLATE, parameters)
    if event.get("type") == "TOKEN":
        (authorizer,) = {spec.function for spec in api.authorizers.values()}
        return authorizer
    for route in api.routes:
        if route.path == event["resource"] and route.method in (event["httpMethod"], "ANY"):
            return route.function
    raise AssertionError(f"no function of {TEMPLATE.name} serves {event['httpMethod']} {event['resource']}")


def _in_process(
    function: str, parameters: dict[str, str], event: dict[str, Any], dynamodb_endpoint: str | None
) -> dict[str, Any]:
    """What the same handler answers run in this process, as the SAM CLI runs it (AWS_SAM_LOCAL=true)."""
    api = load_api(TEMPLATE, parameters)
    if dynamodb_endpoint:
        api = with_variable(api, ENDPOINT_VARIABLE, dynamodb_endpoint)
    lambda_function = LambdaFunction(api.functions[function])
    lambda_function.environment["AWS_SAM_LOCAL"] = "true"
    answer: dict[str, Any] = lambda_function.invoke(event)
    return answer


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without what differs from one call to the next (ids, times): its status and shape."""
    if "statusCode" not in answer:
        return answer  # an authorizer's policy: compared whole
    body = json.loads(answer.get("body") or "null")
    return {"statusCode": answer["statusCode"], "body": sorted(body) if isinstance(body, dict) else body}


@pytest.mark.parametrize("event_file", EVENTS, ids=[path.name for path in EVENTS])
def test_sam_local_invoke_answers_every_event_as_the_handler_does(
    sam_local: SamLocal, event_file: Path
) -> None:
    audience = ProviderConfig.load(StackOptions.provider_config).audience
    parameters = local_parameters(sam_local.options, audience, lambda_architecture())
    event = json.loads(event_file.read_text())
    function = _function_for(event, parameters)
    result = subprocess.run(  # noqa: S603 - the SAM CLI on our own template and events
        [str(SAM), "local", "invoke", function, "--template-file", str(BUILD_DIR / "template.yaml"),
         "--event", str(event_file), "--skip-pull-image",
         *sam_local_arguments(parameters, container_route(docker_info(), ()),
                              local_dynamodb_endpoint(sam_local.options))],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{event_file.name} -> {function}: {json.dumps(answer)[:400]}")
    # This process reaches the same provider and DynamoDB at 127.0.0.1.
    here = local_parameters(sam_local.options, audience, lambda_architecture(), host="127.0.0.1")
    here_dynamodb = local_dynamodb_endpoint(sam_local.options, host="127.0.0.1")
    assert _comparable(answer) == _comparable(_in_process(function, here, event, here_dynamodb))
    if event.get("type") == "TOKEN":
        # The placeholder token is refused: under the SAM CLI as a policy that allows nothing.
        assert answer["principalId"] == "anonymous"
        assert answer["context"] == {"error": "Unauthorized"}
        assert [s["Effect"] for s in answer["policyDocument"]["Statement"]] == ["Deny"]
