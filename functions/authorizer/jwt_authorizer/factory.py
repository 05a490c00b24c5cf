"""The one place the authorizer is built: settings, fetcher, key caches, telemetry, pipeline.

The Lambda handler calls `build_authorizer` once per cold start; the tests, `make explain` and the bench
call it too, with fetchers, telemetry and clocks of their own. The order is the cold start's: the
settings, `requests` and the key caches come first, and with `prefetch` every issuer's keys start loading
in the background (JWKS_PREFETCH) before PyJWT, cryptography and Powertools are imported, so the wait for
the identity provider overlaps that work instead of following it. This module imports none of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from .config import Settings
from .events import EventAdapter, TokenEvent
from .http_api import EventShapes, HttpApiEvent
from .jwks import DeferredObserver, HttpJsonFetcher, JsonFetcher, build_caches
from .urls import HTTPS_ONLY, LOOPBACK_ONLY, PlainHttp

if TYPE_CHECKING:
    from .authorizer import AuthorizerService
    from .dpop_replay import ReplayStore
    from .telemetry import Telemetry

DEFAULT_SERVICE_NAME = "jwt-authorizer"
DEFAULT_METRICS_NAMESPACE = "JwtAuthorizer"


class Edge(NamedTuple):
    """Where the authorizer runs, as its handler sees it: the event shapes it answers and the hosts plain
    http may reach. Deployed, that is API Gateway's TOKEN event or an HTTP API's payload 2.0 event, and
    this machine's loopback only."""

    events: EventAdapter = EventShapes(TokenEvent(), HttpApiEvent())
    plain_http: PlainHttp = LOOPBACK_ONLY


DEPLOYED = Edge()
#: In a Lambda execution environment (every one sets AWS_LAMBDA_RUNTIME_API; the local stack's does not):
#: no plain http at all. Its 127.0.0.1 is the function's own sandbox, where the Runtime API listens.
IN_LAMBDA = DEPLOYED._replace(plain_http=HTTPS_ONLY)


def service_name(env: Mapping[str, str]) -> str:
    """The name the logs and metrics carry (POWERTOOLS_SERVICE_NAME)."""
    return env.get("POWERTOOLS_SERVICE_NAME", DEFAULT_SERVICE_NAME)


def build_authorizer(
    config: Mapping[str, str] | Settings,
    *,
    edge: Edge = DEPLOYED,
    fetcher: JsonFetcher | None = None,
    telemetry: Telemetry | None = None,
    prefetch: bool = False,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], float] = time.time,
    replay: ReplayStore | None = None,
) -> AuthorizerService:
    """The authorizer for `config` (the environment, read and validated here, or settings already read).

    `fetcher` defaults to HTTP with `requests`; `telemetry` to Powertools logs and EMF metrics named from
    the environment; `prefetch` (a cold start) starts loading the keys now when JWKS_PREFETCH is on.
    `clock` times the caches and timers, `now` is the wall clock that token times are read against.
    `replay`: the DPoP replay store (default: DynamoDB's DPOP_REPLAY_TABLE, when DPOP is not off).
    """
    env: Mapping[str, str] = {} if isinstance(config, Settings) else config
    settings = config if isinstance(config, Settings) else Settings.from_env(config, edge.plain_http)
    http = None
    if fetcher is None:
        fetcher = http = HttpJsonFetcher(clock=clock)
    reports = DeferredObserver()
    caches = build_caches(settings, fetcher, reports, clock)
    if prefetch and settings.jwks_prefetch:
        for cache in caches.values():
            cache.prefetch()

    # Imported while the keys are on their way.
    from .authorizer import AuthorizerService

    telemetry = telemetry or _cloudwatch_telemetry(env, clock)
    reports.attach(telemetry)  # what the prefetch reported before the logger existed is logged now
    events, sender = edge.events, None
    if settings.sender.request_events:
        from .request_event import RequestEvents
        from .sender import SenderConstraint

        events = RequestEvents(events)  # DPoP modes: API Gateway's REQUEST event, answered as the edge does
        sender = SenderConstraint(settings.sender, replay, now=now)
    return AuthorizerService(
        settings, telemetry, caches, now=now, events=events, connections=http, sender=sender
    )


def _cloudwatch_telemetry(env: Mapping[str, str], clock: Callable[[], float]) -> Telemetry:
    from aws_lambda_powertools import Logger

    from .telemetry import CloudWatchTelemetry, EmfMetrics

    name = service_name(env)
    namespace = env.get("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_METRICS_NAMESPACE)
    return CloudWatchTelemetry(Logger(service=name), EmfMetrics(namespace, name), clock=clock)
