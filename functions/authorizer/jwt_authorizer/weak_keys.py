"""Public keys that cannot be a real provider's, because anyone can sign for them.

A JWKS is fetched from the provider, so its keys are trusted; but a key whose private half is public
knowledge (a test key, a broken generator, a corrupted document) would let anyone forge tokens, and no
real provider publishes one. Each check below names a key anyone can sign for:

- EdDSA: a public key of small order (the identity and the other points of the curve's small subgroup,
  in any encoding). Verification computes [S]B = R + [k]A; with such an A, [k]A is one of a handful of
  points whatever the message, so a signature with S = 0 and R one of those points verifies for a fair
  share of all messages. libsodium refuses these keys (`has_small_order` in crypto_sign/ed25519/ref10/
  open.c) and so does ed25519-dalek's `verify_strict`; OpenSSL, under `cryptography`, does not.
- RSA: an exponent below 3 or even (RSA needs an odd e coprime to the group order; e = 1 makes the
  signature equal the message), and a modulus that is even, has a prime factor below 2^14, is a square,
  or is prime: with the factorisation known, the private exponent follows, and a prime modulus is its own
  factorisation. A real modulus is the product of two large primes of about equal size.

These run once per key and JWKS fetch, never per token: the prime test, the one costly step, is a single
modular exponentiation done by OpenSSL (see `_fermat_base_holds`).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import threading

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

_ED25519_P = 2**255 - 19
_ED448_P = 2**448 - 2**224 - 1
#: The y coordinates of the 8 points of small order on edwards25519 (identity 1, order 2: p - 1, order 4:
#: 0, order 8: the two values below); each y but 1 and p - 1 belongs to two points, told apart by the sign
#: bit. These are libsodium's blocklist with the sign bit ignored, read modulo p so that the non-canonical
#: encodings (y = p, p + 1) are caught too.
_ED25519_SMALL_ORDER_Y = frozenset(
    {
        0,
        1,
        _ED25519_P - 1,
        2707385501144840649318225287225658788936804267575313519463743609750303402022,
        55188659117513257062467267217118295137698188065244968500265048394206261417927,
    }
)
#: Edwards448 has cofactor 4: the identity (y = 1), (0, -1) of order 2 and (+-1, 0) of order 4.
_ED448_SMALL_ORDER_Y = frozenset({0, 1, _ED448_P - 1})


def eddsa_key_problem(curve: str, public_bytes: bytes) -> str | None:
    """Why an Ed25519 or Ed448 public key (its RFC 8032 encoding) cannot be a real one, or None."""
    if curve == "Ed25519":
        y = int.from_bytes(public_bytes, "little") & ((1 << 255) - 1)  # bit 255 is the sign of x
        small = (y % _ED25519_P) in _ED25519_SMALL_ORDER_Y
    else:
        y = int.from_bytes(public_bytes[:56], "little")  # the 57th octet holds the sign of x
        small = (y % _ED448_P) in _ED448_SMALL_ORDER_Y
    if small:
        return "a point of small order (such as the identity): anyone can make signatures it accepts"
    return None


#: Trial division bound: every prime below it is tried at once, by one gcd with their product. A factor this
#: small is what a broken generator leaves; the bound keeps the division under 5 % of the prime test's
#: cost (2^16 would take 13 %, and 3 ms more to build the product at a cold start).
SMALL_PRIME_BOUND = 1 << 14
#: OpenSSL refuses a public exponent over 64 bits for moduli over 3072 bits (OPENSSL_RSA_SMALL_MODULUS_BITS
#: and OPENSSL_RSA_MAX_PUBEXP_BITS in crypto/rsa/rsa_ossl.c); the prime test above that is done in Python.
_OPENSSL_LARGE_EXPONENT_MAX_BITS = 3072
_PROBE_MESSAGE = b"jwt-authorizer: is this modulus prime?"
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
#: Known primes, the largest below 2^2048 and 2^3072: before OpenSSL tests a modulus, it is checked once per
#: process that it finds the known prime of that size prime (so it computes the test as it is meant to).
_KNOWN_PRIMES = (2**2048 - 1557, 2**3072 - 47)
#: Verdicts are kept per key, so a refresh that brings the same keys again costs nothing.
_REMEMBERED_KEYS = 256


@functools.lru_cache(maxsize=_REMEMBERED_KEYS)
def rsa_key_problem(modulus: int, exponent: int) -> str | None:
    """Why an RSA public key cannot be a real one, or None."""
    if exponent < 3:
        return f"public exponent {exponent}, below 3 (with e = 1 a signature is the message itself)"
    if exponent % 2 == 0:
        return "an even public exponent, which RSA cannot use"
    if modulus % 2 == 0:
        return "an even modulus: its factorisation, and so the private key, is known"
    if math.gcd(modulus, _small_primes_product()) != 1:
        return (
            f"a modulus with a prime factor below {SMALL_PRIME_BOUND}: its factorisation, and so the private"
            " key, is at hand"
        )
    if math.isqrt(modulus) ** 2 == modulus:
        return "a modulus that is a square (p = q): its square root gives the private key"
    encoded = _encoded_probe(modulus)
    try:
        base = pow(encoded, -1, modulus)
    except ValueError:
        return (
            "a modulus with a factor in common with a fixed public number (the prime test's probe): its"
            " factorisation is at hand"
        )
    if _fermat_base_holds(modulus, base, encoded):
        return "a prime modulus: the private exponent is the inverse of e modulo n - 1"
    return None


_products: list[int] = []
_lock = threading.Lock()


def _small_primes_product() -> int:
    """The product of the primes below SMALL_PRIME_BOUND (a 23,000-bit number), computed once."""
    with _lock:
        if not _products:
            sieve = bytearray([1]) * SMALL_PRIME_BOUND
            sieve[0:2] = b"\x00\x00"
            for number in range(2, math.isqrt(SMALL_PRIME_BOUND - 1) + 1):
                if sieve[number]:
                    sieve[number * number :: number] = bytes(
                        len(range(number * number, SMALL_PRIME_BOUND, number))
                    )
            factors = list(itertools.compress(range(SMALL_PRIME_BOUND), sieve))
            # In chunks then pairwise, so no step multiplies a huge number by a small one many times.
            factors = [math.prod(factors[i : i + 64]) for i in range(0, len(factors), 64)]
            while len(factors) > 1:
                factors = [math.prod(factors[i : i + 2]) for i in range(0, len(factors), 2)]
            _products.append(factors[0])
        return _products[0]


def _fermat_base_holds(modulus: int, base: int, encoded: int) -> bool:
    """Fermat's test of `modulus` for the base `base`, the inverse of `encoded`: b^(n-1) = 1 (mod n). Every
    prime passes it; a product of two large primes fails it but with negligible chance, and a composite
    that passes anyway is refused too, which errs on the safe side (so a Fermat test serves here as well
    as Miller-Rabin would).

    Python's own modular exponentiation takes 10 to 20 ms at 2048 bits, too slow for a JWKS of ten keys,
    so OpenSSL does it, through the one door `cryptography` opens to it: an RSA signature check, which
    computes s^e mod n and compares it with the PKCS#1 v1.5 encoding m of a message. With e = n - 2 and
    s = m^-1 mod n it succeeds exactly when s^(n-2) = s^-1, that is when s^(n-1) = 1: Fermat's test for
    the base s.
    """
    if _openssl_computes_fermat(modulus.bit_length()):
        try:
            return _openssl_fermat(modulus, base)
        except ValueError:
            pass  # an OpenSSL that refuses this exponent after all: Python's answer is the same, slower
    return pow(base, modulus - 2, modulus) == encoded


def _encoded_probe(modulus: int) -> int:
    """The PKCS#1 v1.5 encoding of the probe message's SHA-256 digest, as long as the modulus."""
    size = (modulus.bit_length() + 7) // 8
    digest = _SHA256_DIGEST_INFO + hashlib.sha256(_PROBE_MESSAGE).digest()
    return int.from_bytes(b"\x00\x01" + b"\xff" * (size - 3 - len(digest)) + b"\x00" + digest, "big")


def _openssl_fermat(modulus: int, base: int) -> bool:
    size = (modulus.bit_length() + 7) // 8
    key = RSAPublicNumbers(modulus - 2, modulus).public_key()
    try:
        key.verify(base.to_bytes(size, "big"), _PROBE_MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


_openssl_checked: dict[int, bool] = {}


def _openssl_computes_fermat(bits: int) -> bool:
    """True when OpenSSL's check is to be trusted for a modulus of `bits` bits: not over 3072 bits, and it
    finds the known prime of the next size up prime. Otherwise (an OpenSSL that refuses such exponents,
    say) the test is done in Python: slower, never wrong. Found out once per process and size."""
    if bits > _OPENSSL_LARGE_EXPONENT_MAX_BITS:
        return False
    known = next(prime for prime in _KNOWN_PRIMES if prime.bit_length() >= bits)
    with _lock:
        if known not in _openssl_checked:
            try:
                holds = _openssl_fermat(known, pow(_encoded_probe(known), -1, known))
            except ValueError:  # an OpenSSL that refuses such exponents must not cost a real key
                holds = False
            _openssl_checked[known] = holds
        return _openssl_checked[known]
