"""Structured logs and CloudWatch metrics (EMF) of what the authorizer decides and fetches.

The warm Allow path writes nothing: a Powertools log line costs about twice a signature check, and API
Gateway's access log can record the principalId of every allowed call. Allows are counted in memory and
published at most once a minute; rejections, failures and JWKS fetches are logged and counted at once.
Nothing here ever receives the raw token or a signature.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

#: Longest attacker-controlled string (kid, iss, sub) copied into a log line.
MAX_LOGGED_CHARS = 128
ALLOW_FLUSH_SECONDS = 60.0


def clip(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text[:MAX_LOGGED_CHARS]


class Telemetry:
    def __init__(
        self,
        logger: logging.Logger | Any,
        namespace: str,
        service: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._namespace = namespace
        self._service = service
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
        self._count("Decision", outcome="deny", reason="insufficient_scope")

    def rejected(self, reason: str, fields: dict[str, object], route: str | None) -> None:
        self._logger.info(
            "token rejected",
            extra={"reason": reason, "route": clip(route)}
            | {name: clip(value) for name, value in fields.items()},
        )
        self._count("Decision", outcome="unauthorized", reason=reason)

    def unavailable(self, issuer: str | None, detail: str, route: str | None) -> None:
        self._logger.error(
            "keys unavailable: failing closed", extra={"iss": clip(issuer), "detail": detail, "route": route}
        )
        self._count("Decision", outcome="error", reason="keys_unavailable")

    def internal_error(self, route: str | None) -> None:
        # exc_info carries our code's traceback; the event (and so the token) is never passed in.
        self._logger.exception("authorizer failed unexpectedly: failing closed", extra={"route": route})
        self._count("Decision", outcome="error", reason="internal_error")

    # JWKS ----------------------------------------------------------------------------------------------

    def jwks_fetched(self, issuer: str, key_count: int, skipped: tuple[str, ...], reason: str) -> None:
        self._logger.info(
            "JWKS fetched",
            extra={"iss": issuer, "keys": key_count, "skipped_keys": list(skipped), "trigger": reason},
        )
        self._count("JwksFetch", outcome="ok")

    def jwks_fetch_failed(self, issuer: str, error: str, serving_stale: bool) -> None:
        self._logger.error(
            "JWKS fetch failed", extra={"iss": issuer, "error": error, "serving_cached_keys": serving_stale}
        )
        self._count("JwksFetch", outcome="failed")

    # Metrics -------------------------------------------------------------------------------------------

    def flush_allowed(self) -> None:
        count, self._allowed_since_flush = self._allowed_since_flush, 0
        self._last_allow_flush = self._clock()
        if count:
            self._emit("Decision", count, {"outcome": "allow", "reason": "valid"})

    def _count(self, name: str, **dimensions: str) -> None:
        self.flush_allowed()
        self._emit(name, 1, dimensions)

    def _emit(self, name: str, value: int, dimensions: dict[str, str]) -> None:
        # Imported on first use: the warm Allow path never needs the metrics module.
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(
            name=name,
            unit=MetricUnit.Count,
            value=value,
            namespace=self._namespace,
            default_dimensions={"service": self._service},
        ) as metric:
            for dimension, dimension_value in dimensions.items():
                metric.add_dimension(name=dimension, value=dimension_value)
