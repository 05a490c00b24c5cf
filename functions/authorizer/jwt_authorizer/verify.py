"""Verification of a compact JWS access token: header, issuer, key, signature, then claims."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .compact import UnverifiedToken, decode_unverified
from .config import Settings
from .errors import TokenRejected
from .jwks import JwksCache

#: 9999-12-31T23:59:59Z; a NumericDate beyond it is not a date anyone meant.
MAX_NUMERIC_DATE = 253_402_300_799
MAX_KID_LENGTH = 256


@dataclass(frozen=True)
class VerifiedToken:
    claims: dict[str, Any]
    kid: str
    algorithm: str

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])

    @property
    def issuer(self) -> str:
        return str(self.claims["iss"])


class TokenVerifier:
    def __init__(
        self,
        settings: Settings,
        caches: Mapping[str, JwksCache],
        now: Callable[[], float] = time.time,
    ) -> None:
        self._algorithms = settings.algorithms
        self._audiences = settings.audiences
        self._leeway = settings.leeway_seconds
        self._caches = caches
        self._now = now

    def verify(self, token: str) -> VerifiedToken:
        unverified = decode_unverified(token)
        try:
            return self._verify(unverified)
        except TokenRejected as rejection:
            rejection.fields = {
                "kid": unverified.header.get("kid"),
                "iss": unverified.claims.get("iss"),
                "sub": unverified.claims.get("sub"),
            }
            raise

    def _verify(self, unverified: UnverifiedToken) -> VerifiedToken:
        header, claims = unverified.header, unverified.claims
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            raise TokenRejected("algorithm_not_allowed", f"alg {str(algorithm)[:32]!r}")
        if "crit" in header or "b64" in header:
            # RFC 7515 section 4.1.11: extensions we do not understand make the token unacceptable.
            raise TokenRejected("unsupported_header", "critical header extensions are not supported")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
            raise TokenRejected("missing_kid", "the header needs a string 'kid'")
        issuer = claims.get("iss")
        # Only the configured issuers' keys are ever fetched: an unknown issuer costs nothing.
        cache = self._caches.get(issuer) if isinstance(issuer, str) else None
        if cache is None:
            raise TokenRejected("untrusted_issuer", f"iss {str(issuer)[:200]!r}")
        keys = cache.keys_for(kid)
        if not any(algorithm in key.algorithms for key in keys):
            raise TokenRejected("algorithm_mismatch", f"key {kid[:64]!r} cannot verify {algorithm}")
        if not any(key.verify(algorithm, unverified.signing_input, unverified.signature) for key in keys):
            raise TokenRejected("invalid_signature")
        self._check_claims(claims)
        return VerifiedToken(claims=claims, kid=kid, algorithm=algorithm)

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = self._now()
        expires = _numeric_date(claims, "exp", required=True)
        if expires is not None and now >= expires + self._leeway:
            raise TokenRejected("token_expired")
        not_before = _numeric_date(claims, "nbf")
        if not_before is not None and now + self._leeway < not_before:
            raise TokenRejected("token_not_yet_valid")
        issued_at = _numeric_date(claims, "iat")
        if issued_at is not None and now + self._leeway < issued_at:
            raise TokenRejected("token_issued_in_future")
        self._check_audience(claims)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise TokenRejected("missing_sub", "the token needs a string 'sub'")

    def _check_audience(self, claims: dict[str, Any]) -> None:
        audience = claims.get("aud")
        if isinstance(audience, str):
            accepted = audience in self._audiences
        elif isinstance(audience, list) and audience and all(isinstance(a, str) for a in audience):
            accepted = not self._audiences.isdisjoint(audience)
        else:
            raise TokenRejected("invalid_audience", "'aud' is missing or not a string or list of strings")
        if not accepted:
            raise TokenRejected("invalid_audience", "no accepted audience in 'aud'")


def _numeric_date(claims: dict[str, Any], name: str, required: bool = False) -> float | None:
    if name not in claims:
        if required:
            raise TokenRejected(f"missing_{name}", f"the token needs '{name}'")
        return None
    value = claims[name]
    # bool is an int in Python but not a JSON number; NaN and infinities are not JSON at all.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TokenRejected(f"invalid_{name}", f"'{name}' is not a number")
    # Compare before converting: float() of a huge int raises instead of answering.
    if (isinstance(value, float) and not math.isfinite(value)) or not 0 <= value <= MAX_NUMERIC_DATE:
        raise TokenRejected(f"invalid_{name}", f"'{name}' is out of range")
    return float(value)
