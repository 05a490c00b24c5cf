"""docs/dpop.md's flow on the local stack with Dpop=required and allowed: template.yaml's REQUEST authorizer
behind the local gateway, DPoP-bound tokens from the local provider, the replay table in the local
DynamoDB, all on free ports of 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.dpop_client import ProofKey
from local.stack import LocalStack, StackOptions

pytestmark = pytest.mark.e2e


def start(mode: str, key_dir: Path, lines: list[str]) -> LocalStack:
    options = StackOptions(
        api_port=0, provider_port=0, key_file=key_dir / "provider-keys.json", parameters={"Dpop": mode}
    )
    running = LocalStack(options, log=lines.append)
    running.start()
    return running


@pytest.fixture(scope="module")
def required(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    running = start("required", tmp_path_factory.mktemp("keys"), [])
    try:
        yield running
    finally:
        running.stop()


def token(stack: LocalStack, key: ProofKey | None, scope: str | None = None) -> requests.Response:
    endpoint = f"{stack.provider_url}/oauth2/token"
    data = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
    headers = {"DPoP": key.proof("POST", endpoint)} if key is not None else {}
    return requests.post(endpoint, data=data, auth=("dev-client", "dev-secret"), headers=headers, timeout=10)


def call(stack: LocalStack, method: str, path: str, headers: dict[str, str], **kwargs: object) -> int:
    response = requests.request(method, f"{stack.api_url}{path}", headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]
    return response.status_code


def test_the_provider_binds_the_token_to_the_proofs_key(required: LocalStack) -> None:
    key = ProofKey.generate()
    answer = token(required, key).json()

    import jwt

    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert answer["token_type"] == "DPoP"
    assert claims["cnf"] == {"jkt": key.thumbprint}


def test_the_documented_flow_answers_as_documented(required: LocalStack) -> None:
    key = ProofKey.generate()
    read_only = token(required, key, "messages:read").json()["access_token"]
    url = f"{required.api_url}/messages"
    auth = {"Authorization": f"DPoP {read_only}"}
    proof = key.proof("GET", url, read_only)

    statuses = [
        call(required, "GET", "/messages", auth),
        call(required, "GET", "/messages", auth | {"DPoP": key.proof("GET", url + "/1", read_only)}),
        call(required, "GET", "/messages", auth | {"DPoP": key.proof("POST", url, read_only)}),
        call(required, "GET", "/messages", auth | {"DPoP": proof}),
        call(required, "GET", "/messages", auth | {"DPoP": proof}),
        call(
            required,
            "POST",
            "/messages",
            auth | {"DPoP": key.proof("POST", url, read_only)},
            json={"text": "x"},
        ),
        call(required, "GET", "/messages", {"Authorization": f"Bearer {read_only}"}),
    ]

    assert statuses == [401, 401, 401, 200, 401, 403, 401]
    challenge = requests.get(url, headers=auth, timeout=10).headers["WWW-Authenticate"]
    metadata = f"{required.api_url}/.well-known/oauth-protected-resource"
    assert challenge == f'DPoP algs="ES256 RS256 PS256 EdDSA Ed25519", resource_metadata="{metadata}"'


def test_a_token_request_with_a_used_or_bad_proof_is_refused(required: LocalStack) -> None:
    key = ProofKey.generate()
    endpoint = f"{required.provider_url}/oauth2/token"
    proof = key.proof("POST", endpoint)
    data = {"grant_type": "client_credentials"}
    auth = ("dev-client", "dev-secret")

    first = requests.post(endpoint, data=data, auth=auth, headers={"DPoP": proof}, timeout=10)
    again = requests.post(endpoint, data=data, auth=auth, headers={"DPoP": proof}, timeout=10)
    elsewhere = requests.post(
        endpoint, data=data, auth=auth, headers={"DPoP": key.proof("POST", endpoint + "x")}, timeout=10
    )

    assert first.status_code == 200
    assert (again.status_code, again.json()["error"]) == (400, "invalid_dpop_proof")
    assert (elsewhere.status_code, elsewhere.json()["error"]) == (400, "invalid_dpop_proof")
