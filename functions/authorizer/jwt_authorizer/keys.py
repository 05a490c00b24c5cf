"""JSON Web Keys parsed once into ready-to-use verification keys.

A key is usable only for the algorithms that fit its type (and curve), that its JWK `alg` names when it
has one, and that the configuration allows, and only if it is not a key anyone can sign for (weak_keys.py).
Unusable keys are skipped with a reason, never guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256, SHA384, SHA512
from jwt.algorithms import Algorithm, ECAlgorithm, OKPAlgorithm, RSAAlgorithm, get_default_algorithms
from jwt.exceptions import InvalidKeyError

from .errors import JwksFetchError
from .weak_keys import eddsa_key_problem, rsa_key_problem

MIN_RSA_BITS = 2048
MAX_KEYS = 100

_RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_EC_ALGORITHM_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
#: RFC 8037's polymorphic EdDSA takes either curve; RFC 9864's fully specified Ed25519 only its own.
_OKP_ALGORITHMS_BY_CURVE = {"Ed25519": frozenset({"EdDSA", "Ed25519"}), "Ed448": frozenset({"EdDSA"})}
#: One signature algorithm under two names: Ed25519 is EdDSA on an Ed25519 key (RFC 9864 section 2.2).
_ONE_OPERATION = frozenset({"EdDSA", "Ed25519"})
#: What a key published without `alg` is bound to when several configured algorithms fit it, as PyJWT's
#: PyJWK assumes for an RSA key.
_DEFAULT_RSA_ALGORITHM = "RS256"

#: PyJWT's implementation of each RSA and EdDSA algorithm, built once (ECDSA is `_verify_ecdsa`'s). PyJWT
#: 2.15 knows the EdDSA implementation only by that name; it verifies Ed25519 keys, which is all the name
#: Ed25519 may verify.
_IMPLEMENTATIONS: dict[str, Algorithm] = {
    name: implementation
    for name, implementation in get_default_algorithms().items()
    if name in _RSA_ALGORITHMS | {"EdDSA"}
}
_IMPLEMENTATIONS["Ed25519"] = _IMPLEMENTATIONS["EdDSA"]

#: ES256, ES384, ES512 (RFC 7518 section 3.4): the signature is r and s, each as many big-endian bytes as
#: the curve's order, concatenated. These are checked here rather than through PyJWT's ECAlgorithm, which
#: does the same steps (length check, DER encoding, OpenSSL's verify) but builds its hash and ECDSA objects
#: and reads the integers in Python at every call: about 3 µs more per ES256 signature here.
_ECDSA = {"ES256": (ECDSA(SHA256()), 32), "ES384": (ECDSA(SHA384()), 48), "ES512": (ECDSA(SHA512()), 66)}

PublicKey = RSAPublicKey | EllipticCurvePublicKey | Ed25519PublicKey | Ed448PublicKey


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    key_type: str  # "RSA", "EC" or "OKP"
    algorithms: frozenset[str]  # the algorithms this key may verify
    public_key: PublicKey

    def verify(self, algorithm: str, signing_input: bytes, signature: bytes) -> bool:
        if algorithm not in self.algorithms:
            return False
        ecdsa = _ECDSA.get(algorithm)
        if ecdsa is not None:
            return _verify_ecdsa(self.public_key, ecdsa, signing_input, signature)
        return bool(_IMPLEMENTATIONS[algorithm].verify(signing_input, self.public_key, signature))


def _verify_ecdsa(
    public_key: PublicKey, ecdsa: tuple[ECDSA, int], signing_input: bytes, signature: bytes
) -> bool:
    scheme, size = ecdsa
    # The algorithm fits the key's curve (parse_jwk binds ES256 to P-256 and so on), so `size` is the
    # curve's; any other length is not a JWS ECDSA signature.
    if len(signature) != 2 * size or not isinstance(public_key, EllipticCurvePublicKey):
        return False
    r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), signing_input, scheme)
    except InvalidSignature:
        return False
    return True


#: kid -> the keys published under it (normally one).
KeySet = Mapping[str, tuple[VerificationKey, ...]]


@dataclass(frozen=True)
class ParsedJwks:
    keys: KeySet
    skipped: tuple[str, ...]  # one line per unusable key, for the logs


def parse_jwks(document: object, allowed_algorithms: frozenset[str]) -> ParsedJwks:
    """Parse a JWKS document; raise JwksFetchError when it holds no usable key at all."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksFetchError("the JWKS is not a JSON object with a 'keys' array")
    entries = document["keys"]
    if len(entries) > MAX_KEYS:
        raise JwksFetchError(f"the JWKS has {len(entries)} keys, more than {MAX_KEYS}")
    keys: dict[str, list[VerificationKey]] = {}
    skipped = []
    for index, entry in enumerate(entries):
        try:
            key = parse_jwk(entry, allowed_algorithms)
        except ValueError as problem:
            kid = entry.get("kid") if isinstance(entry, dict) else None
            skipped.append(f"key #{index} (kid {str(kid)[:64]!r}): {problem}")
            continue
        keys.setdefault(key.kid, []).append(key)
    if not keys:
        detail = "; ".join(skipped) if skipped else "the 'keys' array is empty"
        raise JwksFetchError(f"the JWKS has no usable signing key ({detail})")
    return ParsedJwks({kid: tuple(found) for kid, found in keys.items()}, tuple(skipped))


def parse_jwk(entry: object, allowed_algorithms: frozenset[str]) -> VerificationKey:
    """One JWK as a VerificationKey, or ValueError saying why it cannot verify anything here."""
    if not isinstance(entry, dict):
        raise ValueError("not a JSON object")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ValueError("no 'kid'")
    # RFC 7517 makes these strings; anything else (a list, an object) cannot be looked up in our tables.
    for member in ("kty", "crv", "alg", "use"):
        if member in entry and not isinstance(entry[member], str):
            raise ValueError(f"'{member}' is not a string")
    if entry.get("use", "sig") != "sig":
        raise ValueError(f"'use' is {entry.get('use')!r}, not 'sig'")
    key_ops = entry.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise ValueError("'key_ops' does not allow 'verify'")
    if "d" in entry:
        raise ValueError("the JWKS publishes private key material; refusing the key")
    key_type = entry.get("kty")
    public_key, fitting = _public_key(key_type, entry)
    jwk_algorithm = entry.get("alg")
    if jwk_algorithm is not None:
        if jwk_algorithm not in fitting:
            raise ValueError(f"'alg' {jwk_algorithm!r} does not fit a {key_type} key")
        fitting = frozenset({jwk_algorithm})
    usable = fitting & allowed_algorithms
    if not usable:
        raise ValueError(f"none of its algorithms ({', '.join(sorted(fitting))}) is allowed")
    if len(usable) > 1 and not usable <= _ONE_OPERATION:
        # RFC 8725bis section 3.1: each key is used with exactly one algorithm.
        if _DEFAULT_RSA_ALGORITHM not in usable:
            raise ValueError(
                f"it names no 'alg' and ALGORITHMS allows several for it ({', '.join(sorted(usable))}):"
                " the provider should publish its 'alg', or ALGORITHMS allow only one of them"
            )
        usable = frozenset({_DEFAULT_RSA_ALGORITHM})
    return VerificationKey(kid=kid, key_type=str(key_type), algorithms=usable, public_key=public_key)


def _public_key(key_type: object, entry: dict[str, Any]) -> tuple[PublicKey, frozenset[str]]:
    if key_type == "RSA":
        rsa_key = _from_jwk(RSAAlgorithm, entry)
        if not isinstance(rsa_key, RSAPublicKey):
            raise ValueError("not an RSA public key")
        if rsa_key.key_size < MIN_RSA_BITS:
            raise ValueError(f"RSA key of {rsa_key.key_size} bits, under {MIN_RSA_BITS}")
        numbers = rsa_key.public_numbers()
        _refuse_weak(rsa_key_problem(numbers.n, numbers.e))
        return rsa_key, _RSA_ALGORITHMS
    if key_type == "EC":
        algorithm = _EC_ALGORITHM_BY_CURVE.get(entry.get("crv"))  # type: ignore[arg-type]
        if algorithm is None:
            raise ValueError(f"unsupported curve {str(entry.get('crv'))[:16]!r}")
        ec_key = _from_jwk(ECAlgorithm, entry)
        if not isinstance(ec_key, EllipticCurvePublicKey):
            raise ValueError("not an EC public key")
        return ec_key, frozenset({algorithm})
    if key_type == "OKP":
        okp_algorithms = _OKP_ALGORITHMS_BY_CURVE.get(entry.get("crv"))  # type: ignore[arg-type]
        if okp_algorithms is None:
            raise ValueError(f"unsupported curve {str(entry.get('crv'))[:16]!r}")
        okp_key = _from_jwk(OKPAlgorithm, entry)
        if not isinstance(okp_key, (Ed25519PublicKey, Ed448PublicKey)):
            raise ValueError("not an EdDSA public key")
        _refuse_weak(eddsa_key_problem(str(entry["crv"]), okp_key.public_bytes_raw()))
        return okp_key, okp_algorithms
    raise ValueError(f"unsupported key type {str(key_type)[:16]!r}")


def _refuse_weak(problem: str | None) -> None:
    if problem is not None:
        raise ValueError(f"a key no real provider publishes: {problem}")


def _from_jwk(algorithm: type[Algorithm], entry: dict[str, Any]) -> object:
    try:
        return algorithm.from_jwk(entry)
    except (InvalidKeyError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise ValueError(f"invalid {entry.get('kty')} key ({error})") from None
