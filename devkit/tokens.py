"""Signing keys generated for the tests, and a minter for tokens signed with them."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import Algorithm, ECAlgorithm, OKPAlgorithm, RSAAlgorithm, get_default_algorithms

ISSUER = "http://127.0.0.1:9/issuer"  # replaced by the JWKS server's own URL in most tests
AUDIENCE = "api://messages"


@dataclass
class SigningKey:
    kid: str
    private_key: Any
    algorithm: str
    jwk_extra: dict[str, Any] = field(default_factory=dict)

    def public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
        members = {**jwk, "kid": self.kid, "use": "sig", "alg": self.algorithm, **self.jwk_extra}
        return {name: value for name, value in members.items() if value is not REMOVE}  # REMOVE: leave out


def rsa_key(kid: str, bits: int = 2048, algorithm: str = "RS256") -> SigningKey:
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=bits), algorithm)


def ec_key(kid: str, curve: ec.EllipticCurve | None = None, algorithm: str = "ES256") -> SigningKey:
    return SigningKey(kid, ec.generate_private_key(curve or ec.SECP256R1()), algorithm)


def ed25519_key(kid: str, algorithm: str = "EdDSA") -> SigningKey:
    return SigningKey(kid, ed25519.Ed25519PrivateKey.generate(), algorithm)


def ed448_key(kid: str) -> SigningKey:
    return SigningKey(kid, ed448.Ed448PrivateKey.generate(), "EdDSA")


def jwks_of(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in keys]}


def claims_for(issuer: str, now: float | None = None, **overrides: Any) -> dict[str, Any]:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": "user-123",
        "aud": AUDIENCE,
        "iat": issued,
        "nbf": issued,
        "exp": issued + 300,
        "scope": "messages:read",
        "client_id": "client-abc",
        "jti": "token-1",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not _REMOVE}


class _Remove:
    def __repr__(self) -> str:
        return "REMOVE"


#: Pass as a claim or header value to leave it out of the token.
REMOVE: Any = _Remove()
_REMOVE = REMOVE


def signer(algorithm: str) -> Algorithm:
    """PyJWT's implementation of `algorithm`; PyJWT 2.15 knows RFC 9864's Ed25519 only as EdDSA."""
    return get_default_algorithms()["EdDSA" if algorithm == "Ed25519" else algorithm]


def mint(key: SigningKey, claims: dict[str, Any], algorithm: str | None = None, **header: Any) -> str:
    headers = {"kid": key.kid, "typ": "JWT", **header}
    headers = {name: value for name, value in headers.items() if value is not REMOVE}
    algorithm = algorithm or key.algorithm
    if algorithm == "Ed25519":
        return sign_raw(key, {"alg": algorithm, **headers}, claims, algorithm)
    return jwt.encode(claims, key.private_key, algorithm=algorithm, headers=headers)


def b64url(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def respellings(segment: str) -> list[str]:
    """The other spellings of a base64url segment's bytes: its last character with spare bits set.

    A segment of length 4n+2 ends in a character that carries 2 bits of the last byte and 4 spare bits,
    one of length 4n+3 carries 4 and 2 spare; lenient decoders ignore the spare bits. Length 4n has none.
    """
    spare = {2: 4, 3: 2}.get(len(segment) % 4, 0)
    value = _BASE64URL.index(segment[-1])
    return [segment[:-1] + _BASE64URL[value | bits] for bits in range(1, 2**spare)]


def b64url_json(value: Any) -> str:
    return b64url(_compact_json(value))


def raw_token(header: Any, claims: Any, signature: bytes = b"sig") -> str:
    """A token assembled by hand, for shapes no library will produce."""
    return f"{b64url_json(header)}.{b64url_json(claims)}.{b64url(signature)}"


def split(token: str) -> tuple[str, str, str]:
    header, payload, signature = token.split(".")
    return header, payload, signature


def sign_raw(key: SigningKey, header: Any, claims: Any, algorithm: str | None = None) -> str:
    """Sign any header and claims as given, for shapes PyJWT refuses to produce (odd kid, iss, b64)."""
    return sign_segments(key, _compact_json(header), _compact_json(claims), algorithm)


def sign_segments(key: SigningKey, header: bytes, payload: bytes, algorithm: str | None = None) -> str:
    """Sign header and payload bytes exactly as given (shapes no JSON encoder or JWT library produces)."""
    from jwt.algorithms import get_default_algorithms

    signing_input = f"{b64url(header)}.{b64url(payload)}"
    signature = get_default_algorithms()[algorithm or key.algorithm].sign(
        signing_input.encode(), key.private_key
    )
    return f"{signing_input}.{b64url(signature)}"


def _compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
