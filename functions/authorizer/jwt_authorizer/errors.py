"""The two families of failure, kept apart until the handler translates them.

`TokenRejected`: the token is not acceptable, so the caller gets 401.
`VerificationUnavailable`: we could not check the token (no usable keys), so we fail closed with a
server error that API Gateway shows as 5xx, never as Allow and never as 401.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum, unique
from types import MappingProxyType


@unique
class Reason(StrEnum):
    """Why a token is refused (401): the `reason` of the log line and of the `Decision` metric.

    A public contract: alarms and dashboards filter on these values, docs/rejection-reasons.md says what
    each means, and each carries its `hint`: what to do about it, in the words of someone fixing a 401
    (`make explain` prints it). Add one only with its hint and its row there.
    """

    hint: str

    def __new__(cls, value: str, hint: str) -> Reason:
        if not hint.strip():
            raise ValueError(f"the reason {value} needs a hint")
        member = str.__new__(cls, value)
        member._value_ = value
        member.hint = hint
        return member

    # The event and the Authorization value
    MALFORMED_EVENT = (
        "malformed_event",
        "the event is neither a TOKEN authorizer event with a string methodArn nor an HTTP API's payload"
        " 2.0 REQUEST event with a routeArn and routeKey: is the authorizer a TOKEN authorizer (REST API),"
        " or a Lambda authorizer with payload format 2.0 (HTTP API)?",
    )
    MALFORMED_HEADER = (
        "malformed_header",
        "send exactly 'Authorization: Bearer <token>': one space, one compact JWS.",
    )
    TOKEN_TOO_LARGE = (
        "token_too_large",
        "larger than any access token should be; is it an ID token full of groups?",
    )
    MALFORMED_TOKEN = (
        "malformed_token",
        "the token is not three base64url parts of JSON; was it cut or wrapped when copied?",
    )
    # The JWS header
    ALGORITHM_NOT_ALLOWED = (
        "algorithm_not_allowed",
        "add the token's alg to ALGORITHMS if your provider really signs with it.",
    )
    UNSUPPORTED_HEADER = (
        "unsupported_header",
        "the token uses JWS extensions (crit, b64) that the authorizer does not support.",
    )
    MISSING_KID = (
        "missing_kid",
        "the provider must name its signing key in the header's kid.",
    )
    INVALID_TYP = (
        "invalid_typ",
        "REQUIRE_AT_JWT_TYP is on: only RFC 9068 access tokens (typ at+jwt) pass. Is this"
        " an ID token, or does your provider not mark its access tokens? Then leave REQUIRE_AT_JWT_TYP off.",
    )
    # The issuer, its key and the signature
    UNTRUSTED_ISSUER = (
        "untrusted_issuer",
        "ISSUER must list the token's iss exactly, character for character.",
    )
    UNKNOWN_KID = (
        "unknown_kid",
        "the issuer does not publish this key: a token from another tenant or environment,"
        " a key rotated away, or a JWKS_URI that points at another issuer.",
    )
    ALGORITHM_MISMATCH = (
        "algorithm_mismatch",
        "the published key cannot verify this alg (or its JWK alg names another).",
    )
    INVALID_SIGNATURE = (
        "invalid_signature",
        "the token was altered, or signed by a key other than the one its kid names"
        " (another issuer's key with the same kid is still refused).",
    )
    # The claims
    MISSING_EXP = (
        "missing_exp",
        "the authorizer requires exp; every access token should carry one.",
    )
    INVALID_EXP = (
        "invalid_exp",
        "exp must be a JSON number of seconds since 1970 (not a string, not milliseconds);"
        " the provider issues malformed tokens.",
    )
    INVALID_NBF = (
        "invalid_nbf",
        "nbf must be a JSON number of seconds since 1970 (not a string, not milliseconds);"
        " the provider issues malformed tokens.",
    )
    INVALID_IAT = (
        "invalid_iat",
        "iat must be a JSON number of seconds since 1970 (not a string, not milliseconds);"
        " the provider issues malformed tokens.",
    )
    TOKEN_EXPIRED = (
        "token_expired",
        "get a fresh token; if clocks disagree, LEEWAY_SECONDS allows some skew.",
    )
    TOKEN_NOT_YET_VALID = (
        "token_not_yet_valid",
        "the token's nbf is in the future: check the clocks of the issuer and here.",
    )
    TOKEN_ISSUED_IN_FUTURE = (
        "token_issued_in_future",
        "the token's iat is in the future: check the clocks of the issuer and here.",
    )
    INVALID_AUDIENCE = (
        "invalid_audience",
        "set AUDIENCE (or this issuer's ISSUER_AUDIENCES entry) to the value your tokens"
        " carry in aud: the API identifier (Auth0), api://default or your own (Okta), the application ID URI"
        " or client id (Entra ID), the app client id (Cognito, whose access tokens carry client_id instead).",
    )
    INVALID_TOKEN_USE = (
        "invalid_token_use",
        "this is not an access token (Cognito ID tokens say token_use id); send the"
        " access token, or set TOKEN_USE=access,id if ID tokens are really meant to call the API.",
    )
    MISSING_SUB = (
        "missing_sub",
        "the authorizer uses sub as the principal; every token must carry a string sub.",
    )
    INVALID_JTI = (
        "invalid_jti",
        "RFC 7519 makes jti a string; a provider that issues another type is misconfigured.",
    )
    INVALID_SCOPE_CLAIM = (
        "invalid_scope_claim",
        "a scope claim (scope, scp or one named in SCOPE_CLAIMS) has a shape the"
        " authorizer cannot read as a list of names: it must be a space-separated string or an array of"
        " strings.",
    )
    # What the authorizer passes on
    CONTEXT_TOO_LARGE = (
        "context_too_large",
        "sub, iss, the granted names (scope, scp and the SCOPE_CLAIMS values) and"
        " client_id must fit in the 4 KiB the authorizer passes to your functions: is it an ID token full of"
        " groups? Map a claim with fewer names in SCOPE_CLAIMS (app roles rather than groups).",
    )


#: Each reason's hint, by reason.
HINTS: Mapping[Reason, str] = MappingProxyType({reason: reason.hint for reason in Reason})


class TokenRejected(Exception):
    """The bearer token is missing, malformed, forged, expired or not meant for us."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        #: What the token claimed (kid, iss, sub), unverified and for the logs only.
        self.fields: dict[str, object] = {}


class VerificationUnavailable(Exception):
    """The issuer's keys could not be obtained and no usable cached keys remain."""

    def __init__(self, issuer: str, detail: str) -> None:
        super().__init__(f"keys for {issuer} unavailable: {detail}")
        self.issuer = issuer
        self.detail = detail


class JwksFetchError(Exception):
    """One attempt to fetch a discovery document or JWKS failed."""


class ConfigurationError(ValueError):
    """An environment variable has a value the authorizer cannot start with."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
