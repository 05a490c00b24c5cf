"""RFC 9449 for the local stack: a client's key pair and the proofs it signs; the token endpoint's check.

The client: a key pair kept between commands, and proofs signed with it.

`make token DPOP=1` sends a proof to the local provider's token endpoint and gets a token bound to this
key (`cnf.jkt`); `make proof METHOD=GET URL=...` signs a proof for one request with the same key and that
token. The key lives in .local/dpop-key.pem, so the token and its proofs agree across commands; delete the
file for a new key (tokens bound to the old one are then useless, as they should be).

The token endpoint's side (`token_request_key`) is the local provider's, as an identity provider's own
check is its own: it stands in for Okta, Auth0 or Keycloak, not for the authorizer (whose verifier,
jwt_authorizer/dpop.py, is the one under test).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

DEFAULT_KEY_FILE = Path(".local") / "dpop-key.pem"
ALGORITHM = "ES256"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class ProofKey:
    """An ES256 key pair that signs DPoP proofs."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self._private_key = private_key
        public = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
        self.public_jwk: dict[str, Any] = {name: public[name] for name in ("kty", "crv", "x", "y")}

    @classmethod
    def generate(cls) -> ProofKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def load_or_create(cls, path: Path = DEFAULT_KEY_FILE) -> ProofKey:
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{path} does not hold an EC private key")
            return cls(loaded)
        key = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = key._private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.touch(mode=0o600)
        path.write_bytes(pem)
        return key

    @property
    def thumbprint(self) -> str:
        """RFC 7638, as a token bound to this key names it in `cnf.jkt`."""
        canonical = json.dumps(self.public_jwk, separators=(",", ":"), sort_keys=True)
        return _b64url(hashlib.sha256(canonical.encode()).digest())

    def proof(
        self,
        method: str,
        url: str,
        access_token: str | None = None,
        *,
        now: float | None = None,
        jti: str | None = None,
        **extra_claims: Any,
    ) -> str:
        """A proof for one `method` request to `url`; with `access_token`, its `ath` too (RFC 9449 4.2)."""
        header = {"typ": "dpop+jwt", "alg": ALGORITHM, "jwk": self.public_jwk}
        claims: dict[str, Any] = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time() if now is None else now),
        }
        if access_token is not None:
            claims["ath"] = _b64url(hashlib.sha256(access_token.encode("ascii")).digest())
        claims.update(extra_claims)
        signing_input = f"{_b64url(_json(header))}.{_b64url(_json(claims))}"
        signature = ECAlgorithm(ECAlgorithm.SHA256).sign(signing_input.encode("ascii"), self._private_key)
        return f"{signing_input}.{_b64url(signature)}"


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


#: What the local provider accepts for proofs at its token endpoint, and how old they may be. Its metadata
#: does not advertise DPoP (RFC 9449 section 5.1's dpop_signing_alg_values_supported): a client that binds
#: whenever it may would get tokens the API refuses as Bearer with Dpop off. A client asks by sending a proof.
TOKEN_ENDPOINT_ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA")
TOKEN_ENDPOINT_PROOF_SECONDS = 60


class InvalidProof(ValueError):
    """A token request's DPoP proof is not acceptable (the token endpoint answers invalid_dpop_proof)."""


def token_request_key(proof: str, token_endpoint: str, now: float) -> tuple[str, str, float]:
    """RFC 9449 section 4.3 at a token endpoint: (the thumbprint of the proof's key, its jti, its iat)."""
    try:
        header = jwt.get_unverified_header(proof)
        jwk = header.get("jwk")
        if header.get("typ") != "dpop+jwt" or not isinstance(jwk, dict) or "d" in jwk:
            raise InvalidProof("the proof needs typ dpop+jwt and a public jwk")
        key = jwt.PyJWK(jwk, header.get("alg")).key
        claims = jwt.decode(
            proof, key, algorithms=list(TOKEN_ENDPOINT_ALGORITHMS), options={"verify_iat": False}
        )
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise InvalidProof(str(error)) from None
    if claims.get("htm") != "POST" or claims.get("htu") != token_endpoint:
        raise InvalidProof(f"the proof is not for POST {token_endpoint}")
    issued_at, jti = claims.get("iat"), claims.get("jti")
    if not isinstance(issued_at, (int, float)) or abs(now - issued_at) > TOKEN_ENDPOINT_PROOF_SECONDS:
        raise InvalidProof("the proof's iat is missing or too far from now")
    if not isinstance(jti, str) or not jti:
        raise InvalidProof("the proof has no jti")
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}
    required = members.get(str(jwk.get("kty")), ())
    canonical = json.dumps({name: jwk.get(name) for name in required}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest()), jti, float(issued_at)
