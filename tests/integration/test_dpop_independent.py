"""Proofs made by an independent RFC 9449 implementation verify: panva's `dpop` package, run with Node
(tests/interop/dpop-js, installed by `make test` with npm ci). Skipped, with the reason, without them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jwt_authorizer import ProofRules, Reason, TokenRejected, verify_proof

pytestmark = pytest.mark.integration

INTEROP = Path(__file__).resolve().parents[1] / "interop" / "dpop-js"
URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/messages"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"


def signed_by_panva(requests: list[dict[str, str]], algorithm: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the independent DPoP implementation runs on Node 20")
    if not (INTEROP / "node_modules" / "dpop").is_dir():
        pytest.skip(f"panva's dpop is not installed: run `make test` (npm ci --prefix {INTEROP.name})")
    completed = subprocess.run(  # noqa: S603 - our own script, arguments we built
        [node, str(INTEROP / "sign.mjs"), json.dumps({"requests": requests}), algorithm],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


@pytest.mark.parametrize("algorithm", ["ES256", "RS256", "PS256", "Ed25519"])
def test_proofs_made_by_panvas_dpop_verify_with_its_own_thumbprint(algorithm: str) -> None:
    made = signed_by_panva(
        [{"htm": "GET", "htu": URL, "accessToken": TOKEN}, {"htm": "POST", "htu": URL, "accessToken": TOKEN}],
        algorithm,
    )
    get, post = made["proofs"]
    now = json.loads(_payload(get))["iat"]

    verified = verify_proof(get, method="GET", url=URL, access_token=TOKEN, now=now, rules=ProofRules())

    assert verified.thumbprint == made["thumbprint"]
    assert verify_proof(post, method="POST", url=URL, access_token=TOKEN, now=now, rules=ProofRules()).jti
    with pytest.raises(TokenRejected) as caught:
        verify_proof(post, method="GET", url=URL, access_token=TOKEN, now=now, rules=ProofRules())
    assert caught.value.reason is Reason.DPOP_HTM_MISMATCH


def _payload(proof: str) -> str:
    import base64

    segment = proof.split(".")[1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()
