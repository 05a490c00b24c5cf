"""Verification of a compact JWS access token: header, issuer, key, signature, then claims."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .compact import UnverifiedToken, decode_unverified
from .config import Settings, is_cognito_issuer
from .errors import Reason, TokenRejected
from .jwks import JwksCache
from .keys import VerificationKey

#: 9999-12-31T23:59:59Z; a NumericDate beyond it is not a date anyone meant.
MAX_NUMERIC_DATE = 253_402_300_799
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


@dataclass(frozen=True)
class IssuerRules:
    """What a token from one trusted issuer must carry, worked out once at cold start."""

    audiences: frozenset[str]
    #: Amazon Cognito: access tokens carry `client_id` instead of `aud`, and always a `token_use`.
    cognito: bool


class TokenVerifier:
    def __init__(
        self,
        settings: Settings,
        caches: Mapping[str, JwksCache],
        now: Callable[[], float] = time.time,
    ) -> None:
        self._algorithms = settings.algorithms
        self._leeway = settings.leeway_seconds
        self._token_uses = settings.token_uses
        self._require_at_jwt_typ = settings.require_at_jwt_typ
        self._issuers = {
            issuer: (cache, IssuerRules(settings.audiences_for(issuer), is_cognito_issuer(issuer)))
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
        """The registered claims' rules (RFC 7519 section 4.1, RFC 9068 section 2.2), each explicit.

        `iss` a string naming a trusted issuer (checked before the key is looked up); `exp` required,
        `nbf` and `iat` optional, each a JSON number; `aud` a string or a non-empty array of strings
        (Cognito access tokens: a string `client_id` instead); `sub` a non-empty string; `jti` a string
        when present. `scope` is read later, as a string or an array of strings.
        """
        now = self._now()
        self.check_expiry(claims, now)
        self.check_not_before(claims, now)
        self.check_issued_at(claims, now)
        self.check_audience(claims, rules)
        self.check_token_use(claims, rules)
        check_subject(claims)
        check_jwt_id(claims)

    def check_expiry(self, claims: dict[str, Any], now: float) -> None:
        expires = _numeric_date(claims, "exp", Reason.INVALID_EXP, missing=Reason.MISSING_EXP)
        if expires is not None and now >= expires + self._leeway:
            raise TokenRejected(Reason.TOKEN_EXPIRED)

    def check_not_before(self, claims: dict[str, Any], now: float) -> None:
        not_before = _numeric_date(claims, "nbf", Reason.INVALID_NBF)
        if not_before is not None and now + self._leeway < not_before:
            raise TokenRejected(Reason.TOKEN_NOT_YET_VALID)

    def check_issued_at(self, claims: dict[str, Any], now: float) -> None:
        issued_at = _numeric_date(claims, "iat", Reason.INVALID_IAT)
        if issued_at is not None and now + self._leeway < issued_at:
            raise TokenRejected(Reason.TOKEN_ISSUED_IN_FUTURE)

    def check_audience(self, claims: dict[str, Any], rules: IssuerRules) -> None:
        audience = claims.get("aud")
        if audience is None and rules.cognito:
            # Cognito access tokens name their app client in `client_id` and carry no `aud`.
            client_id = claims.get("client_id")
            if not isinstance(client_id, str):
                raise TokenRejected(Reason.INVALID_AUDIENCE, "neither 'aud' nor a string 'client_id'")
            if client_id not in rules.audiences:
                raise TokenRejected(Reason.INVALID_AUDIENCE, "'client_id' is not an accepted audience")
            return
        if isinstance(audience, str):
            accepted = audience in rules.audiences
        elif isinstance(audience, list) and audience and all(isinstance(a, str) for a in audience):
            accepted = not rules.audiences.isdisjoint(audience)
        else:
            raise TokenRejected(
                Reason.INVALID_AUDIENCE, "'aud' is missing or not a string or list of strings"
            )
        if not accepted:
            raise TokenRejected(Reason.INVALID_AUDIENCE, "no accepted audience in 'aud'")

    def check_token_use(self, claims: dict[str, Any], rules: IssuerRules) -> None:
        # Cognito marks every token; other providers rarely do, but a token that says what it is for
        # must say something TOKEN_USE accepts (an ID token is not an access token).
        token_use = claims.get("token_use")
        if token_use is None and not rules.cognito:
            return
        if not isinstance(token_use, str) or token_use not in self._token_uses:
            raise TokenRejected(Reason.INVALID_TOKEN_USE, f"token_use {str(token_use)[:32]!r}")


#: RFC 9068 section 2.1; the media type may be written with its "application/" prefix (RFC 7515 4.1.9).
_AT_JWT_TYPES = frozenset({"at+jwt", "application/at+jwt"})


def check_at_jwt_typ(header: dict[str, Any]) -> None:
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _AT_JWT_TYPES:
        raise TokenRejected(Reason.INVALID_TYP, f"typ {str(typ)[:32]!r} is not at+jwt")


def check_subject(claims: dict[str, Any]) -> None:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise TokenRejected(Reason.MISSING_SUB, "the token needs a string 'sub'")


def check_jwt_id(claims: dict[str, Any]) -> None:
    # RFC 7519 section 4.1.7: a case-sensitive string. Anything keyed on it (a replay or deny list, a log
    # search) needs it to be one, and PyJWT refuses any other type too.
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise TokenRejected(Reason.INVALID_JTI, "'jti' is not a string")


def _numeric_date(
    claims: dict[str, Any], name: str, invalid: Reason, missing: Reason | None = None
) -> int | None:
    """The NumericDate `name` in whole seconds; `missing` is the reason when it is required and absent."""
    if name not in claims:
        if missing is not None:
            raise TokenRejected(missing, f"the token needs '{name}'")
        return None
    value = claims[name]
    # bool is an int in Python but not a JSON number; NaN and infinities are not JSON at all.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TokenRejected(invalid, f"'{name}' is not a number")
    # Compare before converting: float() of a huge int raises instead of answering.
    if (isinstance(value, float) and not math.isfinite(value)) or not 0 <= value <= MAX_NUMERIC_DATE:
        raise TokenRejected(invalid, f"'{name}' is out of range")
    # Whole seconds, as PyJWT reads them: a fractional exp never lasts longer here than it does there.
    return int(value)
