"""What the authorizer tells the world about what it decides and fetches: the `Telemetry` protocol.

`CloudWatchTelemetry` is the one the function runs: structured logs and CloudWatch metrics (EMF). The
warm Allow path writes nothing: a Powertools log line costs about twice a signature check, and API
Gateway's access log can record the principalId of every allowed call. Allows are counted in memory and
published at most once a minute, at the first call a minute or more after the last publication (an
allowed call, or any other, which publishes them before its own count); rejections, failures and JWKS
fetches are logged and counted at once. What a container counted since its last publication is lost if
it is never called again before Lambda reclaims it: at most the allows of its last minute of traffic.
Nothing here ever receives the raw token or a signature.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, Protocol

from .errors import Reason

# The metrics, a contract that alarms and dashboards read (the template's alarms import these): each one is
# published with the dimensions `service` (POWERTOOLS_SERVICE_NAME), and `outcome`, and `reason` for
# DECISION. A rejection's reason is an errors.Reason value; the other outcomes have one reason each.

#: Every call's decision: dimensions service, outcome (DecisionOutcome), reason.
DECISION_METRIC = "Decision"
#: Every JWKS (or discovery) fetch: dimensions service, outcome (FetchOutcome).
JWKS_FETCH_METRIC = "JwksFetch"
SERVICE_DIMENSION = "service"
OUTCOME_DIMENSION = "outcome"
REASON_DIMENSION = "reason"


class DecisionOutcome(StrEnum):
    ALLOW = "allow"  # reason VALID_REASON
    DENY = "deny"  # reason INSUFFICIENT_SCOPE_REASON: a valid token without the route's scopes (403)
    UNAUTHORIZED = "unauthorized"  # reason: the errors.Reason of the rejection (401)
    ERROR = "error"  # reason KEYS_UNAVAILABLE_REASON or INTERNAL_ERROR_REASON: not checked (5xx)


class FetchOutcome(StrEnum):
    OK = "ok"
    FAILED = "failed"


VALID_REASON = "valid"
INSUFFICIENT_SCOPE_REASON = "insufficient_scope"
KEYS_UNAVAILABLE_REASON = "keys_unavailable"
INTERNAL_ERROR_REASON = "internal_error"

#: Longest attacker-controlled string (kid, iss, sub) copied into a log line.
MAX_LOGGED_CHARS = 128
ALLOW_FLUSH_SECONDS = 60.0


def clip(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text[:MAX_LOGGED_CHARS]


class Telemetry(Protocol):
    """Told of every decision and every key fetch; never given a token or a signature."""

    def allowed(self) -> None: ...

    def route_denied(self, route: str, subject: str, missing_scopes: list[str]) -> None: ...

    def rejected(self, reason: Reason, fields: dict[str, object], route: str | None) -> None: ...

    def unavailable(self, issuer: str | None, detail: str, route: str | None) -> None: ...

    def internal_error(self, route: str | None) -> None: ...

    def jwks_fetched(self, issuer: str, key_count: int, skipped: tuple[str, ...], reason: str) -> None: ...

    def jwks_fetch_failed(self, issuer: str, error: str, serving_stale: bool) -> None: ...

    def flush_allowed(self) -> None:
        """Publish the allows counted so far, and start the next minute from now."""


class MetricEmitter(Protocol):
    def __call__(self, name: str, value: int, dimensions: Mapping[str, str]) -> None:
        """Publish `value` counts of the metric `name` with these dimensions."""


class EmfMetrics:
    """Metrics as CloudWatch embedded metric format lines on stdout, which Lambda ships to CloudWatch."""

    def __init__(self, namespace: str, service: str) -> None:
        self.namespace = namespace
        self.service = service

    def __call__(self, name: str, value: int, dimensions: Mapping[str, str]) -> None:
        # Imported on first use: the warm Allow path never needs the metrics module.
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(
            name=name,
            unit=MetricUnit.Count,
            value=value,
            namespace=self.namespace,
            default_dimensions={SERVICE_DIMENSION: self.service},
        ) as metric:
            for dimension, dimension_value in dimensions.items():
                metric.add_dimension(name=dimension, value=dimension_value)


class CloudWatchTelemetry:
    """Powertools log lines and metrics (EMF by default): what the deployed authorizer reports."""

    def __init__(
        self,
        logger: logging.Logger | Any,
        emit: MetricEmitter,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._emit = emit
        self._clock = clock
        self._allowed_since_flush = 0
        self._last_allow_flush = clock()

    # Decisions ---------------------------------------------------------------------------------------

    def allowed(self) -> None:
        self._allowed_since_flush += 1
        if self._clock() - self._last_allow_flush >= ALLOW_FLUSH_SECONDS:
            self.flush_allowed()

    def route_denied(self, route: str, subject: str, missing_scopes: list[str]) -> None:
        self._logger.info(
            "route denied: insufficient scope",
            extra={"route": clip(route), "sub": clip(subject), "missing_scopes": missing_scopes},
        )
        self._count_decision(DecisionOutcome.DENY, INSUFFICIENT_SCOPE_REASON)

    def rejected(self, reason: Reason, fields: dict[str, object], route: str | None) -> None:
        self._logger.info(
            "token rejected",
            extra={"reason": reason, "route": clip(route)}
            | {name: clip(value) for name, value in fields.items()},
        )
        self._count_decision(DecisionOutcome.UNAUTHORIZED, reason)

    def unavailable(self, issuer: str | None, detail: str, route: str | None) -> None:
        self._logger.error(
            "keys unavailable: failing closed", extra={"iss": clip(issuer), "detail": detail, "route": route}
        )
        self._count_decision(DecisionOutcome.ERROR, KEYS_UNAVAILABLE_REASON)

    def internal_error(self, route: str | None) -> None:
        # exc_info carries our code's traceback; the event (and so the token) is never passed in.
        self._logger.exception("authorizer failed unexpectedly: failing closed", extra={"route": route})
        self._count_decision(DecisionOutcome.ERROR, INTERNAL_ERROR_REASON)

    # JWKS ----------------------------------------------------------------------------------------------

    def jwks_fetched(self, issuer: str, key_count: int, skipped: tuple[str, ...], reason: str) -> None:
        self._logger.info(
            "JWKS fetched",
            extra={"iss": issuer, "keys": key_count, "skipped_keys": list(skipped), "trigger": reason},
        )
        self._count(JWKS_FETCH_METRIC, {OUTCOME_DIMENSION: FetchOutcome.OK})

    def jwks_fetch_failed(self, issuer: str, error: str, serving_stale: bool) -> None:
        self._logger.error(
            "JWKS fetch failed", extra={"iss": issuer, "error": error, "serving_cached_keys": serving_stale}
        )
        self._count(JWKS_FETCH_METRIC, {OUTCOME_DIMENSION: FetchOutcome.FAILED})

    # Metrics -------------------------------------------------------------------------------------------

    def flush_allowed(self) -> None:
        count, self._allowed_since_flush = self._allowed_since_flush, 0
        self._last_allow_flush = self._clock()
        if count:
            self._emit(DECISION_METRIC, count, _decision(DecisionOutcome.ALLOW, VALID_REASON))

    def _count_decision(self, outcome: DecisionOutcome, reason: str) -> None:
        self._count(DECISION_METRIC, _decision(outcome, reason))

    def _count(self, name: str, dimensions: dict[str, str]) -> None:
        self.flush_allowed()
        self._emit(name, 1, dimensions)


def _decision(outcome: DecisionOutcome, reason: str) -> dict[str, str]:
    return {OUTCOME_DIMENSION: outcome, REASON_DIMENSION: reason}
