"""What `sam build` packages for each function: its CodeUri folder plus its requirements.txt.

Each handler is imported in a fresh interpreter that sees only its own CodeUri folder (and the installed
packages), as Lambda will: an import of another function's code fails here, and the modules a cold start
loads are listed, so a heavy dependency cannot creep into the API functions unnoticed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.api_events import ROUTE_SCOPES

ROOT = Path(__file__).resolve().parents[2]

# -I keeps the current directory off sys.path; put it first, as Lambda puts the task root.
LIST_IMPORTS = """
import json, sys
sys.path.insert(0, ".")
import {module}
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def cold_imports(code_uri: str, module: str, env: dict[str, str]) -> set[str]:
    """Top-level modules loaded by importing `module` from `code_uri` alone, in a new interpreter."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-I", "-c", LIST_IMPORTS.format(module=module)],
        cwd=ROOT / code_uri,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", ["public_api", "protected_api"])
def test_the_api_functions_load_only_their_own_code_and_powertools(module: str) -> None:
    loaded = cold_imports("functions/api", module, {"ROUTE_SCOPES": ROUTE_SCOPES})

    assert "messages_api" in loaded
    assert loaded.isdisjoint({"jwt_authorizer", "authorizer_handler", "tests"})
    # (Powertools itself imports the bare botocore package, when present, to tag its user agent.)
    assert loaded.isdisjoint({"jwt", "cryptography", "requests", "boto3", "pydantic"})


def test_the_public_function_does_not_load_the_protected_routes_code() -> None:
    loaded = cold_imports("functions/api", "public_api", {})

    assert "protected_api" not in loaded


def test_the_authorizer_loads_only_its_own_code() -> None:
    env = {"ISSUER": "https://issuer.example.com", "AUDIENCE": "api://messages", "ROUTE_SCOPES": ROUTE_SCOPES}

    loaded = cold_imports("functions/authorizer", "authorizer_handler", env)

    assert "jwt_authorizer" in loaded
    assert loaded.isdisjoint({"messages_api", "public_api", "protected_api", "tests", "boto3", "pydantic"})
