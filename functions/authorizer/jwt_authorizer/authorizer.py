"""The authorizer a Lambda container runs: the pipeline behind one event adapter, and its lifecycle.

`build_authorizer` (factory.py) makes it. Here sits the single error boundary: whatever the pipeline
raises is told to the telemetry once and answered in the event's shape by the adapter (events.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from . import snapstart
from .config import Settings
from .errors import TokenRejected, VerificationUnavailable
from .events import EventAdapter, TokenEvent
from .jwks import HttpJsonFetcher, JwksCache
from .sender import SenderConstraint
from .service import Pipeline
from .telemetry import Telemetry
from .token_cache import VerifiedTokenCache
from .verify import TokenVerifier


class AuthorizerService:
    def __init__(
        self,
        settings: Settings,
        telemetry: Telemetry,
        caches: Mapping[str, JwksCache],
        now: Callable[[], float] = time.time,
        verifier: TokenVerifier | None = None,
        *,
        events: EventAdapter | None = None,
        connections: HttpJsonFetcher | None = None,
        sender: SenderConstraint | None = None,
    ) -> None:
        """`events`: the event shape answered (default TOKEN); `connections`: the HTTP fetcher whose
        pooled connections are closed before a SnapStart snapshot."""
        self.settings = settings
        self.caches = caches
        self._telemetry = telemetry
        self._events: EventAdapter = events or TokenEvent()
        self._connections = connections
        self._pipeline = Pipeline(settings, telemetry, caches, now=now, verifier=verifier, sender=sender)

    @property
    def telemetry(self) -> Telemetry:
        return self._telemetry

    @property
    def verifier(self) -> TokenVerifier:
        """The verifier the pipeline runs: `explain` walks its steps one at a time."""
        return self._pipeline.verifier

    @property
    def token_cache(self) -> VerifiedTokenCache:
        return self._pipeline.token_cache

    def handle(self, event: object) -> dict[str, Any]:
        """Answer API Gateway: the authorizer result, a refusal (401) or an unavailable error (5xx)."""
        try:
            return self.authorize(event)
        except TokenRejected as rejection:
            self._telemetry.rejected(rejection.reason, _rejection_fields(rejection), self._route_of(event))
            return self._events.refused(rejection)
        except VerificationUnavailable as failure:
            self._telemetry.unavailable(failure.issuer, failure.detail, self._route_of(event))
            return self._events.unavailable()
        except Exception:
            self._telemetry.internal_error(self._route_of(event))
            return self._events.unavailable()

    def authorize(self, event: object) -> dict[str, Any]:
        """The answer for a verified token; raises TokenRejected or VerificationUnavailable."""
        return self._events.allowed(self._pipeline.decide(self._events.request(event)))

    def _route_of(self, event: object) -> str | None:
        return self._events.route_of(event)

    # Lifecycle --------------------------------------------------------------------------------------------

    def before_snapshot(self) -> None:
        snapstart.before_snapshot(self.caches.values(), self._connections)

    def after_restore(self) -> None:
        snapstart.after_restore(
            self.caches.values(), self.token_cache, self._telemetry, self.settings.jwks_prefetch
        )

    def reset(self) -> None:
        """Forget every key and verified token, as a cold start would."""
        for cache in self.caches.values():
            cache.reset()
        self._pipeline.reset()


def _rejection_fields(rejection: TokenRejected) -> dict[str, object]:
    return {"detail": rejection.detail} | rejection.fields
