"""Provider profiles: everything the authorizer knows about one kind of identity provider, in one place.

A profile says how to recognize the provider's issuers and how its tokens differ from RFC 9068's: where
the audience is when there is no `aud`, whether every token says what it is for in `token_use`, and any
extra claim checks its tokens must pass (the extension point: each is a `ClaimCheck`, walked after the
fixed ones by verification and by `explain`). The claims every provider names its client and its scopes
in are listed here too. A new provider quirk is a new profile, or a field of one, here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

#: The claims naming the OAuth client the token was issued to: client_id (RFC 9068), cid (Okta), azp (OIDC).
CLIENT_ID_CLAIMS = ("client_id", "cid", "azp")
#: The claims holding the token's scopes: `scope` (RFC 8693, RFC 9068) and `scp` (Okta, Entra ID).
SCOPE_CLAIMS = ("scope", "scp")


Claims = dict[str, Any]


class ClaimRules(Protocol):
    """What a claim check reads of the rules of the token's issuer (claims.IssuerRules)."""

    @property
    def audiences(self) -> frozenset[str]: ...

    @property
    def profile(self) -> ProviderProfile: ...

    @property
    def leeway(self) -> int: ...

    @property
    def token_uses(self) -> frozenset[str]: ...


class ClaimCheck(NamedTuple):
    """One claim check (claims.py has the fixed ones; a profile's `extra_checks` add its own)."""

    #: Raises TokenRejected when the claims fail it, at the time given (seconds since 1970).
    check: Callable[[Claims, ClaimRules, float], None]
    #: What the token states for this check, in `explain`'s words.
    describe: Callable[[Claims, ClaimRules, float], str]


@dataclass(frozen=True)
class ProviderProfile:
    #: How the explanation names the provider ("Cognito").
    name: str
    #: How the explanation names one of its issuers ("an Amazon Cognito user pool"); "" for any provider.
    issuer_kind: str
    #: True for an issuer of this provider.
    recognizes: Callable[[str], bool]
    #: The claim that names the audience when a token has no `aud` (Cognito access tokens: client_id).
    audience_fallback_claim: str | None = None
    #: Every token of this provider carries a `token_use` (elsewhere it is checked only when present).
    requires_token_use: bool = False
    #: Checks this provider's tokens must pass besides the fixed ones (claims.CLAIM_CHECKS).
    extra_checks: tuple[ClaimCheck, ...] = ()


#: An Amazon Cognito user pool's issuer: https://cognito-idp.<region>.amazonaws.com/<region>_<id>.
_COGNITO_ISSUER = re.compile(
    r"https://cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P=region)_[A-Za-z0-9]+"
)


def is_cognito_issuer(issuer: str) -> bool:
    """True for an Amazon Cognito user pool, whose access tokens carry `client_id` and no `aud`."""
    return _COGNITO_ISSUER.fullmatch(issuer) is not None


#: Amazon Cognito user pools: access tokens carry `client_id` instead of `aud`, and always a `token_use`.
COGNITO = ProviderProfile(
    "Cognito",
    "an Amazon Cognito user pool",
    is_cognito_issuer,
    audience_fallback_claim="client_id",
    requires_token_use=True,
)
#: Any other OpenID provider (Auth0, Okta, Entra ID, Keycloak...): RFC 9068's rules.
GENERIC = ProviderProfile("OpenID provider", "", lambda issuer: True)
#: The profiles tried in order; the first that recognizes an issuer is its profile.
PROFILES = (COGNITO, GENERIC)


def profile_for(issuer: str) -> ProviderProfile:
    return next(profile for profile in PROFILES if profile.recognizes(issuer))
