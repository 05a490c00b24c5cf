from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from devkit.clock import FakeClock
from devkit.tokens import (
    AUDIENCE,
    REMOVE,
    SigningKey,
    b64url,
    b64url_json,
    claims_for,
    jwks_of,
    mint,
    sign_raw,
    split,
)
from jwt_authorizer.config import Settings
from jwt_authorizer.errors import TokenRejected
from jwt_authorizer.jwks import JwksCache
from jwt_authorizer.keys import parse_jwks
from jwt_authorizer.verify import TokenVerifier

ISSUER = "https://issuer.example.com/"
NOW = 1_800_000_000.0


def verifier_for(*keys: SigningKey, algorithms: str = "RS256,PS256,ES256,EdDSA", **env: str) -> TokenVerifier:
    settings = Settings.from_env({"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, "ALGORITHMS": algorithms, **env})
    document = jwks_of(*keys)
    cache = JwksCache(
        lambda: parse_jwks(document, settings.algorithms),
        ISSUER,
        ttl=600,
        cooldown=30,
        max_stale=3600,
        clock=FakeClock(),
    )
    return TokenVerifier(settings, {ISSUER: cache}, now=lambda: NOW)


def claims(**overrides: Any) -> dict[str, Any]:
    return claims_for(ISSUER, now=NOW, **overrides)


def rejection(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as raised:
        verifier.verify(token)
    return raised.value.reason


@pytest.fixture
def verifier(rsa_signing_key: SigningKey) -> TokenVerifier:
    return verifier_for(rsa_signing_key)


def test_a_valid_token_yields_its_claims_kid_and_algorithm(
    verifier: TokenVerifier, rsa_signing_key: SigningKey
) -> None:
    verified = verifier.verify(mint(rsa_signing_key, claims()))
    assert verified.claims == claims()
    assert (verified.kid, verified.algorithm, verified.subject, verified.issuer) == (
        "rsa-1",
        "RS256",
        "user-123",
        ISSUER,
    )


@pytest.mark.parametrize("fixture", ["ec_signing_key", "ed25519_signing_key"])
def test_ec_and_eddsa_tokens_verify_when_allowed(fixture: str, request: pytest.FixtureRequest) -> None:
    key: SigningKey = request.getfixturevalue(fixture)
    assert verifier_for(key).verify(mint(key, claims())).subject == "user-123"


def test_an_rsa_key_published_without_alg_verifies_one_algorithm_only(rsa_signing_key: SigningKey) -> None:
    no_alg = SigningKey(rsa_signing_key.kid, rsa_signing_key.private_key, "RS256", {"alg": REMOVE})
    # PS256 alone: the key's one algorithm is PS256
    ps256_only = verifier_for(no_alg, algorithms="PS256")
    assert ps256_only.verify(mint(no_alg, claims(), algorithm="PS256")).algorithm == "PS256"
    # RS256 and PS256: the key is bound to RS256 (RFC 8725bis section 3.1), as PyJWT's PyJWK binds it
    both = verifier_for(no_alg, algorithms="RS256,PS256")
    assert both.verify(mint(no_alg, claims())).algorithm == "RS256"
    assert rejection(both, mint(no_alg, claims(), algorithm="PS256")) == "algorithm_mismatch"


# RFC 9864: the fully specified Ed25519 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("jwk_alg", "algorithms", "token_alg", "reason"),
    [
        ("Ed25519", "Ed25519", "Ed25519", None),
        (REMOVE, "Ed25519", "Ed25519", None),
        (REMOVE, "EdDSA,Ed25519", "Ed25519", None),
        (REMOVE, "EdDSA,Ed25519", "EdDSA", None),  # one operation, both names, for a key without alg
        ("EdDSA", "EdDSA,Ed25519", "Ed25519", "algorithm_mismatch"),  # the JWK alg pins the name
        ("Ed25519", "EdDSA,Ed25519", "EdDSA", "algorithm_mismatch"),
        (REMOVE, "EdDSA", "Ed25519", "algorithm_not_allowed"),
        (REMOVE, "Ed25519", "EdDSA", "algorithm_not_allowed"),
        (REMOVE, "EdDSA,Ed25519", "Ed448", "algorithm_not_allowed"),
    ],
)
def test_ed25519_is_accepted_where_configured_on_an_ed25519_key(
    ed25519_signing_key: SigningKey, jwk_alg: Any, algorithms: str, token_alg: str, reason: str | None
) -> None:
    key = SigningKey(ed25519_signing_key.kid, ed25519_signing_key.private_key, "EdDSA", {"alg": jwk_alg})
    verifier = verifier_for(key, algorithms=algorithms)
    token = sign_raw(key, {"alg": token_alg, "kid": key.kid}, claims(), "EdDSA")
    if reason is None:
        assert verifier.verify(token).algorithm == token_alg
    else:
        assert rejection(verifier, token) == reason


def test_ed25519_never_verifies_with_an_ed448_key(ed448_signing_key: SigningKey) -> None:
    verifier = verifier_for(ed448_signing_key, algorithms="EdDSA,Ed25519")
    assert verifier.verify(mint(ed448_signing_key, claims())).algorithm == "EdDSA"
    token = sign_raw(ed448_signing_key, {"alg": "Ed25519", "kid": ed448_signing_key.kid}, claims(), "EdDSA")
    assert rejection(verifier, token) == "algorithm_mismatch"


# Header ------------------------------------------------------------------------------------------------


def test_an_algorithm_outside_the_allow_list_is_rejected(rsa_signing_key: SigningKey) -> None:
    verifier = verifier_for(rsa_signing_key, algorithms="ES256")
    assert rejection(verifier, mint(rsa_signing_key, claims())) == "algorithm_not_allowed"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "HS256", "HS384", "HS512", "rs256", "", None, 1])
def test_none_symmetric_and_odd_algorithms_are_never_accepted(
    verifier: TokenVerifier, rsa_signing_key: SigningKey, alg: object
) -> None:
    _, payload, signature = split(mint(rsa_signing_key, claims()))
    forged_header = b64url_json({"alg": alg, "kid": "rsa-1"})
    assert rejection(verifier, f"{forged_header}.{payload}.{signature}") == "algorithm_not_allowed"


def test_hs256_signed_with_the_public_key_is_rejected(
    verifier: TokenVerifier, rsa_signing_key: SigningKey
) -> None:
    public_pem = rsa_signing_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{b64url_json({'alg': 'HS256', 'kid': 'rsa-1'})}.{b64url_json(claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert rejection(verifier, f"{signing_input}.{b64url(mac)}") == "algorithm_not_allowed"


def test_an_algorithm_that_does_not_fit_the_key_is_rejected(rsa_signing_key: SigningKey) -> None:
    # The JWK says RS256; a PS256 signature by the same private key must not be accepted.
    verifier = verifier_for(rsa_signing_key, algorithms="RS256,PS256")
    token = mint(rsa_signing_key, claims(), algorithm="PS256")
    assert rejection(verifier, token) == "algorithm_mismatch"


@pytest.mark.parametrize("kid", [REMOVE, "", 7, None, ["rsa-1"], "k" * 257])
def test_a_token_needs_a_string_kid(verifier: TokenVerifier, rsa_signing_key: SigningKey, kid: Any) -> None:
    header = {"alg": "RS256"} if kid is REMOVE else {"alg": "RS256", "kid": kid}
    assert rejection(verifier, sign_raw(rsa_signing_key, header, claims())) == "missing_kid"


def test_an_unknown_kid_is_rejected(verifier: TokenVerifier, rotated_rsa_key: SigningKey) -> None:
    assert rejection(verifier, mint(rotated_rsa_key, claims())) == "unknown_kid"


@pytest.mark.parametrize("header", [{"crit": ["exp"]}, {"crit": ["b64"], "b64": False}, {"b64": True}])
def test_critical_header_extensions_are_rejected(
    verifier: TokenVerifier, rsa_signing_key: SigningKey, header: dict[str, Any]
) -> None:
    token = sign_raw(rsa_signing_key, {"alg": "RS256", "kid": "rsa-1", **header}, claims())
    assert rejection(verifier, token) == "unsupported_header"


def test_key_locations_named_by_the_token_are_ignored(
    verifier: TokenVerifier, rsa_signing_key: SigningKey, rotated_rsa_key: SigningKey
) -> None:
    # The attacker signs with their own key and points at it every way JOSE allows.
    attacker = SigningKey("rsa-1", rotated_rsa_key.private_key, "RS256")
    token = mint(
        attacker,
        claims(),
        jku="http://127.0.0.1:1/jwks",
        x5u="http://127.0.0.1:1/cert",
        jwk=attacker.public_jwk(),
        x5c=["MIIB"],
    )
    assert rejection(verifier, token) == "invalid_signature"


# Signature ---------------------------------------------------------------------------------------------


def test_a_tampered_payload_is_rejected(verifier: TokenVerifier, rsa_signing_key: SigningKey) -> None:
    header, _, signature = split(mint(rsa_signing_key, claims()))
    tampered = b64url_json(claims(sub="admin"))
    assert rejection(verifier, f"{header}.{tampered}.{signature}") == "invalid_signature"


def test_a_signature_lifted_from_another_token_is_rejected(
    verifier: TokenVerifier, rsa_signing_key: SigningKey
) -> None:
    header, payload, _ = split(mint(rsa_signing_key, claims(sub="victim")))
    *_, other_signature = split(mint(rsa_signing_key, claims(sub="attacker")))
    assert rejection(verifier, f"{header}.{payload}.{other_signature}") == "invalid_signature"


# Claims ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "https://issuer.example.com"}, "untrusted_issuer"),
        ({"iss": "https://ISSUER.example.com/"}, "untrusted_issuer"),
        ({"iss": "https://evil.example.com/"}, "untrusted_issuer"),
        ({"iss": REMOVE}, "untrusted_issuer"),
        ({"iss": ["https://issuer.example.com/"]}, "untrusted_issuer"),
        ({"exp": REMOVE}, "missing_exp"),
        ({"exp": NOW - 30}, "token_expired"),
        ({"exp": NOW - 31}, "token_expired"),
        ({"exp": str(int(NOW + 300))}, "invalid_exp"),
        ({"exp": None}, "invalid_exp"),
        ({"exp": True}, "invalid_exp"),
        ({"exp": -1}, "invalid_exp"),
        ({"exp": 10**30}, "invalid_exp"),
        ({"exp": 1e300}, "invalid_exp"),
        ({"nbf": NOW + 31}, "token_not_yet_valid"),
        ({"nbf": "0"}, "invalid_nbf"),
        ({"iat": NOW + 31}, "token_issued_in_future"),
        ({"iat": [NOW]}, "invalid_iat"),
        ({"aud": "api://other"}, "invalid_audience"),
        ({"aud": ["api://other", "api://another"]}, "invalid_audience"),
        ({"aud": []}, "invalid_audience"),
        ({"aud": ""}, "invalid_audience"),
        ({"aud": REMOVE}, "invalid_audience"),
        ({"aud": [AUDIENCE, 7]}, "invalid_audience"),
        ({"aud": {"aud": AUDIENCE}}, "invalid_audience"),
        ({"aud": AUDIENCE.upper()}, "invalid_audience"),
        ({"sub": REMOVE}, "missing_sub"),
        ({"sub": ""}, "missing_sub"),
        ({"sub": 123}, "missing_sub"),
    ],
)
def test_claims_are_checked(
    verifier: TokenVerifier, rsa_signing_key: SigningKey, overrides: dict[str, Any], reason: str
) -> None:
    token = sign_raw(rsa_signing_key, {"alg": "RS256", "kid": "rsa-1"}, claims(**overrides))
    assert rejection(verifier, token) == reason


#: Each registered claim (RFC 7519 section 4.1) with a value of each JSON type: None where that type is
#: accepted, else the reason the token is refused. The values are ones that pass when the type is right.
REGISTERED_CLAIM_TYPES: dict[str, dict[str, tuple[Any, str | None]]] = {
    "iss": {
        "string": (ISSUER, None),
        "number": (7, "untrusted_issuer"),
        "boolean": (True, "untrusted_issuer"),
        "null": (None, "untrusted_issuer"),
        "array": ([ISSUER], "untrusted_issuer"),
        "object": ({"iss": ISSUER}, "untrusted_issuer"),
    },
    "sub": {
        "string": ("user-123", None),
        "empty string": ("", "missing_sub"),
        "number": (123, "missing_sub"),
        "boolean": (True, "missing_sub"),
        "null": (None, "missing_sub"),
        "array": (["user-123"], "missing_sub"),
        "object": ({"id": "user-123"}, "missing_sub"),
    },
    "aud": {
        "string": (AUDIENCE, None),
        "array": (["api://other", AUDIENCE], None),
        "empty array": ([], "invalid_audience"),
        "number": (7, "invalid_audience"),
        "boolean": (True, "invalid_audience"),
        "null": (None, "invalid_audience"),
        "object": ({AUDIENCE: True}, "invalid_audience"),
    },
    **{
        name: {
            "integer": (int(NOW) + offset, None),
            "fraction": (NOW + offset + 0.5, None),
            "numeric string": (str(int(NOW) + offset), f"invalid_{name}"),
            "boolean": (True, f"invalid_{name}"),
            "null": (None, f"invalid_{name}"),
            "array": ([int(NOW) + offset], f"invalid_{name}"),
            "object": ({"$date": int(NOW) + offset}, f"invalid_{name}"),
            "negative": (-1, f"invalid_{name}"),
        }
        for name, offset in (("exp", 300), ("nbf", -60), ("iat", -60))
    },
    "jti": {
        "string": ("4b3e1b2c", None),
        "empty string": ("", None),
        "number": (7, "invalid_jti"),
        "boolean": (False, "invalid_jti"),
        "null": (None, "invalid_jti"),
        "array": (["4b3e1b2c"], "invalid_jti"),
        "object": ({"id": "4b3e1b2c"}, "invalid_jti"),
    },
}


@pytest.mark.parametrize(
    ("claim", "value", "reason"),
    [
        pytest.param(claim, value, reason, id=f"{claim} {kind}")
        for claim, kinds in REGISTERED_CLAIM_TYPES.items()
        for kind, (value, reason) in kinds.items()
    ],
)
def test_each_registered_claim_accepts_only_its_types(
    verifier: TokenVerifier, rsa_signing_key: SigningKey, claim: str, value: Any, reason: str | None
) -> None:
    token = sign_raw(rsa_signing_key, {"alg": "RS256", "kid": "rsa-1"}, claims(**{claim: value}))
    if reason is None:
        assert verifier.verify(token).claims[claim] == value
    else:
        assert rejection(verifier, token) == reason


def test_a_token_without_jti_nbf_or_iat_is_accepted(
    verifier: TokenVerifier, rsa_signing_key: SigningKey
) -> None:
    token = mint(rsa_signing_key, claims(jti=REMOVE, nbf=REMOVE, iat=REMOVE))
    assert verifier.verify(token).subject == "user-123"


def test_numeric_dates_count_in_whole_seconds_as_pyjwt_reads_them(rsa_signing_key: SigningKey) -> None:
    verifier = verifier_for(rsa_signing_key, LEEWAY_SECONDS="0")
    # exp 0.5 s from now reads as now: expired, not valid for another half second
    assert rejection(verifier, mint(rsa_signing_key, claims(exp=NOW + 0.5))) == "token_expired"
    assert verifier.verify(mint(rsa_signing_key, claims(exp=NOW + 1.5))).subject == "user-123"
    assert verifier.verify(mint(rsa_signing_key, claims(nbf=NOW + 0.5))).subject == "user-123"


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": NOW - 29},  # within the 30 s leeway
        {"exp": NOW + 1.5},  # fractional NumericDates are numbers too
        {"nbf": NOW + 30},
        {"iat": NOW + 30},
        {"nbf": REMOVE, "iat": REMOVE},
        {"aud": ["api://other", AUDIENCE]},
    ],
)
def test_valid_edge_cases_are_accepted(
    verifier: TokenVerifier, rsa_signing_key: SigningKey, overrides: dict[str, Any]
) -> None:
    assert verifier.verify(mint(rsa_signing_key, claims(**overrides))).subject == "user-123"


def test_the_leeway_is_configurable(rsa_signing_key: SigningKey) -> None:
    verifier = verifier_for(rsa_signing_key, LEEWAY_SECONDS="0")
    assert rejection(verifier, mint(rsa_signing_key, claims(exp=NOW))) == "token_expired"
    assert verifier.verify(mint(rsa_signing_key, claims(exp=NOW + 1))).subject == "user-123"


def test_a_rejection_carries_the_unverified_kid_issuer_and_subject_for_the_logs(
    verifier: TokenVerifier, rsa_signing_key: SigningKey
) -> None:
    with pytest.raises(TokenRejected) as raised:
        verifier.verify(mint(rsa_signing_key, claims(exp=NOW - 100)))
    assert raised.value.fields == {"kid": "rsa-1", "iss": ISSUER, "sub": "user-123"}
