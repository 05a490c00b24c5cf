"""Lambda entry point of the API Gateway TOKEN authorizer.

Configuration is read and validated once per cold start: a bad variable stops the function at init with a
message naming it. The JWKS caches and HTTP session live in `_service` across warm invocations.

The cold start is ordered for the network: the settings, `requests` and the key caches come first, and
every issuer's keys start loading in the background (JWKS_PREFETCH) before PyJWT, Powertools and the rest
of the pipeline are imported, so the wait for the identity provider overlaps that work instead of
following it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from jwt_authorizer.config import Settings
from jwt_authorizer.jwks import DeferredObserver, HttpJsonFetcher, JwksCache, build_caches


class _Keys(NamedTuple):
    settings: Settings
    fetcher: HttpJsonFetcher
    caches: dict[str, JwksCache]
    #: What the caches report before the logger exists; attached to the telemetry once it does.
    reports: DeferredObserver


def _start_keys(clock: Callable[[], float] = time.monotonic) -> _Keys:
    settings = Settings.from_env(os.environ)
    fetcher = HttpJsonFetcher(clock=clock)
    reports = DeferredObserver()
    caches = build_caches(settings, fetcher, reports, clock)
    if settings.jwks_prefetch:
        for cache in caches.values():
            cache.prefetch()
    return _Keys(settings, fetcher, caches, reports)


_keys = _start_keys()

# Imported while the keys are on their way.
from aws_lambda_powertools import Logger  # noqa: E402

from jwt_authorizer import snapstart  # noqa: E402
from jwt_authorizer.service import AuthorizerService  # noqa: E402
from jwt_authorizer.telemetry import CloudWatchTelemetry, EmfMetrics  # noqa: E402

SERVICE_NAME = os.environ.get("POWERTOOLS_SERVICE_NAME", "jwt-authorizer")
logger = Logger(service=SERVICE_NAME)


def _build_service(
    keys: _Keys, clock: Callable[[], float] = time.monotonic, now: Callable[[], float] = time.time
) -> AuthorizerService:
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "JwtAuthorizer")
    telemetry = CloudWatchTelemetry(logger, EmfMetrics(namespace, SERVICE_NAME), clock=clock)
    keys.reports.attach(telemetry)
    return AuthorizerService(keys.settings, telemetry, keys.caches, now=now)


_service = _build_service(_keys)


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return _service.handle(event)


def _before_snapshot() -> None:
    snapstart.before_snapshot(_service.caches.values(), _keys.fetcher)


def _after_restore() -> None:
    snapstart.after_restore(
        _service.caches.values(), _service.token_cache, _service.telemetry, _keys.settings.jwks_prefetch
    )


snapstart.register(_before_snapshot, _after_restore)


def current_service() -> AuthorizerService:
    """The pipeline this container runs, with the caches its warm invocations share (for tests, bench)."""
    return _service


def reset(clock: Callable[[], float] = time.monotonic, now: Callable[[], float] = time.time) -> None:
    """Rebuild from the current environment with empty caches, as a new cold start would (for tests,
    which may pass clocks of their own: `clock` for the caches and timers, `now` for token times)."""
    global _keys, _service
    _keys = _start_keys(clock)
    _service = _build_service(_keys, clock, now)
