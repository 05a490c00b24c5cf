"""The two families of failure, kept apart until the handler translates them.

`TokenRejected`: the token is not acceptable, so the caller gets 401.
`VerificationUnavailable`: we could not check the token (no usable keys), so we fail closed with a
server error that API Gateway shows as 5xx, never as Allow and never as 401.
"""

from __future__ import annotations


class TokenRejected(Exception):
    """The bearer token is missing, malformed, forged, expired or not meant for us."""

    def __init__(self, reason: str, detail: str = "") -> None:
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
