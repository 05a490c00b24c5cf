"""Verification of a compact JWS access token: header, issuer, key, signature, then claims."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from .claims import IssuerRules
from .compact import UnverifiedToken, decode_unverified
from .config import Settings
from .errors import Reason, TokenRejected
from .jwks import JwksCache
from .keys import VerificationKey
from .providers import profile_for

MAX_KID_LENGTH = 256


class VerifiedToken(NamedTuple):  # a NamedTuple: built once per token, cheaper than a frozen dataclass
    claims: dict[str, Any]
    kid: str
    algorithm: str
    #: The issuer's key epoch that verified the token (None if its keys were replaced meanwhile): the
    #: verified-token cache keeps the result only while that epoch is live.
    key_epoch: int | None

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
        self._require_at_jwt_typ = settings.require_at_jwt_typ
        self._issuers = {
            issuer: (
                cache,
                IssuerRules(
                    settings.audiences_for(issuer),
                    profile_for(issuer),
                    settings.leeway_seconds,
                    settings.token_uses,
                ),
            )
            for issuer, cache in caches.items()
        }
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

    # Each step below is also run on its own by `explain`, so a step and its explanation never drift.

    def _verify(self, unverified: UnverifiedToken) -> VerifiedToken:
        header, claims = unverified.header, unverified.claims
        algorithm, kid = self.check_header(header)
        cache, rules = self.trusted_issuer(claims)
        keys = cache.keys_for(kid)
        self.check_signature(unverified, algorithm, keys)
        self.check_claims(claims, rules)
        return VerifiedToken(claims, kid, algorithm, cache.epoch_of(kid, keys))

    def check_header(self, header: dict[str, Any]) -> tuple[str, str]:
        """The header's algorithm and key id, once both are acceptable."""
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            raise TokenRejected(Reason.ALGORITHM_NOT_ALLOWED, f"alg {str(algorithm)[:32]!r}")
        if "crit" in header or "b64" in header:
            # RFC 7515 section 4.1.11: extensions we do not understand make the token unacceptable.
            raise TokenRejected(Reason.UNSUPPORTED_HEADER, "critical header extensions are not supported")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
            raise TokenRejected(Reason.MISSING_KID, "the header needs a string 'kid'")
        if self._require_at_jwt_typ:
            check_at_jwt_typ(header)
        return algorithm, kid

    def trusted_issuer(self, claims: dict[str, Any]) -> tuple[JwksCache, IssuerRules]:
        """The token's own issuer's keys and rules: a token is never checked with another issuer's keys."""
        issuer = claims.get("iss")
        # Only the configured issuers' keys are ever fetched: an unknown issuer costs nothing.
        found = self._issuers.get(issuer) if isinstance(issuer, str) else None
        if found is None:
            raise TokenRejected(Reason.UNTRUSTED_ISSUER, f"iss {str(issuer)[:200]!r}")
        return found

    def check_signature(
        self, unverified: UnverifiedToken, algorithm: str, keys: tuple[VerificationKey, ...]
    ) -> None:
        if not any(algorithm in key.algorithms for key in keys):
            kid = str(unverified.header.get("kid"))
            raise TokenRejected(Reason.ALGORITHM_MISMATCH, f"key {kid[:64]!r} cannot verify {algorithm}")
        if not any(key.verify(algorithm, unverified.signing_input, unverified.signature) for key in keys):
            raise TokenRejected(Reason.INVALID_SIGNATURE)

    def check_claims(self, claims: dict[str, Any], rules: IssuerRules) -> None:
        """Every claim check of the issuer's rules, in order (claims.py)."""
        now = self._now()
        for step in rules.checks:
            step.check(claims, rules, now)


#: RFC 9068 section 2.1; the media type may be written with its "application/" prefix (RFC 7515 4.1.9).
_AT_JWT_TYPES = frozenset({"at+jwt", "application/at+jwt"})


def check_at_jwt_typ(header: dict[str, Any]) -> None:
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _AT_JWT_TYPES:
        raise TokenRejected(Reason.INVALID_TYP, f"typ {str(typ)[:32]!r} is not at+jwt")
