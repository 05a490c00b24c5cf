"""Keys anyone can sign for are refused, each with its reason; real keys of every size and curve are not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from jwt_authorizer import weak_keys
from jwt_authorizer.keys import parse_jwk, parse_jwks
from jwt_authorizer.weak_keys import eddsa_key_problem, rsa_key_problem
from tests.support.degenerate_keys import (
    ED448_SMALL_ORDER,
    ED25519_SMALL_ORDER,
    PRIME_2048,
    PRIME_3072,
    PRIME_4096,
    RSA_FORGERIES,
    forge_eddsa,
    is_probable_prime,
    jwk_of_eddsa,
)

ALL = frozenset({"RS256", "EdDSA", "Ed25519"})
SMALL_ORDER = "a point of small order"


def test_the_test_primes_are_prime() -> None:
    assert all(is_probable_prime(prime) for prime in (PRIME_2048, PRIME_3072, PRIME_4096))
    assert not is_probable_prime(PRIME_2048 - 2)


@pytest.mark.parametrize("encoding", ED25519_SMALL_ORDER, ids=lambda encoding: encoding.hex()[:8])
def test_every_encoding_of_a_small_order_ed25519_point_is_refused(encoding: bytes) -> None:
    assert eddsa_key_problem("Ed25519", encoding) is not None
    with pytest.raises(ValueError, match=f"a key no real provider publishes: {SMALL_ORDER}"):
        parse_jwk(jwk_of_eddsa("small", encoding), ALL)


@pytest.mark.parametrize("encoding", ED448_SMALL_ORDER, ids=lambda encoding: encoding.hex()[:8])
def test_every_encoding_of_a_small_order_ed448_point_is_refused(encoding: bytes) -> None:
    with pytest.raises(ValueError, match=f"a key no real provider publishes: {SMALL_ORDER}"):
        parse_jwk(jwk_of_eddsa("small", encoding), ALL)


@pytest.mark.parametrize("encoding", ED25519_SMALL_ORDER, ids=lambda encoding: encoding.hex()[:8])
def test_a_small_order_ed25519_key_accepts_signatures_made_without_any_private_key(encoding: bytes) -> None:
    # Why they are refused: OpenSSL (under cryptography) verifies these forgeries for every such key.
    public = Ed25519PublicKey.from_public_bytes(encoding)
    assert any(forge_eddsa(public, b"message %d" % attempt) for attempt in range(64))


def test_a_small_order_ed448_key_accepts_signatures_made_without_any_private_key() -> None:
    public = Ed448PublicKey.from_public_bytes(ED448_SMALL_ORDER[0])  # y = 0: a point of order 4
    assert any(forge_eddsa(public, b"message %d" % attempt) for attempt in range(64))


def test_real_eddsa_keys_are_kept() -> None:
    for _ in range(50):
        for private in (ed25519.Ed25519PrivateKey.generate(), ed448.Ed448PrivateKey.generate()):
            raw = private.public_key().public_bytes_raw()
            assert parse_jwk(jwk_of_eddsa("real", raw), ALL).algorithms == {"EdDSA"}


@pytest.mark.parametrize("name", list(RSA_FORGERIES))
def test_an_rsa_key_whose_private_exponent_anyone_can_compute_is_refused(name: str) -> None:
    make, reason = RSA_FORGERIES[name]
    forgery = make()
    with pytest.raises(ValueError, match=f"a key no real provider publishes: {reason}"):
        parse_jwk(forgery.jwk("weak"), ALL)


@pytest.mark.parametrize(
    ("exponent", "reason"),
    [
        (0, "public exponent 0, below 3"),
        (1, "public exponent 1, below 3 (with e = 1 a signature is the message itself)"),
        (2, "public exponent 2, below 3"),
        (4, "an even public exponent"),
        (65536, "an even public exponent"),
    ],
)
def test_an_exponent_below_3_or_even_is_refused(exponent: int, reason: str) -> None:
    modulus = rsa.generate_private_key(65537, 2048).public_key().public_numbers().n
    assert (rsa_key_problem(modulus, exponent) or "").startswith(reason)
    # In a JWKS too (where cryptography, for its own reasons, refuses them first).
    jwk = {"kty": "RSA", "kid": "k", "n": _b64(modulus), "e": _b64(exponent)}
    with pytest.raises(ValueError, match=r"e must be|an even public exponent|below 3"):
        parse_jwk(jwk, ALL)


@pytest.mark.parametrize("bits", [2048, 3072, 4096])
@pytest.mark.parametrize("exponent", [3, 65537])
def test_real_rsa_keys_are_kept(bits: int, exponent: int) -> None:
    numbers = rsa.generate_private_key(exponent, bits).public_key().public_numbers()
    assert rsa_key_problem(numbers.n, numbers.e) is None


def test_a_modulus_sharing_a_factor_with_the_prime_tests_probe_is_refused() -> None:
    # The probe is public, so a modulus built on it (here its odd part times a prime above the trial
    # division bound) gives its factorisation away to anyone who takes a gcd.
    probe = weak_keys._encoded_probe(2**2047)
    odd_part = probe // 2
    assert probe == 2 * odd_part
    modulus = odd_part * 65521
    assert modulus.bit_length() == 2048
    assert rsa_key_problem(modulus, 65537) == (
        "a modulus with a factor in common with a fixed public number (the prime test's probe): its"
        " factorisation is at hand"
    )


def test_openssl_does_the_prime_test_here_up_to_3072_bits() -> None:
    # The fast path is in use on this cryptography; the fallback below keeps the answers right without it.
    assert [weak_keys._openssl_computes_fermat(bits) for bits in (2048, 2049, 3072, 3073)] == [
        True,
        True,
        True,
        False,
    ]


@pytest.fixture
def no_remembered_verdicts() -> Iterator[None]:
    rsa_key_problem.cache_clear()
    yield
    rsa_key_problem.cache_clear()


@pytest.mark.usefixtures("no_remembered_verdicts")
def test_without_openssl_the_prime_test_gives_the_same_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weak_keys, "_openssl_computes_fermat", lambda bits: False)
    assert rsa_key_problem(PRIME_2048, 65537) == (
        "a prime modulus: the private exponent is the inverse of e modulo n - 1"
    )
    real = rsa.generate_private_key(65537, 2048).public_key().public_numbers()
    assert rsa_key_problem(real.n, real.e) is None


@pytest.mark.usefixtures("no_remembered_verdicts")
def test_an_openssl_that_refuses_the_tests_exponent_costs_time_never_a_real_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another OpenSSL build may refuse e = n - 2 outright (a ValueError): the test falls back to Python.
    def refusing(modulus: int, base: int) -> bool:
        raise ValueError("public exponent too large")

    monkeypatch.setattr(weak_keys, "_openssl_fermat", refusing)
    monkeypatch.setattr(weak_keys, "_openssl_checked", {})
    real = rsa.generate_private_key(65537, 2048).public_key().public_numbers()
    assert rsa_key_problem(real.n, real.e) is None
    assert rsa_key_problem(PRIME_2048, 65537) == (
        "a prime modulus: the private exponent is the inverse of e modulo n - 1"
    )
    assert weak_keys._openssl_computes_fermat(2048) is False


@pytest.mark.usefixtures("no_remembered_verdicts")
def test_a_key_seen_before_is_not_tested_again(monkeypatch: pytest.MonkeyPatch) -> None:
    real = rsa.generate_private_key(65537, 2048).public_key().public_numbers()
    tested: list[int] = []
    fermat = weak_keys._fermat_base_holds

    def counting(modulus: int, base: int, encoded: int) -> bool:
        tested.append(modulus)
        return fermat(modulus, base, encoded)

    monkeypatch.setattr(weak_keys, "_fermat_base_holds", counting)
    assert [rsa_key_problem(real.n, real.e) for _ in range(3)] == [None, None, None]
    assert tested == [real.n]


def test_a_jwks_keeps_its_good_keys_and_names_each_refused_one() -> None:
    good = rsa.generate_private_key(65537, 2048).public_key().public_numbers()
    prime, _ = RSA_FORGERIES["a prime modulus"]
    document = {
        "keys": [
            jwk_of_eddsa("identity", ED25519_SMALL_ORDER[2]),
            {"kty": "RSA", "kid": "good", "n": _b64(good.n), "e": _b64(good.e)},
            prime().jwk("prime"),
        ]
    }
    parsed = parse_jwks(document, ALL)
    assert list(parsed.keys) == ["good"]
    assert parsed.skipped == (
        "key #0 (kid 'identity'): a key no real provider publishes: a point of small order (such as the"
        " identity): anyone can make signatures it accepts",
        "key #2 (kid 'prime'): a key no real provider publishes: a prime modulus: the private exponent is"
        " the inverse of e modulo n - 1",
    )


def _b64(value: int) -> str:
    from devkit.tokens import b64url

    return b64url(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))
