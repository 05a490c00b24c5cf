"""A small run of the load test on the local stack (`make load` runs the full one)."""

from __future__ import annotations

from tools.load import run_load


def test_mixed_traffic_with_a_key_rotation_midway_gets_only_right_answers() -> None:
    # Given the local stack from template.yaml and tokens from its provider, valid, forged and
    # under-scoped in turn; when 300 requests go through at concurrency 50 (as many connections open at
    # once as in `make load`) and the provider's key rotates at request 150: every answer is the expected
    # one and nothing leaks into the logs.
    report = run_load(total=300, concurrency=50, time_limit_seconds=120)

    assert (report.requests, report.wrong_answers, report.server_errors, report.examples) == (300, 0, 0, [])
    assert report.by_kind == {"valid": 100, "forged": 100, "under-scoped": 100}
    assert report.token_leaks == 0
    # Tokens minted after the rotation carry the new kid, and the authorizer found it with one refetch:
    # a rotation under load costs one JWKS fetch, not one per request.
    first_kid, second_kid = report.signing_kids
    assert first_kid != second_kid
    assert report.jwks_fetches == 2
