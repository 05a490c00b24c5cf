"""JWT bearer-token authorizer for API Gateway REST APIs: the package's public face.

The modules here are plain and typed. `build_authorizer` (factory.py) is the one place they are wired
together: the Lambda handler calls it once per cold start, and so do the tests, `make explain` and the
bench. Code outside the package uses only the names below; a module's own unit tests may reach in.

Each name is imported on first use, not with the package: the handler's cold start imports `factory`
first, so the keys are on their way before PyJWT loads (factory.py says why).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .authorizer import AuthorizerService
    from .claims import CLAIM_CHECKS, IssuerRules
    from .compact import UnverifiedToken, bearer_token, decode_unverified
    from .config import SUPPORTED_ALGORITHMS, Settings
    from .errors import (
        HINTS,
        ConfigurationError,
        JwksFetchError,
        Reason,
        TokenRejected,
        VerificationUnavailable,
    )
    from .events import AuthorizerUnavailableError, EventAdapter, TokenEvent
    from .factory import DEPLOYED, Edge, build_authorizer
    from .jwks import DeferredObserver, HttpJsonFetcher, JsonFetcher, JwksCache, JwksLoader
    from .keys import MIN_RSA_BITS, ParsedJwks, VerificationKey, parse_jwks
    from .method_arn import MethodArn
    from .policy import MAX_CONTEXT_BYTES, build_context, build_policy
    from .providers import (
        CLIENT_ID_CLAIMS,
        PROFILES,
        SCOPE_CLAIMS,
        ClaimCheck,
        ProviderProfile,
        is_cognito_issuer,
    )
    from .request import AccessRequest, Decision
    from .request_event import RequestEvents, read_request_event
    from .scopes import granted_scopes, scopes_of
    from .sender import DpopMode, SenderConstraint, SenderSettings
    from .telemetry import (
        ALLOW_FLUSH_SECONDS,
        DECISION_METRIC,
        INTERNAL_ERROR_REASON,
        JWKS_FETCH_METRIC,
        KEYS_UNAVAILABLE_REASON,
        OUTCOME_DIMENSION,
        REASON_DIMENSION,
        SERVICE_DIMENSION,
        CloudWatchTelemetry,
        DecisionOutcome,
        EmfMetrics,
        FetchOutcome,
        Telemetry,
    )
    from .urls import LOOPBACK_ONLY, PlainHttp
    from .verify import TokenVerifier

__all__ = [
    "ALLOW_FLUSH_SECONDS",
    "CLAIM_CHECKS",
    "CLIENT_ID_CLAIMS",
    "DECISION_METRIC",
    "DEFAULT_PROOF_ALGORITHMS",
    "DEPLOYED",
    "HINTS",
    "INTERNAL_ERROR_REASON",
    "JWKS_FETCH_METRIC",
    "KEYS_UNAVAILABLE_REASON",
    "LOOPBACK_ONLY",
    "MAX_CONTEXT_BYTES",
    "MIN_RSA_BITS",
    "OUTCOME_DIMENSION",
    "PROFILES",
    "REASON_DIMENSION",
    "SCOPE_CLAIMS",
    "SERVICE_DIMENSION",
    "SUPPORTED_ALGORITHMS",
    "AccessRequest",
    "AuthorizerService",
    "AuthorizerUnavailableError",
    "ClaimCheck",
    "CloudWatchTelemetry",
    "ConfigurationError",
    "Confirmation",
    "Decision",
    "DecisionOutcome",
    "DeferredObserver",
    "DpopMode",
    "DynamoDbReplayStore",
    "Edge",
    "EmfMetrics",
    "EventAdapter",
    "FetchOutcome",
    "HttpJsonFetcher",
    "IssuerRules",
    "JsonFetcher",
    "JwksCache",
    "JwksFetchError",
    "JwksLoader",
    "MethodArn",
    "ParsedJwks",
    "PlainHttp",
    "ProofRules",
    "ProviderProfile",
    "Reason",
    "ReplayStore",
    "RequestEvents",
    "SenderConstraint",
    "SenderSettings",
    "Settings",
    "Telemetry",
    "TokenEvent",
    "TokenRejected",
    "TokenVerifier",
    "UnverifiedToken",
    "VerificationKey",
    "VerificationUnavailable",
    "VerifiedProof",
    "access_token_hash",
    "bearer_token",
    "build_authorizer",
    "build_context",
    "build_policy",
    "decode_unverified",
    "granted_scopes",
    "is_cognito_issuer",
    "jwk_thumbprint",
    "parse_jwks",
    "read_request_event",
    "replay_key",
    "scopes_of",
    "verify_proof",
]
#: The modules the names of `__all__` live in (the type checker reads each from its import above).
_HOMES = (
    "authorizer",
    "claims",
    "compact",
    "config",
    "dpop",
    "dpop_replay",
    "errors",
    "events",
    "factory",
    "jwks",
    "keys",
    "method_arn",
    "policy",
    "providers",
    "request",
    "request_event",
    "scopes",
    "sender",
    "telemetry",
    "urls",
    "verify",
)


def __getattr__(name: str) -> Any:
    if name in __all__:
        for home in _HOMES:
            module = importlib.import_module(f".{home}", __name__)
            if name in vars(module):
                globals()[name] = vars(module)[name]
                return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
