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
        "the event is not one this authorizer answers: a TOKEN event with a string methodArn (REST API,"
        " DPOP off), a REST REQUEST event (DPOP allowed or required), or an HTTP API's payload 2.0 event"
        " with a routeArn and routeKey: does the authorizer's type in API Gateway match DPOP and the API?",
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

    # Sender-constrained tokens: DPoP (RFC 9449) and certificate binding (RFC 8705)
    INVALID_CNF = (
        "invalid_cnf",
        "the provider issues a cnf claim of the wrong shape (RFC 7800: an object; jkt and x5t#S256 strings).",
    )
    DPOP_BOUND_TOKEN_AS_BEARER = (
        "dpop_bound_token_as_bearer",
        "send it as 'Authorization: DPoP <token>' with a 'DPoP: <proof>' header (and deploy with "
        "Dpop allowed or required), or ask the provider for an unbound token.",
    )
    DPOP_REQUIRED = (
        "dpop_required",
        "DPOP=required accepts only 'Authorization: DPoP <token>' with a proof: get a DPoP-bound "
        "token (send a DPoP proof to the token endpoint), or deploy with Dpop allowed.",
    )
    DPOP_MISSING_PROOF = (
        "dpop_missing_proof",
        "send 'DPoP: <proof>' beside 'Authorization: DPoP <token>', one proof per request.",
    )
    DPOP_MULTIPLE_PROOFS = (
        "dpop_multiple_proofs",
        "send exactly one DPoP header.",
    )
    DPOP_MALFORMED_PROOF = (
        "dpop_malformed_proof",
        "the proof is not three base64url parts of JSON; was it cut, wrapped or quoted when copied?",
    )
    DPOP_INVALID_TYP = (
        "dpop_invalid_typ",
        "the proof's header must say typ dpop+jwt; is it an access or ID token sent as the proof?",
    )
    DPOP_ALGORITHM_NOT_ALLOWED = (
        "dpop_algorithm_not_allowed",
        "sign proofs with one of DPOP_ALGORITHMS (the WWW-Authenticate challenge lists them in "
        "algs), or add the client's alg there.",
    )
    DPOP_INVALID_KEY = (
        "dpop_invalid_key",
        "put the client's public key, and only the public key, in the proof's jwk header.",
    )
    DPOP_INVALID_SIGNATURE = (
        "dpop_invalid_signature",
        "the proof was altered, or signed with a key other than the one in its jwk header.",
    )
    DPOP_MISSING_CLAIM = (
        "dpop_missing_claim",
        "a proof for a protected resource carries jti, htm, htu, iat and ath (RFC 9449 sections 4.2 and 7).",
    )
    DPOP_HTM_MISMATCH = (
        "dpop_htm_mismatch",
        "make a new proof for this request's method (htm is case-sensitive: GET, POST).",
    )
    DPOP_HTU_MISMATCH = (
        "dpop_htu_mismatch",
        "make the proof for the URL as the client calls it: the stage in the path on the execute-api "
        "domain, the base path on a custom domain (docs/dpop.md).",
    )
    DPOP_IAT_OUT_OF_WINDOW = (
        "dpop_iat_out_of_window",
        "make a fresh proof for every request; if the client's clock is off, fix it or widen "
        "DPOP_IAT_WINDOW_SECONDS.",
    )
    DPOP_ATH_MISMATCH = (
        "dpop_ath_mismatch",
        "make the proof with the access token it is sent with (ath = base64url(SHA-256(token))).",
    )
    DPOP_TOKEN_NOT_BOUND = (
        "dpop_token_not_bound",
        "the provider issued an unbound token: send a DPoP proof to its token endpoint so it binds "
        "the token, or send this one as Bearer (DPOP=allowed).",
    )
    DPOP_KEY_MISMATCH = (
        "dpop_key_mismatch",
        "sign proofs with the key the token was issued for: a token copied to another client is refused.",
    )
    DPOP_REPLAYED = (
        "dpop_replayed",
        "make a new proof, with a new jti, for every request.",
    )
    CERTIFICATE_MISSING = (
        "certificate_missing",
        "call the API's mutual TLS custom domain with the certificate the token was issued for "
        "(docs/dpop.md).",
    )
    CERTIFICATE_MISMATCH = (
        "certificate_mismatch",
        "present the certificate the token was issued for; a token used with another certificate is refused.",
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
