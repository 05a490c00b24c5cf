"""The authorizer and PyJWT side by side on the same tokens.

`Side` holds, for one provider shape, the real authorizer service trusting that provider and a PyJWT
oracle configured the equivalent strict way: the key PyJWKClient would pick for the token's `kid` (as a
PyJWK, so a key published without `alg` is bound to PyJWK's default), the same algorithms, issuer,
audiences and leeway, every claim check on, `exp`, `iss`, `sub` and `aud` required, and keys below
2048 bits refused. `Recipe` describes one token: claims and header as they are, how the segments are
encoded, and what happens to the signature; `forge` turns it into the token.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import jwt
import jwt.api_jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from devkit.tokens import (
    REMOVE,
    SigningKey,
    b64url,
    ec_key,
    ed25519_key,
    jwks_of,
    respellings,
    rsa_key,
    signer,
)
from jwt_authorizer import AuthorizerService, Settings, is_cognito_issuer
from tests.support.providers import NOW, PROVIDER_SHAPES, ProviderShape, rejection, service_with_keys

#: One key of each kind, shared by the providers (each issuer still has its own key cache), the same
#: RSA key published a second time without `alg`, and a key nobody publishes.
RSA = rsa_key("rsa-1")
RSA_WITHOUT_ALG = SigningKey("rsa-noalg", RSA.private_key, "RS256", {"alg": REMOVE})
EC = ec_key("ec-1")
ED25519 = ed25519_key("ed-1", "Ed25519")
ATTACKER = rsa_key("rsa-1")
KEYS = {"rsa": RSA, "ec": EC, "ed25519": ED25519}
#: What each kind of provider key is configured with: its own algorithm and one more of its family, so
#: that an algorithm the key was not published for is caught at the key, not at the allow-list.
ALGORITHMS = {"rsa": "RS256,PS256", "ec": "ES256,RS256", "ed25519": "Ed25519,EdDSA"}


class _Ed25519Only(OKPAlgorithm):
    """RFC 9864's Ed25519, unknown to PyJWT 2.15 (jpadilla/pyjwt#1190): EdDSA on Ed25519 keys only."""

    def prepare_key(self, key: Any) -> Any:
        prepared = super().prepare_key(key)
        if not isinstance(prepared, Ed25519PublicKey):
            raise jwt.InvalidKeyError("Ed25519 needs an Ed25519 key")
        return prepared


_DECODER = jwt.PyJWT()
_DECODER._jws.register_algorithm("Ed25519", _Ed25519Only())  # PyJWT's own registry, on this instance only


class _FrozenDatetime(datetime.datetime):
    @classmethod
    def now(cls, tz: datetime.tzinfo | None = None) -> _FrozenDatetime:
        return cls.fromtimestamp(NOW, tz)


@contextmanager
def pyjwt_clock_at_now() -> Iterator[None]:
    """PyJWT reads the wall clock; the authorizer under test reads NOW. Make PyJWT read NOW too."""
    with mock.patch.object(jwt.api_jwt, "datetime", _FrozenDatetime):
        yield


@dataclass
class Side:
    shape: ProviderShape
    service: AuthorizerService
    settings: Settings
    jwks: dict[str, dict[str, Any]]  # kid -> JWK, as published

    @classmethod
    def for_shape(cls, shape: ProviderShape) -> Side:
        env = {"ALGORITHMS": ALGORITHMS[shape.key], **shape.env}
        published = [KEYS[shape.key], *([RSA_WITHOUT_ALG] if shape.key == "rsa" else [])]
        service = service_with_keys(env, {shape.issuer: published})
        document = jwks_of(*published)
        return cls(shape, service, Settings.from_env(env), {jwk["kid"]: jwk for jwk in document["keys"]})

    def authorizer_refusal(self, token: str) -> str | None:
        reason = rejection(self.service, token)
        return None if reason is None else str(reason)

    def pyjwt_refusal(self, token: str) -> str | None:
        """None when PyJWT accepts the token, else the name of the error it raises."""
        try:
            self._pyjwt_decode(token)
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            return type(error).__name__
        return None

    def _pyjwt_decode(self, token: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        jwk = self.jwks.get(kid) if isinstance(kid, str) else None
        if jwk is None:
            raise jwt.PyJWKClientError("no key for that kid")  # what PyJWKClient raises
        key: Any
        if header.get("alg") == "Ed25519" and jwk.get("alg", "Ed25519") == "Ed25519":
            key = OKPAlgorithm.from_jwk(jwk)  # PyJWK 2.15 cannot load a JWK whose alg is Ed25519
        else:
            key = _pyjwk(self.shape.name, jwk["kid"], jwk)
        unverified = _DECODER.decode(token, options={"verify_signature": False})
        # Cognito access tokens carry client_id and no aud: PyJWT has no client_id check, so none runs.
        verify_aud = not (unverified.get("aud") is None and is_cognito_issuer(self.shape.issuer))
        options: dict[str, Any] = {
            "verify_signature": True,
            "verify_exp": True,
            "verify_nbf": True,
            "verify_iat": True,
            "verify_iss": True,
            "verify_aud": verify_aud,
            "verify_sub": True,
            "verify_jti": True,
            "strict_aud": False,
            "enforce_minimum_key_length": True,
            "require": ["exp", "iss", "sub", *(["aud"] if verify_aud else [])],
        }
        with pyjwt_clock_at_now():
            payload: dict[str, Any] = _DECODER.decode(
                token,
                key,
                algorithms=sorted(self.settings.algorithms),
                audience=sorted(self.settings.audiences_for(self.shape.issuer)) if verify_aud else None,
                issuer=list(self.settings.issuers),
                leeway=self.settings.leeway_seconds,
                options=options,  # type: ignore[arg-type]
            )
        return payload


_PYJWKS: dict[tuple[str, str], jwt.PyJWK] = {}


def _pyjwk(provider: str, kid: str, jwk: dict[str, Any]) -> jwt.PyJWK:
    # Built once per published key, as PyJWKClient caches its key set.
    if (provider, kid) not in _PYJWKS:
        _PYJWKS[provider, kid] = jwt.PyJWK(jwk)
    return _PYJWKS[provider, kid]


SIDES = {shape.name: Side.for_shape(shape) for shape in PROVIDER_SHAPES}


@dataclass
class Recipe:
    """One token: the shape it starts from, what was changed, and how it is spelled and signed."""

    shape: ProviderShape
    claims: dict[str, Any]
    header: dict[str, Any]
    encoding: str = "compact"
    signature: str = "valid"
    changes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, shape: ProviderShape) -> Recipe:
        key = KEYS[shape.key]
        return cls(shape, dict(shape.claims), {"alg": shape.algorithm, "kid": key.kid, **shape.header})

    def describe(self) -> str:
        return f"{self.shape.name}: {', '.join(self.changes) or 'as issued'}"


def _json(value: Any, encoding: str) -> bytes:
    if encoding == "spaced":
        return json.dumps(value, indent=1).encode()
    if encoding == "non-ascii":
        # A lone surrogate is written as its three bytes: not UTF-8, which is the point of trying it
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return json.dumps(value, separators=(",", ":")).encode()


def _with_member(document: bytes, raw_member: str, first: bool = False) -> bytes:
    """The JSON object text with one more member written as given (which no encoder would write)."""
    text = document.decode()
    return (("{" + raw_member + "," + text[1:]) if first else (text[:-1] + "," + raw_member + "}")).encode()


#: How a recipe's segments are spelled; each name is the encoding the catalogue and hypothesis pick from.
ENCODINGS: dict[str, Callable[[bytes, bytes], tuple[bytes, bytes]]] = {
    "compact": lambda header, payload: (header, payload),
    "spaced": lambda header, payload: (header, payload),
    "non-ascii": lambda header, payload: (header, payload),
    "leading whitespace": lambda header, payload: (b" " + header, b"\n" + payload),
    "duplicate iss, the trusted one last": lambda header, payload: (
        header,
        _with_member(payload, '"iss":"https://evil.example.com"', first=True),
    ),
    "duplicate alg, the right one last": lambda header, payload: (
        _with_member(header, '"alg":"none"', first=True),
        payload,
    ),
    "byte-order mark": lambda header, payload: (header, b"\xef\xbb\xbf" + payload),
    "UTF-16 payload": lambda header, payload: (header, payload.decode().encode("utf-16")),
    "NaN in a claim": lambda header, payload: (header, _with_member(payload, '"ratio":NaN')),
    "1e400 in a claim": lambda header, payload: (header, _with_member(payload, '"ratio":1e400')),
    "nested 40 deep": lambda header, payload: (header, _with_member(payload, '"x":' + "[" * 40 + "]" * 40)),
    "oversize": lambda header, payload: (header, _with_member(payload, '"padding":"' + "x" * 12_000 + '"')),
}
#: Changes made to the compact serialization after signing.
SPELLINGS = ("canonical", "padded", "header respelled", "payload respelled", "signature respelled")
SIGNATURES = ("valid", "flipped", "attacker's key under the real kid", "empty", "truncated")


def forge(recipe: Recipe, spelling: str = "canonical") -> str:
    header = {name: value for name, value in recipe.header.items() if value is not REMOVE}
    claims = {name: value for name, value in recipe.claims.items() if value is not REMOVE}
    header_bytes, payload_bytes = ENCODINGS[recipe.encoding](
        _json(header, recipe.encoding), _json(claims, recipe.encoding)
    )
    segments = [b64url(header_bytes), b64url(payload_bytes)]
    for index, part in enumerate(("header", "payload")):
        if spelling == f"{part} respelled":
            segments[index] = (respellings(segments[index]) or [segments[index] + "A"])[0]
    signing_input = ".".join(segments).encode()
    key = KEYS[recipe.shape.key]
    if recipe.signature == "attacker's key under the real kid":
        key = ATTACKER if recipe.shape.key == "rsa" else KEYS["rsa"]
    signature = signer(_signing_algorithm(recipe, key)).sign(signing_input, key.private_key)
    encoded = b64url(signature)
    if recipe.signature == "flipped":
        encoded = encoded[:10] + ("B" if encoded[10] == "A" else "A") + encoded[11:]
    elif recipe.signature == "empty":
        encoded = ""
    elif recipe.signature == "truncated":
        encoded = encoded[:-4]
    if spelling == "signature respelled" and encoded:
        encoded = (respellings(encoded) or [encoded + "A"])[0]
    elif spelling == "padded":
        encoded += "=" * (-len(encoded) % 4)
    return f"{signing_input.decode()}.{encoded}"


_FAMILY = {"RS": "rsa", "PS": "rsa", "ES": "ec", "Ed": "ed25519"}


def _signing_algorithm(recipe: Recipe, key: SigningKey) -> str:
    """The header's algorithm when it fits the signing key (the strongest forgery), else the shape's own."""
    alg = recipe.header.get("alg")
    kind = "rsa" if key is ATTACKER or key is RSA else recipe.shape.key
    if isinstance(alg, str) and _FAMILY.get(alg[:2]) == kind and alg in {"RS256", "PS256", "RS512", "ES256"}:
        return alg
    if isinstance(alg, str) and kind == "ed25519" and alg in {"EdDSA", "Ed25519"}:
        return alg
    return {"rsa": "RS256", "ec": "ES256", "ed25519": "EdDSA"}[kind]
