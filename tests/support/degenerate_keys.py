"""Public keys anyone can sign for, and the forger that signs for them without any private key.

Each key here is a JWK a JWKS could carry; `forge` makes a signature it accepts for any token, using only
the public key: what anyone on the internet could do if the authorizer trusted it.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from devkit.tokens import b64url, b64url_json, rsa_key

ED25519_P = 2**255 - 19
ED448_P = 2**448 - 2**224 - 1
#: y of the order-8 points of edwards25519 (the other is p minus it): libsodium's blocklist.
ED25519_ORDER_8_Y = 2707385501144840649318225287225658788936804267575313519463743609750303402022

#: The largest primes below 2^2048, 2^3072 and 2^4096 (checked by `is_probable_prime` in the tests).
PRIME_2048 = 2**2048 - 1557
PRIME_3072 = 2**3072 - 47
PRIME_4096 = 2**4096 - 2549
E = 65537
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def is_probable_prime(number: int) -> bool:
    """Miller-Rabin with the first six primes as bases (independent of the code under test)."""
    if number < 2 or number % 2 == 0:
        return number == 2
    odd, twos = number - 1, 0
    while odd % 2 == 0:
        odd, twos = odd // 2, twos + 1
    for base in (2, 3, 5, 7, 11, 13):
        value = pow(base, odd, number)
        if value in (1, number - 1):
            continue
        for _ in range(twos - 1):
            value = value * value % number
            if value == number - 1:
                break
        else:
            return False
    return True


def ed25519_encoding(y: int, sign: int) -> bytes:
    return (y | sign << 255).to_bytes(32, "little")


def ed448_encoding(y: int, sign: int) -> bytes:
    return y.to_bytes(56, "little") + bytes([sign << 7])


#: Every encoding of a small-order point: each y of the small subgroup, its non-canonical y + p where
#: that fits, either sign bit.
ED25519_SMALL_ORDER = [
    ed25519_encoding(y, sign)
    for y in (0, 1, ED25519_P - 1, ED25519_ORDER_8_Y, ED25519_P - ED25519_ORDER_8_Y, ED25519_P, ED25519_P + 1)
    for sign in (0, 1)
]
ED448_SMALL_ORDER = [
    ed448_encoding(y, sign) for y in (0, 1, ED448_P - 1, ED448_P, ED448_P + 1) for sign in (0, 1)
]


def forge_eddsa(public: Ed25519PublicKey | Ed448PublicKey, message: bytes) -> bytes | None:
    """A signature of `message` made from the public key alone: S = 0 and R a small-order point, which
    verifies when R = -[k]A; None when no R fits this message (then another message will do)."""
    size = 32 if isinstance(public, Ed25519PublicKey) else 57
    for r in ED25519_SMALL_ORDER if size == 32 else ED448_SMALL_ORDER:
        signature = r + bytes(size)
        try:
            public.verify(signature, message)
        except InvalidSignature:
            continue
        return signature
    return None


@dataclass(frozen=True)
class RsaForgery:
    """An RSA public key whose private exponent anyone can compute."""

    modulus: int
    exponent: int
    #: Euler's totient of the modulus, found from the public key alone.
    totient: int

    def jwk(self, kid: str) -> dict[str, Any]:
        n, e = _b64int(self.modulus), _b64int(self.exponent)
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": e}

    def sign(self, message: bytes) -> bytes:
        size = (self.modulus.bit_length() + 7) // 8
        private_exponent = pow(self.exponent, -1, self.totient)
        digest = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
        encoded = b"\x00\x01" + b"\xff" * (size - 3 - len(digest)) + b"\x00" + digest
        return pow(int.from_bytes(encoded, "big"), private_exponent, self.modulus).to_bytes(size, "big")


def _b64int(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _square_of_a_real_prime() -> RsaForgery:
    prime = rsa_key("square").private_key.private_numbers().p  # 1024 bits, top bits set: p^2 has 2048
    return RsaForgery(prime * prime, E, prime * (prime - 1))


#: Each with the reason the authorizer gives when it refuses the key.
RSA_FORGERIES: dict[str, tuple[Callable[[], RsaForgery], str]] = {
    "a prime modulus": (lambda: RsaForgery(PRIME_2048, E, PRIME_2048 - 1), "a prime modulus"),
    "a prime 3072-bit modulus": (lambda: RsaForgery(PRIME_3072, E, PRIME_3072 - 1), "a prime modulus"),
    "a prime 4096-bit modulus": (lambda: RsaForgery(PRIME_4096, E, PRIME_4096 - 1), "a prime modulus"),
    "an even modulus": (lambda: RsaForgery(2 * PRIME_2048, E, PRIME_2048 - 1), "an even modulus"),
    "a factor of 3": (
        lambda: RsaForgery(3 * PRIME_2048, E, 2 * (PRIME_2048 - 1)),
        "a modulus with a prime factor below 16384",
    ),
    "a factor of 16381": (  # the largest prime below 2^14
        lambda: RsaForgery(16381 * PRIME_2048, E, 16380 * (PRIME_2048 - 1)),
        "a modulus with a prime factor below 16384",
    ),
    "a square modulus": (_square_of_a_real_prime, "a modulus that is a square"),
}


def forged_token(
    header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes | None]
) -> str:
    """A token signed by `sign`; when it cannot sign these claims, the same claims with another `jti`."""
    for attempt in itertools.count():
        signing_input = f"{b64url_json(header)}.{b64url_json({**claims, 'jti': f'forged-{attempt}'})}"
        signature = sign(signing_input.encode())
        if signature is not None:
            return f"{signing_input}.{b64url(signature)}"
    raise AssertionError("unreachable")


def jwk_of_eddsa(kid: str, public_bytes: bytes) -> dict[str, Any]:
    curve = "Ed25519" if len(public_bytes) == 32 else "Ed448"
    return {"kty": "OKP", "crv": curve, "kid": kid, "use": "sig", "alg": "EdDSA", "x": b64url(public_bytes)}
