from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from devkit.tokens import SigningKey, ec_key, jwks_of, rsa_key
from jwt_authorizer.errors import JwksFetchError
from jwt_authorizer.keys import parse_jwk, parse_jwks

ALL = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}
)


def without(jwk: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in jwk.items() if name not in names}


def test_an_rsa_key_without_alg_is_bound_to_rs256_when_several_rsa_algorithms_are_allowed(
    rsa_signing_key: SigningKey,
) -> None:
    # RFC 8725bis section 3.1: one algorithm per key; RS256 is what PyJWT's PyJWK assumes too.
    key = parse_jwk(without(rsa_signing_key.public_jwk(), "alg"), ALL)
    assert (key.kid, key.key_type, key.algorithms) == ("rsa-1", "RSA", frozenset({"RS256"}))


def test_an_rsa_key_without_alg_is_skipped_when_it_would_have_several_algorithms_but_not_rs256(
    rsa_signing_key: SigningKey,
) -> None:
    with pytest.raises(
        ValueError, match=r"names no 'alg' and ALGORITHMS allows several for it \(PS256, PS384\)"
    ):
        parse_jwk(without(rsa_signing_key.public_jwk(), "alg"), frozenset({"PS256", "PS384"}))


def test_the_jwk_alg_pins_the_key_to_that_algorithm(rsa_signing_key: SigningKey) -> None:
    assert parse_jwk(rsa_signing_key.public_jwk(), ALL).algorithms == {"RS256"}


def test_the_configured_allow_list_limits_what_a_key_verifies(rsa_signing_key: SigningKey) -> None:
    jwk = without(rsa_signing_key.public_jwk(), "alg")
    assert parse_jwk(jwk, frozenset({"PS256", "ES256"})).algorithms == {"PS256"}


@pytest.mark.parametrize(
    ("curve", "algorithm"),
    [(ec.SECP256R1(), "ES256"), (ec.SECP384R1(), "ES384"), (ec.SECP521R1(), "ES512")],
)
def test_an_ec_key_verifies_only_the_algorithm_of_its_curve(curve: ec.EllipticCurve, algorithm: str) -> None:
    jwk = without(ec_key("ec", curve, algorithm).public_jwk(), "alg")
    assert parse_jwk(jwk, ALL).algorithms == {algorithm}


@pytest.mark.parametrize(
    ("curve", "algorithm"),
    [(ec.SECP256R1(), "ES256"), (ec.SECP384R1(), "ES384"), (ec.SECP521R1(), "ES512")],
)
def test_an_ec_key_checks_jws_signatures_as_pyjwt_does(curve: ec.EllipticCurve, algorithm: str) -> None:
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from cryptography.hazmat.primitives.hashes import SHA256, SHA384, SHA512
    from jwt.algorithms import get_default_algorithms

    pyjwt = get_default_algorithms()[algorithm]
    signing = ec_key("ec", curve, algorithm)
    key = parse_jwk(signing.public_jwk(), ALL)
    message = b"header.payload"
    raw = pyjwt.sign(message, signing.private_key)  # r and s, fixed length, concatenated
    size = len(raw) // 2
    ecdsa = ec.ECDSA({"ES256": SHA256(), "ES384": SHA384(), "ES512": SHA512()}[algorithm])
    r, s = decode_dss_signature(signing.private_key.sign(message, ecdsa))
    candidates = {
        "valid": (message, raw),
        "another message": (message + b"x", raw),
        "r and s swapped": (message, raw[size:] + raw[:size]),
        "one byte short": (message, raw[:-1]),
        "one byte long": (message, raw + b"\x00"),
        "DER, not JWS": (message, signing.private_key.sign(message, ecdsa)),
        "another valid signature": (message, r.to_bytes(size, "big") + s.to_bytes(size, "big")),
        "empty": (message, b""),
    }
    verdicts = {name: key.verify(algorithm, *candidate) for name, candidate in candidates.items()}
    pyjwt_verdicts = {
        name: pyjwt.verify(signed, key.public_key, signature)
        for name, (signed, signature) in candidates.items()
    }
    assert verdicts == pyjwt_verdicts
    assert {name for name, verdict in verdicts.items() if verdict} == {"valid", "another valid signature"}


def test_an_ed25519_key_verifies_eddsa(ed25519_signing_key: SigningKey) -> None:
    assert parse_jwk(ed25519_signing_key.public_jwk(), ALL).algorithms == {"EdDSA"}


@pytest.mark.parametrize(
    ("jwk_alg", "allowed", "algorithms"),
    [
        # Without alg, both names of the one operation, as far as ALGORITHMS allows them
        (None, {"EdDSA", "Ed25519"}, {"EdDSA", "Ed25519"}),
        (None, {"Ed25519"}, {"Ed25519"}),
        (None, {"EdDSA"}, {"EdDSA"}),
        # A JWK alg pins the key to that name, as RFC 9864 section 5 writes it
        ("Ed25519", {"EdDSA", "Ed25519"}, {"Ed25519"}),
        ("EdDSA", {"EdDSA", "Ed25519"}, {"EdDSA"}),
    ],
)
def test_an_ed25519_key_verifies_the_fully_specified_ed25519_too(
    ed25519_signing_key: SigningKey, jwk_alg: str | None, allowed: set[str], algorithms: set[str]
) -> None:
    jwk = {**without(ed25519_signing_key.public_jwk(), "alg"), **({"alg": jwk_alg} if jwk_alg else {})}
    assert parse_jwk(jwk, frozenset(allowed)).algorithms == algorithms


def test_an_ec_key_whose_point_is_not_on_its_curve_is_refused(ec_signing_key: SigningKey) -> None:
    # RFC 8725bis section 3.4: cryptographic inputs are validated (cryptography checks the point).
    jwk = ec_signing_key.public_jwk()
    y = int.from_bytes(base64.urlsafe_b64decode(jwk["y"] + "=="), "big")
    off_curve = base64.urlsafe_b64encode(((y + 1) % 2**256).to_bytes(32, "big")).rstrip(b"=").decode()
    with pytest.raises(ValueError, match="invalid EC key"):
        parse_jwk({**jwk, "y": off_curve}, ALL)


def test_an_ed448_key_verifies_eddsa_only(ed448_signing_key: SigningKey) -> None:
    jwk = without(ed448_signing_key.public_jwk(), "alg")
    assert parse_jwk(jwk, frozenset({"EdDSA", "Ed25519"})).algorithms == {"EdDSA"}
    with pytest.raises(ValueError, match="'alg' 'Ed25519' does not fit a OKP key"):
        parse_jwk({**jwk, "alg": "Ed25519"}, frozenset({"EdDSA", "Ed25519"}))
    with pytest.raises(ValueError, match=r"none of its algorithms \(EdDSA\) is allowed"):
        parse_jwk(jwk, frozenset({"Ed25519"}))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"kid": None}, "no 'kid'"),
        ({"kid": ""}, "no 'kid'"),
        ({"kid": 7}, "no 'kid'"),
        ({"use": "enc"}, "'use' is 'enc'"),
        ({"key_ops": ["encrypt"]}, "'key_ops' does not allow 'verify'"),
        ({"alg": "ES256"}, "'alg' 'ES256' does not fit a RSA key"),
        ({"alg": "HS256"}, "'alg' 'HS256' does not fit a RSA key"),
        ({"alg": "none"}, "'alg' 'none' does not fit a RSA key"),
        ({"kty": "oct"}, "unsupported key type 'oct'"),
        ({"kty": None}, "unsupported key type"),
        ({"n": "!!!"}, "invalid RSA key"),
        ({"n": 12}, "invalid RSA key"),
        ({"d": "AQAB"}, "private key material"),
    ],
)
def test_unusable_keys_are_refused_with_a_reason(
    rsa_signing_key: SigningKey, change: dict[str, Any], problem: str
) -> None:
    jwk = {**rsa_signing_key.public_jwk(), **change}
    jwk = {name: value for name, value in jwk.items() if value is not None}
    with pytest.raises(ValueError) as raised:  # noqa: PT011 - the message is checked below
        parse_jwk(jwk, ALL)
    assert problem in str(raised.value)


def test_rsa_keys_under_2048_bits_are_refused(weak_rsa_key: SigningKey) -> None:
    with pytest.raises(ValueError, match="RSA key of 1024 bits, under 2048"):
        parse_jwk(weak_rsa_key.public_jwk(), ALL)


def test_a_key_whose_algorithms_are_all_disallowed_is_refused(ec_signing_key: SigningKey) -> None:
    with pytest.raises(ValueError, match=r"none of its algorithms \(ES256\) is allowed"):
        parse_jwk(ec_signing_key.public_jwk(), frozenset({"RS256"}))


def test_a_jwks_keeps_usable_keys_and_lists_the_skipped_ones(
    rsa_signing_key: SigningKey, weak_rsa_key: SigningKey, ec_signing_key: SigningKey
) -> None:
    parsed = parse_jwks(jwks_of(rsa_signing_key, weak_rsa_key, ec_signing_key), frozenset({"RS256"}))
    assert sorted(parsed.keys) == ["rsa-1"]
    assert [line.split(":")[0] for line in parsed.skipped] == [
        "key #1 (kid 'rsa-weak')",
        "key #2 (kid 'ec-1')",
    ]


def test_keys_sharing_a_kid_are_all_kept(rsa_signing_key: SigningKey, ec_signing_key: SigningKey) -> None:
    twin = {**ec_signing_key.public_jwk(), "kid": "rsa-1"}
    parsed = parse_jwks({"keys": [rsa_signing_key.public_jwk(), twin]}, ALL)
    assert [key.key_type for key in parsed.keys["rsa-1"]] == ["RSA", "EC"]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "not a JSON object with a 'keys' array"),
        ({"keys": {}}, "not a JSON object with a 'keys' array"),
        ({}, "not a JSON object with a 'keys' array"),
        ({"keys": []}, "the 'keys' array is empty"),
        ({"keys": [{"kty": "oct", "kid": "x", "k": "c2VjcmV0"}]}, "no usable signing key"),
        ({"keys": [{}] * 101}, "more than 100"),
    ],
)
def test_a_jwks_without_any_usable_key_is_a_fetch_failure(document: object, problem: str) -> None:
    with pytest.raises(JwksFetchError) as raised:
        parse_jwks(document, ALL)
    assert problem in str(raised.value)


def test_a_parsed_key_verifies_signatures_of_its_algorithm_only() -> None:
    signing = rsa_key("k")
    key = parse_jwk(signing.public_jwk(), ALL)
    message = b"header.payload"
    from jwt.algorithms import RSAAlgorithm

    signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(message, signing.private_key)
    assert key.verify("RS256", message, signature)
    assert not key.verify("RS256", message + b"x", signature)
    assert not key.verify("PS256", message, signature)
    assert not key.verify("RS256", message, signature[:-1])
