"""The allow count: kept in memory, published at most once a minute, and never left behind by a call."""

from __future__ import annotations

import json
import logging

import pytest

from devkit.clock import FakeClock
from jwt_authorizer.errors import Reason
from jwt_authorizer.telemetry import (
    ALLOW_FLUSH_SECONDS,
    DECISION_METRIC,
    JWKS_FETCH_METRIC,
    CloudWatchTelemetry,
    EmfMetrics,
)
from tests.support.providers import RecordedMetrics

pytestmark = pytest.mark.unit

ALLOW = (DECISION_METRIC, {"outcome": "allow", "reason": "valid"})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def metrics() -> RecordedMetrics:
    return RecordedMetrics()


@pytest.fixture
def telemetry(metrics: RecordedMetrics, clock: FakeClock) -> CloudWatchTelemetry:
    return CloudWatchTelemetry(logging.getLogger("tests.telemetry"), metrics, clock=clock)


def allows(metrics: RecordedMetrics) -> list[int]:
    return [value for name, value, dimensions in metrics.published if (name, dimensions) == ALLOW]


def test_allowed_calls_are_counted_and_published_once_the_minute_is_up(
    telemetry: CloudWatchTelemetry, metrics: RecordedMetrics, clock: FakeClock
) -> None:
    for _ in range(3):
        telemetry.allowed()
    clock.advance(ALLOW_FLUSH_SECONDS - 1)
    telemetry.allowed()
    assert metrics.published == []  # within the minute: nothing written on the allow path

    clock.advance(1)
    telemetry.allowed()

    assert metrics.published == [(DECISION_METRIC, 5, {"outcome": "allow", "reason": "valid"})]


def test_the_count_is_published_every_minute_under_steady_traffic(
    telemetry: CloudWatchTelemetry, metrics: RecordedMetrics, clock: FakeClock
) -> None:
    for _ in range(300):  # one call every second for five minutes
        clock.advance(1)
        telemetry.allowed()

    assert allows(metrics) == [60, 60, 60, 60, 60]


def test_the_first_call_after_an_idle_minute_publishes_what_was_counted_before(
    telemetry: CloudWatchTelemetry, metrics: RecordedMetrics, clock: FakeClock
) -> None:
    telemetry.allowed()
    telemetry.allowed()
    clock.advance(10 * ALLOW_FLUSH_SECONDS)  # the container sits idle; nothing can publish meanwhile
    assert metrics.published == []

    telemetry.allowed()

    assert allows(metrics) == [3]


def test_any_other_decision_publishes_the_allows_before_its_own_count(
    telemetry: CloudWatchTelemetry, metrics: RecordedMetrics
) -> None:
    telemetry.allowed()
    telemetry.allowed()

    telemetry.rejected(Reason.TOKEN_EXPIRED, {}, "GET /messages")
    telemetry.jwks_fetched("https://issuer.example.com", 2, (), "expired")

    assert metrics.published == [
        (DECISION_METRIC, 2, {"outcome": "allow", "reason": "valid"}),
        (DECISION_METRIC, 1, {"outcome": "unauthorized", "reason": "token_expired"}),
        (JWKS_FETCH_METRIC, 1, {"outcome": "ok"}),
    ]


def test_nothing_is_published_for_a_minute_without_allows(
    telemetry: CloudWatchTelemetry, metrics: RecordedMetrics, clock: FakeClock
) -> None:
    clock.advance(ALLOW_FLUSH_SECONDS)
    telemetry.route_denied("POST /messages", "user-123", ["messages:write"])

    assert metrics.published == [(DECISION_METRIC, 1, {"outcome": "deny", "reason": "insufficient_scope"})]


def test_the_emf_line_names_the_metric_its_namespace_and_every_dimension(
    capsys: pytest.CaptureFixture[str],
) -> None:
    EmfMetrics("JwtAuthorizer", "jwt-authorizer")(DECISION_METRIC, 7, {"outcome": "allow", "reason": "valid"})

    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "JwtAuthorizer"
    assert directive["Metrics"] == [{"Name": "Decision", "Unit": "Count"}]
    assert sorted(directive["Dimensions"][0]) == ["outcome", "reason", "service"]
    assert (line["Decision"], line["outcome"], line["reason"], line["service"]) == (
        [7.0],
        "allow",
        "valid",
        "jwt-authorizer",
    )
