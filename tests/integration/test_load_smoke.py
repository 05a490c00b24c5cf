"""A small run of the load test (`make load` runs the full one): no wrong answer, no 5xx, under rotation."""

from __future__ import annotations

import pytest

from tests.support.harness import load_handler
from tests.support.jwks_server import JwksServer
from tests.support.load import run_load
from tests.support.tokens import SigningKey, jwks_of, rsa_key


def test_mixed_traffic_with_a_rotation_midway_gets_only_right_answers(
    jwks_server: JwksServer,
    rsa_signing_key: SigningKey,
    rotated_rsa_key: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    handler = load_handler(monkeypatch, jwks_server.issuer)
    report = run_load(
        handler, jwks_server, rsa_signing_key, rotated_rsa_key, rsa_key("forger"), total=300, concurrency=10
    )
    assert (report.requests, report.wrong_answers, report.server_errors) == (300, 0, 0)
    assert report.by_kind == {"valid": 100, "forged": 100, "under-scoped": 100}
    # A cold start, then one refetch for the new kid: rotation under load costs one fetch, not one each.
    assert report.jwks_fetches == 2
