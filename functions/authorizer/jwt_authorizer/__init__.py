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
    from .config import Settings
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
    from .jwks import HttpJsonFetcher, JsonFetcher
    from .request import AccessRequest, Decision
    from .telemetry import CloudWatchTelemetry, EmfMetrics, Telemetry

__all__ = [
    "DEPLOYED",
    "HINTS",
    "AccessRequest",
    "AuthorizerService",
    "AuthorizerUnavailableError",
    "CloudWatchTelemetry",
    "ConfigurationError",
    "Decision",
    "Edge",
    "EmfMetrics",
    "EventAdapter",
    "HttpJsonFetcher",
    "JsonFetcher",
    "JwksFetchError",
    "Reason",
    "Settings",
    "Telemetry",
    "TokenEvent",
    "TokenRejected",
    "VerificationUnavailable",
    "build_authorizer",
]
#: Where the names of `__all__` live: the type checker reads them from the imports above.
_HOMES = ("authorizer", "config", "errors", "events", "factory", "jwks", "request", "telemetry")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for home in _HOMES:
            module = importlib.import_module(f".{home}", __name__)
            if name in vars(module):
                value = vars(module)[name]
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
