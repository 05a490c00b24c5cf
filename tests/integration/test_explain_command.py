"""`python -m tools.explain`, as `make explain` runs it, against a provider on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from devkit.jwks_server import JwksServer
from devkit.tokens import SigningKey, claims_for, jwks_of, mint

ROOT = Path(__file__).resolve().parents[2]
#: As `make explain` sets it.
PYTHONPATH = os.pathsep.join(
    [*(str(ROOT / "functions" / name) for name in ("authorizer", "shared")), str(ROOT)]
)


def run_explain(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tools.explain", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": PYTHONPATH} | env,
    )


def test_the_command_explains_a_token_read_from_stdin(
    jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    env = {
        "ISSUER": jwks_server.issuer,
        "AUDIENCE": "api://messages",
        "ROUTE_SCOPES": json.dumps({"POST /messages": ["messages:write"]}),
    }
    token = mint(rsa_signing_key, claims_for(jwks_server.issuer))

    finished = run_explain(env, "-", stdin=f"Bearer {token}\n")

    assert (finished.returncode, finished.stderr) == (0, "")
    assert f"  [ok]   valid RS256 signature by key '{rsa_signing_key.kid}'\n" in finished.stdout
    assert "  [FAIL] POST /messages needs messages:write: missing messages:write -> 403\n" in finished.stdout
    assert "  [ok]   valid token; 403 insufficient_scope on: POST /messages\n" in finished.stdout
    assert token.split(".")[2] not in finished.stdout
    assert jwks_server.jwks_fetches == 1


def test_the_command_exits_non_zero_for_a_refused_token(
    jwks_server: JwksServer, rsa_signing_key: SigningKey, rotated_rsa_key: SigningKey
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    env = {"ISSUER": jwks_server.issuer, "AUDIENCE": "api://messages"}
    forged = mint(rotated_rsa_key, claims_for(jwks_server.issuer), kid=rsa_signing_key.kid)

    finished = run_explain(env | {"TOKEN": forged})

    assert finished.returncode == 1
    assert finished.stdout.endswith("  [FAIL] 401 Unauthorized: invalid_signature\n")
    assert forged.split(".")[2] not in finished.stdout
