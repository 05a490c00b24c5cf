"""A JWKS that carries a key anyone can sign for, through the Lambda entry point over real HTTP.

Each token here is forged from the public key alone. The authorizer refuses it (401), logs the key it
skipped with the reason, and keeps serving the provider's good keys from the same JWKS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from devkit.jwks_server import JwksServer
from devkit.tokens import SigningKey, claims_for, jwks_of, mint, rsa_key
from jwt_authorizer import Settings
from tests.support.degenerate_keys import (
    ED448_SMALL_ORDER,
    ED25519_SMALL_ORDER,
    RSA_FORGERIES,
    RsaForgery,
    forge_eddsa,
    forged_token,
    jwk_of_eddsa,
)
from tests.support.harness import Outcome, classify, load_handler, token_event, watching_logs
from tests.support.providers import StaticFetcher, provider_documents
from tools.explain import explain

WEAK_KID = "weak-1"
ORDER_8 = ED25519_SMALL_ORDER[6]


def _eddsa(public_bytes: bytes) -> tuple[dict[str, Any], Callable[[bytes], bytes | None]]:
    public = (Ed25519PublicKey if len(public_bytes) == 32 else Ed448PublicKey).from_public_bytes(public_bytes)
    return jwk_of_eddsa(WEAK_KID, public_bytes), lambda message: forge_eddsa(public, message)


def _rsa(name: str) -> tuple[dict[str, Any], Callable[[bytes], bytes | None]]:
    forgery = RSA_FORGERIES[name][0]()
    return forgery.jwk(WEAK_KID), forgery.sign


def _rsa_exponent_1() -> tuple[dict[str, Any], Callable[[bytes], bytes | None]]:
    # With e = 1 the signature is the padded digest itself.
    real = rsa_key("real").private_key.public_key().public_numbers()
    forgery = RsaForgery(real.n, 1, 2)
    return forgery.jwk(WEAK_KID), forgery.sign


REFUSED = "a key no real provider publishes: "
#: What each forged key is: its algorithm, the JWK and forger of it, and how its refusal is logged.
FORGERIES: dict[
    str, tuple[str, Callable[[], tuple[dict[str, Any], Callable[[bytes], bytes | None]]], str]
] = {
    "Ed25519 identity point": ("EdDSA", lambda: _eddsa(ED25519_SMALL_ORDER[2]), REFUSED),
    "Ed25519 point of order 8": ("EdDSA", lambda: _eddsa(ORDER_8), REFUSED),
    "Ed25519 identity, non-canonical (y = p + 1)": (
        "EdDSA",
        lambda: _eddsa(ED25519_SMALL_ORDER[12]),
        REFUSED,
    ),
    "Ed448 point of order 4": ("EdDSA", lambda: _eddsa(ED448_SMALL_ORDER[0]), REFUSED),
    **{f"RSA, {name}": ("RS256", lambda name=name: _rsa(name), REFUSED) for name in RSA_FORGERIES},  # type: ignore[misc]
    # cryptography refuses it first, in its own words (and refused it before these checks existed)
    "RSA, exponent 1": ("RS256", _rsa_exponent_1, "invalid RSA key (e must be >= 3 and < n.)"),
}


@pytest.mark.parametrize("case", list(FORGERIES))
def test_a_token_forged_with_a_degenerate_published_key_is_refused_and_the_key_logged(
    case: str, monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    # Given a JWKS with the provider's real key and, beside it, a key anyone can sign for
    algorithm, make, logged = FORGERIES[case]
    weak_jwk, sign = make()
    jwks_server.publish({"keys": [*jwks_of(rsa_signing_key)["keys"], weak_jwk]})
    handler = load_handler(monkeypatch, jwks_server.issuer, ALGORITHMS="RS256,EdDSA")
    forged = forged_token(
        {"alg": algorithm, "kid": WEAK_KID, "typ": "JWT"},
        claims_for(jwks_server.issuer, scope="messages:read messages:write"),
        sign,
    )
    with watching_logs(handler.SERVICE_NAME) as watch:
        # When the forged token comes first, then a token the provider really signed
        refused, _ = classify(lambda e: handler.lambda_handler(e, None), token_event(f"Bearer {forged}"))
        real = mint(rsa_signing_key, claims_for(jwks_server.issuer))
        allowed, _ = classify(lambda e: handler.lambda_handler(e, None), token_event(f"Bearer {real}"))
    # Then the forgery gets 401, the real token its Allow, and the skipped key is logged with its reason
    assert (refused, allowed) == (Outcome.UNAUTHORIZED, Outcome.ALLOW)
    fetched = [json.loads(line) for line in watch.stream.getvalue().splitlines()]
    skipped = [line["skipped_keys"] for line in fetched if line["message"] == "JWKS fetched"]
    assert len(skipped) == 1
    assert len(skipped[0]) == 1
    assert skipped[0][0].startswith(f"key #1 (kid '{WEAK_KID}'): {logged}")
    assert jwks_server.jwks_fetches == 1


def test_make_explain_names_the_refused_key_and_its_reason(rsa_signing_key: SigningKey) -> None:
    issuer = "https://auth.example.com"
    weak_jwk, sign = _eddsa(ED25519_SMALL_ORDER[2])
    documents = provider_documents(issuer, rsa_signing_key)
    documents[issuer + "/.well-known/jwks.json"]["keys"].append(weak_jwk)
    settings = Settings.from_env(
        {"ISSUER": issuer, "AUDIENCE": "api://messages", "ALGORITHMS": "RS256,EdDSA"}
    )
    forged = forged_token({"alg": "EdDSA", "kid": WEAK_KID}, claims_for(issuer), sign)
    explained = explain(forged, settings, fetcher=StaticFetcher(documents))
    assert explained.reason == "unknown_kid"
    assert (
        f"skipped key #1 (kid '{WEAK_KID}'): a key no real provider publishes: a point of small order"
        in explained.text
    )
