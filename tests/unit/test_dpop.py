"""DPoP proofs (RFC 9449 section 4.3): every check, the RFC's own examples, and the token's binding."""

from __future__ import annotations

from typing import Any

import pytest

from devkit.tokens import REMOVE, SigningKey, ec_key, ed25519_key, raw_token, rsa_key, sign_raw
from jwt_authorizer.dpop import (
    UNBOUND,
    Confirmation,
    ProofRules,
    VerifiedProof,
    access_token_hash,
    check_certificate_binding,
    check_key_binding,
    confirmation_of,
    jwk_thumbprint,
    normalize_url,
    verify_proof,
)
from jwt_authorizer.errors import Reason, TokenRejected

pytestmark = pytest.mark.unit

NOW = 1_800_000_000
URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/messages"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"
RULES = ProofRules()

# RFC 9449 section 7.1, figures 12 and 13: a proof sent with an (opaque) access token.
RFC_ACCESS_TOKEN = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
RFC_PROOF = (
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19"
    ".eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9"
    ".2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA"
)
RFC_PROOF_IAT = 1562262618
#: RFC 9449 section 6.1 (figure 7's cnf.jkt): the thumbprint of the key in the RFC's example proofs.
RFC_JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
#: RFC 7638 section 3.1's example key and its thumbprint.
RFC_7638_KEY = {
    "kty": "RSA",
    "n": (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWK"
        "RXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMic"
        "AtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
        "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    ),
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return ec_key("client")


def public(key: SigningKey) -> dict[str, Any]:
    return {name: value for name, value in key.public_jwk().items() if name not in ("kid", "use", "alg")}


def proof(key: SigningKey, header: dict[str, Any] | None = None, **claims: Any) -> str:
    """A proof for GET URL with TOKEN at NOW, with header members and claims replaced (REMOVE drops one)."""
    fields = {"typ": "dpop+jwt", "alg": key.algorithm, "jwk": public(key), **(header or {})}
    body = {"jti": "j-1", "htm": "GET", "htu": URL, "iat": NOW, "ath": access_token_hash(TOKEN), **claims}
    return sign_raw(
        key,
        {name: value for name, value in fields.items() if value is not REMOVE},
        {name: value for name, value in body.items() if value is not REMOVE},
        algorithm=fields.get("alg") if fields.get("alg") in ("ES256", "RS256", "PS256", "EdDSA") else None,
    )


def verify(value: str, method: str = "GET", url: str = URL, now: float = NOW) -> VerifiedProof:
    return verify_proof(value, method=method, url=url, access_token=TOKEN, now=now, rules=RULES)


def refused(value: str, **request: Any) -> Reason:
    with pytest.raises(TokenRejected) as caught:
        verify(value, **request)
    return caught.value.reason


# The RFC's own examples --------------------------------------------------------------------------------


def test_the_rfc_9449_example_proof_verifies_at_its_own_time() -> None:
    verified = verify_proof(
        RFC_PROOF,
        method="GET",
        url="https://resource.example.org/protectedresource",
        access_token=RFC_ACCESS_TOKEN,
        now=RFC_PROOF_IAT,
        rules=RULES,
    )

    assert verified == VerifiedProof("e1j3V_bKic8-LAEB", RFC_JKT, RFC_PROOF_IAT, RFC_PROOF_IAT + 60)


def test_the_rfc_9449_example_proof_is_stale_today() -> None:
    with pytest.raises(TokenRejected) as caught:
        verify_proof(
            RFC_PROOF,
            method="GET",
            url="https://resource.example.org/protectedresource",
            access_token=RFC_ACCESS_TOKEN,
            now=NOW,
            rules=RULES,
        )
    assert caught.value.reason is Reason.DPOP_IAT_OUT_OF_WINDOW


def test_the_rfc_9449_example_ath_and_the_rfc_7638_example_thumbprint() -> None:
    assert access_token_hash(RFC_ACCESS_TOKEN) == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    assert jwk_thumbprint(RFC_7638_KEY) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_the_rfc_9449_example_token_binding_reads_as_the_rfc_says() -> None:
    # Section 6.1, figure 7: the claims of a DPoP-bound JWT access token.
    claims = {
        "sub": "someone@example.com",
        "iss": "https://server.example.com",
        "nbf": 1562262611,
        "exp": 1562266216,
        "cnf": {"jkt": RFC_JKT},
    }
    proven = VerifiedProof("e1j3V_bKic8-LAEB", RFC_JKT, RFC_PROOF_IAT, RFC_PROOF_IAT + 60)

    assert confirmation_of(claims) == Confirmation(jkt=RFC_JKT)
    check_key_binding(confirmation_of(claims), proven)  # raises on a mismatch


# Section 4.3, check by check --------------------------------------------------------------------------


@pytest.mark.parametrize("make_key", [lambda: ec_key("e"), lambda: rsa_key("r"), lambda: ed25519_key("o")])
def test_a_proof_verifies_with_each_key_type(make_key: Any) -> None:
    signing = make_key()
    verified = verify(proof(signing))
    assert verified.thumbprint == jwk_thumbprint(public(signing))
    assert verified.jti == "j-1"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", Reason.DPOP_MALFORMED_PROOF),
        ("a.b", Reason.DPOP_MALFORMED_PROOF),
        ("a.b.c.d", Reason.DPOP_MALFORMED_PROOF),
        ("x" * 9_000, Reason.DPOP_MALFORMED_PROOF),
        (raw_token({"typ": "dpop+jwt"}, [1]), Reason.DPOP_MALFORMED_PROOF),
    ],
)
def test_a_proof_that_is_not_one_compact_jws_is_malformed(value: str, reason: Reason) -> None:
    assert refused(value) is reason


@pytest.mark.parametrize("typ", [REMOVE, "JWT", "at+jwt", "dpop", 7])
def test_the_typ_must_be_dpop_jwt(key: SigningKey, typ: object) -> None:
    assert refused(proof(key, {"typ": typ})) is Reason.DPOP_INVALID_TYP


def test_the_typ_may_carry_its_media_type_prefix(key: SigningKey) -> None:
    verify(proof(key, {"typ": "application/dpop+jwt"}))


@pytest.mark.parametrize("alg", [REMOVE, "none", "HS256", "ES512", "RS1"])
def test_the_alg_must_be_an_allowed_asymmetric_one(key: SigningKey, alg: object) -> None:
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": public(key)}
    value = raw_token({name: item for name, item in header.items() if item is not REMOVE}, {"jti": "x"})
    assert refused(value) is Reason.DPOP_ALGORITHM_NOT_ALLOWED


def test_an_algorithm_left_out_of_the_rules_is_refused(key: SigningKey) -> None:
    with pytest.raises(TokenRejected) as caught:
        verify_proof(
            proof(key),
            method="GET",
            url=URL,
            access_token=TOKEN,
            now=NOW,
            rules=ProofRules(frozenset({"RS256"})),
        )
    assert caught.value.reason is Reason.DPOP_ALGORITHM_NOT_ALLOWED


def test_critical_extensions_are_refused(key: SigningKey) -> None:
    assert refused(proof(key, {"crit": ["exp"]})) is Reason.DPOP_MALFORMED_PROOF


@pytest.mark.parametrize(
    "jwk",
    [
        REMOVE,
        "not-an-object",
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "EC", "crv": "P-256"},
    ],
)
def test_the_jwk_must_be_a_usable_public_key(key: SigningKey, jwk: object) -> None:
    assert refused(proof(key, {"jwk": jwk})) is Reason.DPOP_INVALID_KEY


def test_a_jwk_with_private_key_material_is_refused(key: SigningKey) -> None:
    private = {**public(key), "d": "c2VjcmV0"}
    assert refused(proof(key, {"jwk": private})) is Reason.DPOP_INVALID_KEY


def test_a_jwk_whose_type_cannot_sign_the_alg_is_refused(key: SigningKey) -> None:
    assert refused(proof(key, {"jwk": public(rsa_key("other"))})) is Reason.DPOP_INVALID_KEY


def test_a_weak_rsa_key_is_refused() -> None:
    weak = rsa_key("weak", bits=1024)
    assert refused(proof(weak)) is Reason.DPOP_INVALID_KEY


def test_the_signature_must_verify_with_the_proofs_own_key(key: SigningKey) -> None:
    other = ec_key("other")
    assert refused(proof(other, {"jwk": public(key)})) is Reason.DPOP_INVALID_SIGNATURE


@pytest.mark.parametrize("claim", ["jti", "htm", "htu", "iat", "ath"])
def test_each_claim_is_required(key: SigningKey, claim: str) -> None:
    assert refused(proof(key, **{claim: REMOVE})) is Reason.DPOP_MISSING_CLAIM


@pytest.mark.parametrize(
    ("claim", "value"), [("jti", 5), ("jti", ""), ("jti", "j" * 257), ("iat", "1800000000"), ("iat", True)]
)
def test_claims_of_the_wrong_type_are_refused(key: SigningKey, claim: str, value: object) -> None:
    assert refused(proof(key, None, **{claim: value})) is Reason.DPOP_MISSING_CLAIM


@pytest.mark.parametrize("htm", ["POST", "get", "GET "])
def test_htm_must_be_the_requests_method_exactly(key: SigningKey, htm: str) -> None:
    assert refused(proof(key, htm=htm)) is Reason.DPOP_HTM_MISMATCH


@pytest.mark.parametrize(
    "htu",
    [
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/messages/1",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/messages",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/test/messages",
        "https://evil.example.com/prod/messages",
        "http://abc123.execute-api.eu-west-1.amazonaws.com/prod/messages",
        "https://abc123.execute-api.eu-west-1.amazonaws.com:8443/prod/messages",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/Messages",
        "/prod/messages",
        "ftp://abc123.execute-api.eu-west-1.amazonaws.com/prod/messages",
        "https://user@abc123.execute-api.eu-west-1.amazonaws.com/prod/messages",
    ],
)
def test_htu_must_be_the_url_called(key: SigningKey, htu: str) -> None:
    assert refused(proof(key, htu=htu)) is Reason.DPOP_HTU_MISMATCH


@pytest.mark.parametrize(
    "htu",
    [
        "https://ABC123.Execute-API.eu-west-1.amazonaws.com/prod/messages",
        "HTTPS://abc123.execute-api.eu-west-1.amazonaws.com/prod/messages",
        "https://abc123.execute-api.eu-west-1.amazonaws.com:443/prod/messages",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/%6Dessages",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/./messages",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/x/../messages",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/messages?page=2",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/messages#top",
    ],
)
def test_htu_is_compared_after_rfc_3986_normalization_without_query_or_fragment(
    key: SigningKey, htu: str
) -> None:
    verify(proof(key, htu=htu))


def test_normalization_keeps_what_rfc_3986_says_is_significant() -> None:
    assert normalize_url("HTTP://Host.Example:80") == "http://host.example/"
    assert normalize_url("https://h.example/a%2fb") == "https://h.example/a%2Fb"  # a reserved octet stays
    assert normalize_url("https://h.example/a/") != normalize_url("https://h.example/a")
    assert normalize_url("https://[::1]:3000/x") == "https://[::1]:3000/x"
    with pytest.raises(ValueError, match="Port"):
        normalize_url("https://h.example:99999/")


@pytest.mark.parametrize("offset", [-61, 61, -3600, 86_400])
def test_iat_must_be_within_the_window_either_way(key: SigningKey, offset: int) -> None:
    assert refused(proof(key, iat=NOW + offset)) is Reason.DPOP_IAT_OUT_OF_WINDOW


@pytest.mark.parametrize("offset", [-60, 0, 60, 0.5])
def test_iat_at_the_edges_of_the_window_is_accepted(key: SigningKey, offset: float) -> None:
    assert verify(proof(key, iat=NOW + offset)).acceptable_until == NOW + offset + 60


def test_the_window_is_configurable(key: SigningKey) -> None:
    narrow = ProofRules(iat_window=5)
    stale = proof(key, iat=NOW - 6)
    with pytest.raises(TokenRejected) as caught:
        verify_proof(stale, method="GET", url=URL, access_token=TOKEN, now=NOW, rules=narrow)
    assert caught.value.reason is Reason.DPOP_IAT_OUT_OF_WINDOW


def test_ath_must_be_the_hash_of_the_token_it_came_with(key: SigningKey) -> None:
    assert refused(proof(key, ath=access_token_hash("another.token.here"))) is Reason.DPOP_ATH_MISMATCH


def test_a_nonce_the_proof_carries_is_not_a_reason_to_refuse_it(key: SigningKey) -> None:
    # This resource server never asks for one (docs/dpop.md): a nonce is the token endpoint's business.
    verify(proof(key, nonce="from-the-authorization-server"))


# The token's binding ----------------------------------------------------------------------------------


def test_a_token_without_cnf_is_unbound() -> None:
    assert confirmation_of({"sub": "alice"}) is UNBOUND


@pytest.mark.parametrize("cnf", ["jkt", [], {"jkt": 5}, {"jkt": ""}, {"x5t#S256": None, "jkt": {}}])
def test_a_cnf_of_the_wrong_shape_is_refused(cnf: object) -> None:
    with pytest.raises(TokenRejected) as caught:
        confirmation_of({"cnf": cnf})
    assert caught.value.reason is Reason.INVALID_CNF


def test_the_token_must_name_the_proofs_key(key: SigningKey) -> None:
    proven = verify(proof(key))
    check_key_binding(Confirmation(jkt=proven.thumbprint), proven)
    for confirmation, reason in [
        (UNBOUND, Reason.DPOP_TOKEN_NOT_BOUND),
        (Confirmation(x5t_s256="abc"), Reason.DPOP_TOKEN_NOT_BOUND),
        (Confirmation(jkt=jwk_thumbprint(public(ec_key("thief")))), Reason.DPOP_KEY_MISMATCH),
    ]:
        with pytest.raises(TokenRejected) as caught:
            check_key_binding(confirmation, proven)
        assert caught.value.reason is reason


def test_a_certificate_bound_token_needs_that_certificate() -> None:
    bound = Confirmation(x5t_s256="thumb-a")
    check_certificate_binding(bound, "thumb-a")
    check_certificate_binding(UNBOUND, None)
    check_certificate_binding(UNBOUND, "any-certificate")
    for certificate, reason in [(None, Reason.CERTIFICATE_MISSING), ("thumb-b", Reason.CERTIFICATE_MISMATCH)]:
        with pytest.raises(TokenRejected) as caught:
            check_certificate_binding(bound, certificate)
        assert caught.value.reason is reason


# The parsed-key cache ---------------------------------------------------------------------------------


def test_a_clients_key_is_parsed_once_and_a_refused_key_never_kept(key: SigningKey) -> None:
    from jwt_authorizer import dpop

    dpop.clear_caches()
    verify(proof(key, jti="a"))
    verify(proof(key, jti="b"))
    assert len(dpop._proof_keys) == 1
    refused(proof(rsa_key("weak", bits=1024)))
    assert len(dpop._proof_keys) == 1


def test_the_parsed_key_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from jwt_authorizer import dpop

    dpop.clear_caches()
    monkeypatch.setattr(dpop, "MAX_PROOF_KEYS", 2)
    for _ in range(3):
        verify(proof(ec_key("one-of-many")))
    assert len(dpop._proof_keys) == 2
