"""The two families of failure, kept apart until the handler translates them.

`TokenRejected`: the token is not acceptable, so the caller gets 401.
`VerificationUnavailable`: we could not check the token (no usable keys), so we fail closed with a
server error that API Gateway shows as 5xx, never as Allow and never as 401.
"""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class Reason(StrEnum):
    """Why a token is refused (401): the `reason` of the log line and of the `Decision` metric.

    A public contract: alarms and dashboards filter on these values, `make explain` has a hint for each,
    and docs/rejection-reasons.md says what each means. Add one only with its hint and its row there.
    """

    # The event and the Authorization value
    MALFORMED_EVENT = "malformed_event"
    MALFORMED_HEADER = "malformed_header"
    TOKEN_TOO_LARGE = "token_too_large"
    MALFORMED_TOKEN = "malformed_token"
    # The JWS header
    ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
    UNSUPPORTED_HEADER = "unsupported_header"
    MISSING_KID = "missing_kid"
    INVALID_TYP = "invalid_typ"
    # The issuer, its key and the signature
    UNTRUSTED_ISSUER = "untrusted_issuer"
    UNKNOWN_KID = "unknown_kid"
    ALGORITHM_MISMATCH = "algorithm_mismatch"
    INVALID_SIGNATURE = "invalid_signature"
    # The claims
    MISSING_EXP = "missing_exp"
    INVALID_EXP = "invalid_exp"
    INVALID_NBF = "invalid_nbf"
    INVALID_IAT = "invalid_iat"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_NOT_YET_VALID = "token_not_yet_valid"
    TOKEN_ISSUED_IN_FUTURE = "token_issued_in_future"
    INVALID_AUDIENCE = "invalid_audience"
    INVALID_TOKEN_USE = "invalid_token_use"
    MISSING_SUB = "missing_sub"
    INVALID_JTI = "invalid_jti"
    INVALID_SCOPE_CLAIM = "invalid_scope_claim"
    # What the authorizer passes on
    CONTEXT_TOO_LARGE = "context_too_large"
    # Sender-constrained tokens: DPoP (RFC 9449) and certificate binding (RFC 8705)
    INVALID_CNF = "invalid_cnf"
    DPOP_BOUND_TOKEN_AS_BEARER = "dpop_bound_token_as_bearer"
    DPOP_REQUIRED = "dpop_required"
    DPOP_MISSING_PROOF = "dpop_missing_proof"
    DPOP_MULTIPLE_PROOFS = "dpop_multiple_proofs"
    DPOP_MALFORMED_PROOF = "dpop_malformed_proof"
    DPOP_INVALID_TYP = "dpop_invalid_typ"
    DPOP_ALGORITHM_NOT_ALLOWED = "dpop_algorithm_not_allowed"
    DPOP_INVALID_KEY = "dpop_invalid_key"
    DPOP_INVALID_SIGNATURE = "dpop_invalid_signature"
    DPOP_MISSING_CLAIM = "dpop_missing_claim"
    DPOP_HTM_MISMATCH = "dpop_htm_mismatch"
    DPOP_HTU_MISMATCH = "dpop_htu_mismatch"
    DPOP_IAT_OUT_OF_WINDOW = "dpop_iat_out_of_window"
    DPOP_ATH_MISMATCH = "dpop_ath_mismatch"
    DPOP_TOKEN_NOT_BOUND = "dpop_token_not_bound"
    DPOP_KEY_MISMATCH = "dpop_key_mismatch"
    DPOP_REPLAYED = "dpop_replayed"
    CERTIFICATE_MISSING = "certificate_missing"
    CERTIFICATE_MISMATCH = "certificate_mismatch"


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
