"""The yardsticks of the cold-start benchmark do the work they stand for: each fetches the JWKS from a
real server on 127.0.0.1 and checks the signature, so a token that does not verify makes it fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.jwks_server import JwksServer
from devkit.tokens import SigningKey, claims_for, jwks_of, mint

BENCH = Path(__file__).resolve().parents[2] / "bench"
PROGRAMS = {
    "floor": [str(BENCH / "floor_authorizer.py")],
    "floor fetching with requests": [str(BENCH / "design_floor_authorizer.py"), "requests"],
    "design floor": [str(BENCH / "design_floor_authorizer.py"), "design"],
}


def run(
    program: list[str], token: str, jwks_server: JwksServer, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    # The first argument is the artifact whose libraries the program loads: here, this environment's own.
    arguments = [sys.executable, program[0], str(tmp_path), token, *program[1:]]
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "JWKS_URI": jwks_server.base_url + jwks_server.jwks_path,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and programs
        arguments, env=environment, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_a_yardstick_answers_a_valid_token_and_fails_on_a_tampered_one(
    name: str, jwks_server: JwksServer, rsa_signing_key: SigningKey, tmp_path: Path
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    token = mint(rsa_signing_key, claims_for(jwks_server.issuer))
    header, payload, signature = token.split(".")
    tampered = ".".join(
        [header, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature]
    )

    valid = run(PROGRAMS[name], token, jwks_server, tmp_path)
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.splitlines()[-1].startswith('BENCH {"peak_kib": ')

    refused = run(PROGRAMS[name], tampered, jwks_server, tmp_path)
    assert refused.returncode != 0
    assert "InvalidSignature" in refused.stderr or "Signature verification failed" in refused.stderr
    assert jwks_server.jwks_fetches == 2
