"""`make explain` with DPoP: the verdict on a DPoP call, and the proof's checks one by one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devkit.tokens import SigningKey, mint, rsa_key
from jwt_authorizer import Settings
from local.dpop_client import ProofKey
from tests.support.providers import GENERIC_ISSUER, NOW, StaticFetcher, generic_claims, provider_documents
from tools.explain import Explanation, explain, main

pytestmark = pytest.mark.unit

URL = "https://api.example.com/v1/messages"
ENV = {
    "ISSUER": GENERIC_ISSUER,
    "AUDIENCE": "https://api.example.com",
    "ROUTE_SCOPES": json.dumps({"GET /messages": ["messages:read"]}),
    "DPOP": "required",
    "DPOP_REPLAY_TABLE": "DpopReplayTable",
}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return rsa_key("key-1")


@pytest.fixture(scope="module")
def client() -> ProofKey:
    return ProofKey.generate()


def run(token: str, key: SigningKey, proof: str | None, method: str = "GET", url: str = URL) -> Explanation:
    settings = Settings.from_env(ENV)
    documents: dict[str, Any] = provider_documents(GENERIC_ISSUER, key)
    return explain(
        token,
        settings,
        fetcher=StaticFetcher(documents),
        now=lambda: NOW + 60,
        proof=proof,
        method=method,
        url=url,
    )


def bound(key: SigningKey, client: ProofKey) -> str:
    return mint(key, generic_claims(cnf={"jkt": client.thumbprint}))


def test_a_good_proof_is_explained_and_allowed_and_not_recorded(key: SigningKey, client: ProofKey) -> None:
    token = bound(key, client)
    proof = client.proof("GET", URL, token, now=NOW + 55)

    first, again = run(token, key, proof), run(token, key, proof)

    assert (first.exit_code, again.exit_code) == (0, 0)  # explaining twice: nothing was recorded
    assert f"[ok]   RFC 9449 section 4.3 checks pass; key thumbprint {client.thumbprint}" in first.text
    assert "[ok]   the token's cnf.jkt names this key" in first.text
    assert "iat is 5 s before now (window 60 s either way)" in first.text


def test_a_proof_for_another_url_is_explained_with_its_reason_and_hint(
    key: SigningKey, client: ProofKey
) -> None:
    token = bound(key, client)
    proof = client.proof("GET", URL + "/1", token, now=NOW + 60)

    explanation = run(token, key, proof)

    assert (explanation.exit_code, explanation.reason) == (1, "dpop_htu_mismatch")
    assert "  [FAIL] dpop_htu_mismatch (htu 'https://api.example.com/v1/messages/1'" in explanation.text
    assert "         fix: make the proof for the URL as the client calls it" in explanation.text


def test_a_proof_by_another_key_is_a_key_mismatch(key: SigningKey, client: ProofKey) -> None:
    token = bound(key, client)
    proof = ProofKey.generate().proof("GET", URL, token, now=NOW + 60)

    explanation = run(token, key, proof)

    assert explanation.reason == "dpop_key_mismatch"
    assert "[FAIL] dpop_key_mismatch: the token's cnf.jkt is" in explanation.text


def test_a_dpop_token_without_its_proof_is_refused_and_told_what_to_give(
    key: SigningKey, client: ProofKey
) -> None:
    explanation = run(f"DPoP {bound(key, client)}", key, None)

    assert explanation.reason == "dpop_missing_proof"
    assert "give the call's proof, method and URL" in explanation.text


def test_main_takes_the_proof_method_and_url(
    key: SigningKey, client: ProofKey, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import io

    token = bound(key, client)
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps(ENV | {"ISSUER": "https://issuer.invalid"}))
    out = io.StringIO()
    proof = client.proof("POST", URL, token)

    code = main(
        ["--env-file", str(env_file), "--proof", proof, "--method", "POST", "--url", URL, token], stdout=out
    )

    # The token's issuer is not the file's: refused (1), and the proof is still read and explained.
    assert code == 1
    assert "request: POST https://api.example.com/v1/messages" in out.getvalue()
