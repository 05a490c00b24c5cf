"""What `sam build` packages for each function: what its Makefile copies from its CodeUri, plus its
requirements.txt.

Each handler is imported in a fresh interpreter that sees only its own artifact, built by its Makefile
(and the installed packages), as Lambda will: an import of another function's code fails here, and the
modules a cold start loads are listed, so a heavy dependency cannot creep into the API functions unnoticed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.api_events import ROUTE_SCOPES
from tests.support.function_build import MAKE, ROOT, offline_build

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each function's artifact, as its Makefile builds it (requirements from this environment)."""
    functions = ("AuthorizerFunction", "PublicFunction", "ProtectedFunction")
    return {function: offline_build(function, tmp_path_factory.mktemp(function)) for function in functions}


# -I keeps the current directory off sys.path; put it first, as Lambda puts the task root.
LIST_IMPORTS = """
import json, sys
sys.path.insert(0, ".")
import {module}
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def cold_imports(artifact: Path, module: str, env: dict[str, str]) -> set[str]:
    """Top-level modules loaded by importing `module` from `artifact` alone, in a new interpreter."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-I", "-c", LIST_IMPORTS.format(module=module)],
        cwd=artifact,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    ("function", "module"), [("PublicFunction", "public_api"), ("ProtectedFunction", "protected_api")]
)
def test_the_api_functions_load_only_their_own_code_and_powertools(
    artifacts: dict[str, Path], function: str, module: str
) -> None:
    env = {"ROUTE_SCOPES": ROUTE_SCOPES, "TABLE_NAME": "MessagesTable", "AWS_DEFAULT_REGION": "us-east-1"}

    loaded = cold_imports(artifacts[function], module, env)

    assert "messages_api" in loaded
    assert loaded.isdisjoint({"jwt_authorizer", "authorizer_handler", "tests"})
    # (Powertools itself imports the bare botocore package, when present, to tag its user agent.)
    assert loaded.isdisjoint({"jwt", "cryptography", "requests", "pydantic", "moto", "samtranslator"})
    # The protected function's DynamoDB client is built at init; the public function never needs one.
    assert ("boto3" in loaded) is (function == "ProtectedFunction")


def test_the_api_functions_rely_on_the_runtimes_boto3_instead_of_bundling_it() -> None:
    # Lambda's Python runtimes include boto3; shipping it would make the zip about ten times larger
    # (functions/api/requirements.txt and docs/performance.md).
    requirements = (ROOT / "functions" / "api" / "requirements.txt").read_text().splitlines()
    names = {line.split(">")[0].split("=")[0].split("[")[0].strip().lower() for line in requirements}

    assert names.isdisjoint({"boto3", "botocore", "s3transfer"})


def test_the_public_function_does_not_load_the_protected_routes_code(artifacts: dict[str, Path]) -> None:
    loaded = cold_imports(artifacts["PublicFunction"], "public_api", {})

    assert "protected_api" not in loaded


def test_the_authorizer_loads_only_its_own_code(artifacts: dict[str, Path]) -> None:
    env = {"ISSUER": "https://issuer.example.com", "AUDIENCE": "api://messages", "ROUTE_SCOPES": ROUTE_SCOPES}

    loaded = cold_imports(artifacts["AuthorizerFunction"], "authorizer_handler", env)

    assert "jwt_authorizer" in loaded
    assert loaded.isdisjoint({"messages_api", "public_api", "protected_api", "tests", "boto3", "pydantic"})
