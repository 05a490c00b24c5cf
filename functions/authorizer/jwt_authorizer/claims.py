"""The claim checks: one sequence that verification runs and `make explain` walks, each with its words.

The registered claims' rules (RFC 7519 section 4.1, RFC 9068 section 2.2), each explicit: `exp`
required, `nbf` and `iat` optional, each a JSON number; `aud` a string or a non-empty array of strings
(or, where the provider profile says so, its fallback claim instead); `token_use` as the profile and
TOKEN_USE say; `sub` a non-empty string; `jti` a string when present. (`iss` is checked before the key is
looked up; `scope` is read after verification, as a string or an array of strings.)

A check raises TokenRejected; its `describe` says what the token states, as `explain` prints it beside
the verdict of the check. A provider's own checks come after these (providers.ProviderProfile).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import Reason, TokenRejected
from .providers import PROFILES, ClaimCheck, ClaimRules, Claims, ProviderProfile

#: 9999-12-31T23:59:59Z; a NumericDate beyond it is not a date anyone meant.
MAX_NUMERIC_DATE = 253_402_300_799


@dataclass(frozen=True)
class IssuerRules:
    """What a token from one trusted issuer must carry, worked out once at cold start."""

    audiences: frozenset[str]
    profile: ProviderProfile
    leeway: int
    token_uses: frozenset[str]

    @functools.cached_property
    def checks(self) -> tuple[ClaimCheck, ...]:
        """The fixed checks, then the provider's own."""
        return CLAIM_CHECKS + self.profile.extra_checks


def check_expiry(claims: Claims, rules: ClaimRules, now: float) -> None:
    expires = _numeric_date(claims, "exp", Reason.INVALID_EXP, missing=Reason.MISSING_EXP)
    if expires is not None and now >= expires + rules.leeway:
        raise TokenRejected(Reason.TOKEN_EXPIRED)


def check_not_before(claims: Claims, rules: ClaimRules, now: float) -> None:
    not_before = _numeric_date(claims, "nbf", Reason.INVALID_NBF)
    if not_before is not None and now + rules.leeway < not_before:
        raise TokenRejected(Reason.TOKEN_NOT_YET_VALID)


def check_issued_at(claims: Claims, rules: ClaimRules, now: float) -> None:
    issued_at = _numeric_date(claims, "iat", Reason.INVALID_IAT)
    if issued_at is not None and now + rules.leeway < issued_at:
        raise TokenRejected(Reason.TOKEN_ISSUED_IN_FUTURE)


def check_audience(claims: Claims, rules: ClaimRules, now: float) -> None:
    audience = claims.get("aud")
    fallback = rules.profile.audience_fallback_claim
    if audience is None and fallback is not None:
        # Cognito access tokens name their app client in `client_id` and carry no `aud`.
        named = claims.get(fallback)
        if not isinstance(named, str):
            raise TokenRejected(Reason.INVALID_AUDIENCE, f"neither 'aud' nor a string '{fallback}'")
        if named not in rules.audiences:
            raise TokenRejected(Reason.INVALID_AUDIENCE, f"'{fallback}' is not an accepted audience")
        return
    if isinstance(audience, str):
        accepted = audience in rules.audiences
    elif isinstance(audience, list) and audience and all(isinstance(a, str) for a in audience):
        accepted = not rules.audiences.isdisjoint(audience)
    else:
        raise TokenRejected(Reason.INVALID_AUDIENCE, "'aud' is missing or not a string or list of strings")
    if not accepted:
        raise TokenRejected(Reason.INVALID_AUDIENCE, "no accepted audience in 'aud'")


def check_token_use(claims: Claims, rules: ClaimRules, now: float) -> None:
    # Cognito marks every token; other providers rarely do, but a token that says what it is for
    # must say something TOKEN_USE accepts (an ID token is not an access token).
    token_use = claims.get("token_use")
    if token_use is None and not rules.profile.requires_token_use:
        return
    if not isinstance(token_use, str) or token_use not in rules.token_uses:
        raise TokenRejected(Reason.INVALID_TOKEN_USE, f"token_use {str(token_use)[:32]!r}")


def check_subject(claims: Claims, rules: ClaimRules, now: float) -> None:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise TokenRejected(Reason.MISSING_SUB, "the token needs a string 'sub'")


def check_jwt_id(claims: Claims, rules: ClaimRules, now: float) -> None:
    # RFC 7519 section 4.1.7: a case-sensitive string. Anything keyed on it (a replay or deny list, a log
    # search) needs it to be one, and PyJWT refuses any other type too.
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise TokenRejected(Reason.INVALID_JTI, "'jti' is not a string")


def _numeric_date(claims: Claims, name: str, invalid: Reason, missing: Reason | None = None) -> int | None:
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


# What each check reads, in explain's words -----------------------------------------------------------


def _describe_date(name: str) -> Callable[[Claims, ClaimRules, float], str]:
    def describe(claims: Claims, rules: ClaimRules, at: float) -> str:
        value = claims.get(name)
        if value is None:
            return f"{name} absent"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{name} {short(value)}"
        try:
            when = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, OSError, ValueError):
            return f"{name} {value}"
        seconds = round(value - at)
        relative = f"in {seconds} s" if seconds >= 0 else f"{-seconds} s ago"
        return f"{name} {when} ({relative})"

    return describe


def _describe_audience(claims: Claims, rules: ClaimRules, at: float) -> str:
    accepted = ", ".join(sorted(rules.audiences)) or "(none)"
    fallback = rules.profile.audience_fallback_claim
    if "aud" not in claims and fallback is not None:
        named = short(claims.get(fallback))
        return f"{fallback} {named} ({rules.profile.name}, no aud; accepted: {accepted})"
    return f"aud {short(claims.get('aud'))} (accepted: {accepted})"


def _describe_token_use(claims: Claims, rules: ClaimRules, at: float) -> str:
    value = claims.get("token_use")
    if value is None and not rules.profile.requires_token_use:
        requiring = " and ".join(profile.name for profile in PROFILES if profile.requires_token_use)
        return f"token_use absent (only {requiring} requires it)"
    return f"token_use {short(value)}"


def _describe_subject(claims: Claims, rules: ClaimRules, at: float) -> str:
    return f"sub {short(claims.get('sub'))}"


def _describe_jwt_id(claims: Claims, rules: ClaimRules, at: float) -> str:
    if "jti" not in claims:
        return "jti absent"
    return f"jti {json.dumps(claims['jti'], ensure_ascii=False)[:200]}"


def short(value: object) -> str:
    """A claim's value as JSON, cut at 200 characters."""
    text = json.dumps(value, ensure_ascii=False) if value is not None else "absent"
    return text if len(text) <= 200 else text[:200] + "..."


#: Every token's claim checks, in the order they run.
CLAIM_CHECKS = (
    ClaimCheck(check_expiry, _describe_date("exp")),
    ClaimCheck(check_not_before, _describe_date("nbf")),
    ClaimCheck(check_issued_at, _describe_date("iat")),
    ClaimCheck(check_audience, _describe_audience),
    ClaimCheck(check_token_use, _describe_token_use),
    ClaimCheck(check_subject, _describe_subject),
    ClaimCheck(check_jwt_id, _describe_jwt_id),
)
